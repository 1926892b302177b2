"""The registry of attribution methods: one class per method, declaring everything the Explainer, the CLI
and the dashboard need to know about it (name, settings with defaults and help, UI label, cost hint, the
classifier capabilities it requires) next to the code that computes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

from ...classifiers.base import Classifier
from .attribution import Attribution


@dataclass(frozen=True)
class Setting:
    """One tunable setting of a method: becomes ``--<name>`` on ``python -m pipeline explain``."""

    name: str
    type: type
    default: Any
    help: str
    choices: tuple | None = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


class Method:
    """Base class. Subclasses set the class attributes and implement :meth:`explain`.

    Instances are not thread-safe; :class:`~pipeline.analysis.explain.explainer.Explainer` serialises calls.
    """

    name: ClassVar[str]
    label: ClassVar[str]  # shown in the dashboard's method picker
    cost: ClassVar[str]  # measured cost per median review, shown beside the label
    use: ClassVar[str] = ""  # what its colours are good for, shown in the dashboard
    units: ClassVar[str]  # "probability" or "logit"
    requires: ClassVar[frozenset[str]] = frozenset()  # classifier capabilities
    settings_spec: ClassVar[tuple[Setting, ...]] = ()

    def __init__(self, classifier: Classifier, **settings):
        self.clf = classifier
        self.settings = self.resolve(classifier, settings)

    @classmethod
    def applicable_settings(cls, capabilities: frozenset[str]) -> tuple[Setting, ...]:
        """The settings that mean something for a classifier with ``capabilities`` (all, by default)."""
        return cls.settings_spec

    @classmethod
    def defaults(cls, capabilities: frozenset[str] = frozenset()) -> dict[str, Any]:
        return {s.name: s.default for s in cls.applicable_settings(capabilities)}

    @classmethod
    def resolve(cls, classifier: Classifier, given: dict[str, Any]) -> dict[str, Any]:
        """Defaults overlaid with ``given``; unknown names and values outside ``choices`` raise ``ValueError``.
        Settings that do not apply to this classifier (e.g. ``precision`` on the baseline) are dropped."""
        return cls.resolve_for(classifier.capabilities, given)

    @classmethod
    def resolve_for(cls, capabilities: frozenset[str], given: dict[str, Any]) -> dict[str, Any]:
        """:meth:`resolve` from a classifier's capabilities alone (known from a run folder without loading it)."""
        known = {s.name: s for s in cls.settings_spec}
        unknown = sorted(set(given) - set(known))
        if unknown:
            raise ValueError(f"method {cls.name!r} has no setting {unknown[0]!r}; settings: {', '.join(known)}")
        applicable = {s.name for s in cls.applicable_settings(capabilities)}
        out = cls.defaults(capabilities)
        for k, v in given.items():
            if k not in applicable or v is None:
                continue
            s = known[k]
            if s.choices is not None and v not in s.choices:
                raise ValueError(f"{k} must be one of {s.choices}, got {v!r}")
            out[k] = s.type(v)
        return out

    def warm_up(self) -> None:
        """Pay one-off costs (tracing, loading) now rather than on a user's first call."""

    def explain(self, text: str) -> Attribution:
        raise NotImplementedError


METHODS: dict[str, type[Method]] = {}


def register_method(cls: type[Method]) -> type[Method]:
    METHODS[cls.name] = cls
    return cls


def methods_for(capabilities: frozenset[str]) -> list[str]:
    """Names of the methods a classifier with ``capabilities`` supports, in registry order."""
    return [n for n, m in METHODS.items() if m.requires <= capabilities]


# Measured faithfulness and cost per method (benchmarks/faithfulness.py, benchmarks/attributions.py; the file names
# its sources). The defaults below are chosen from it, and the dashboard shows it beside each method's name.
MEASURED_FILE = Path(__file__).with_name("measured.json")
# Latency budgets, p50 seconds per median-length review as measured on the shared 2-core CPU (load ~2-5):
# interactive (the Live page, the error pages' "compute") and batch (the ``Explainer`` API, ``python -m pipeline
# explain`` and the run's precomputed explanations). On minilm-12k-128's median-length reviews IG (1.4 s) is the most
# comprehensive within both; SHAP (11.8 s at 1,000 evaluations) fits only the batch budget and is level with IG there.
LIVE_BUDGET_SECONDS = 10.0
BATCH_BUDGET_SECONDS = 60.0


@cache
def measured() -> dict[str, dict]:
    """``{method: {"comprehensiveness_aopc", "comprehensiveness_ci95", "sufficiency_aopc", ..., "seconds_p50",
    "first_call_seconds"}}`` on the run :data:`MEASURED_FILE` names, from it; methods without a row are unmeasured."""
    return json.loads(MEASURED_FILE.read_text())["methods"] if MEASURED_FILE.is_file() else {}


def best_method(capabilities: frozenset[str], budget_seconds: float) -> str:
    """Of the methods a classifier supports, the most faithful by measured comprehensiveness (AOPC) whose measured
    p50 cost fits ``budget_seconds``; the cheapest measured method when none fits, the first supported when none
    is measured (a classifier kind without measurements, e.g. the TF-IDF baseline: SHAP only)."""
    names = methods_for(capabilities)
    rows = {n: measured()[n] for n in names if n in measured()}
    if not rows:
        return names[0]
    fits = [n for n, r in rows.items() if r["seconds_p50"] <= budget_seconds]
    if not fits:
        return min(rows, key=lambda n: rows[n]["seconds_p50"])
    return max(fits, key=lambda n: rows[n]["comprehensiveness_aopc"])


def default_method(capabilities: frozenset[str]) -> str:
    """The default for explanations that are not interactive (the ``Explainer`` API, ``python -m pipeline explain``,
    a run's analysis): :func:`best_method` within :data:`BATCH_BUDGET_SECONDS` for a classifier with
    ``capabilities`` — IG for a transformer run on the measurements shipped, SHAP for the TF-IDF baseline."""
    return best_method(capabilities, BATCH_BUDGET_SECONDS)


def faithfulness_label(name: str) -> str:
    """``"comprehensiveness 0.31 [0.28, 0.34] · 1.2 s (first call 1.4 s)"`` for a measured method, else ``""``."""
    r = measured().get(name)
    if r is None:
        return ""
    lo, hi = r["comprehensiveness_ci95"]
    first = r.get("first_call_seconds")
    cost = f"{r['seconds_p50']:.1f} s" + (f" (first call {first:.1f} s)" if first is not None else "")
    return f"comprehensiveness {r['comprehensiveness_aopc']:.2f} [{lo:.2f}, {hi:.2f}] · {cost}"
