"""Token attributions with a two-line API::

    explainer = Explainer.from_run("models/my-run")   # the run's default method, or method="shap", "smoothgrad", "grad"
    [attr] = explainer("The acting was not good at all.")           # -> list[Attribution]

Scores are for the positive class. Only the text the model actually sees is explained (after truncation).
The methods and their settings live in the registry (:data:`METHODS`); see each method's class.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path

from ...classifiers.base import Classifier, seen_text
from .attribution import Attribution
from .methods import METHODS, Method, default_method, methods_for

# A transformer run's default: the most faithful method within the batch budget (methods.default_method on the
# measurements in measured.json; tests/test_explain.py checks that they agree). Where ``method`` is None the
# classifier's own default is used (SHAP for the TF-IDF baseline, which has no gradients).
DEFAULT_METHOD = "ig"


def warm_up_methods(classifier: Classifier) -> dict[str, float]:
    """Pay every supported method's one-off costs (tracing the gradient function, loading the int8 copy, importing
    shap) now, on a model load, rather than on a user's first call. Returns seconds per method."""
    out = {}
    for name in methods_for(classifier.capabilities):
        t0 = time.perf_counter()
        METHODS[name](classifier).warm_up()
        out[name] = round(time.perf_counter() - t0, 3)
    return out


def method_for(method: str, capabilities: frozenset[str]) -> type[Method]:
    """The registered method ``method``; ``ValueError`` when unknown or when a classifier with ``capabilities``
    cannot run it (checked before any model loads, e.g. by ``explain --engine ray``)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {tuple(METHODS)}, got {method!r}")
    cls = METHODS[method]
    missing = cls.requires - capabilities
    if missing:
        raise ValueError(
            f"method {method!r} needs a transformer run (a classifier with "
            f"{', '.join(sorted(missing))}); use 'shap' for the baseline"
        )
    return cls


class Explainer:
    """Attributions for a classifier from :func:`pipeline.classifiers.load_classifier`.

    ``method``: a name in :data:`METHODS` (``ig``, ``shap``, ``smoothgrad``, ``grad``; default None: the most
    faithful within the batch budget for this classifier, :func:`~.methods.default_method`); ``settings`` override the method's
    defaults (``METHODS[method].settings_spec`` lists them with their help). Methods that need gradients
    raise ``ValueError`` on a classifier without them (the TF-IDF baseline supports SHAP only, over words).

    One Explainer may be shared by threads (the dashboard caches one per run and method): SHAP's explainer
    and masker keep per-call state, so calls are serialised.
    """

    def __init__(self, classifier: Classifier, method: str | None = None, **settings):
        method = method or default_method(classifier.capabilities)
        cls = method_for(method, classifier.capabilities)
        self.clf = classifier
        self.method = method
        self.impl: Method = cls(classifier, **settings)
        self._lock = threading.Lock()

    @property
    def settings(self) -> dict:
        return self.impl.settings

    @classmethod
    def from_run(cls, run_dir: str | Path, method: str | None = None, **settings) -> Explainer:
        from ...classifiers import load_classifier

        return cls(load_classifier(run_dir), method, **settings)

    def warm_up(self) -> Explainer:
        """Trace/load what the first call would otherwise pay for (the dashboard calls this once per model)."""
        with self._lock:
            self.impl.warm_up()
        return self

    def __call__(self, texts: str | Sequence[str]) -> list[Attribution]:
        if isinstance(texts, str):
            texts = [texts]
        out = []
        for t in texts:
            with self._lock:
                t0 = time.perf_counter()
                a = self.impl.explain(t if t.strip() else "")
                a.seconds = round(time.perf_counter() - t0, 3)
            out.append(a)
        return out

    def visible_text(self, text: str) -> tuple[str, bool]:
        """What the model sees of ``text``: itself, or head + " … " + tail when truncated."""
        return seen_text(self.clf, text)
