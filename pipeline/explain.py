"""Token attributions with a two-line API::

    explainer = Explainer.from_run("models/my-run", method="shap")   # or "ig", "grad"
    [attr] = explainer("The acting was not good at all.")           # -> list[Attribution]

Scores are for the positive class. SHAP explains the calibrated probability; IG and gradient×input
explain the calibrated logit margin (positive minus negative), in which completeness holds.
Only the text the model actually sees is explained (after head+tail truncation).
"""
from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

log = logging.getLogger(__name__)

METHODS = ("shap", "ig", "grad")
DEFAULTS = {"shap": {"max_evals": 300, "batch_size": 64}, "ig": {"steps": 24}, "grad": {}}


@dataclass
class Attribution:
    """One explained text. ``scores[i]`` is the push of ``tokens[i]`` toward *positive*.

    ``units`` is ``"probability"`` (SHAP) or ``"logit"`` (IG, gradient×input). ``base_value`` is the output
    with everything masked (SHAP) or for the baseline input (IG); ``completeness_gap`` is
    ``|sum(scores) - (f(x) - f(baseline))|`` where the method defines it.
    """
    tokens: list[str]
    scores: list[float]
    base_value: float
    prob_pos: float
    method: str
    settings: dict = field(default_factory=dict)
    units: str = "probability"
    completeness_gap: float | None = None
    seconds: float = 0.0
    truncated: bool = False

    def merged_words(self) -> "Attribution":
        """Word-pieces (``##x``) summed into whole words."""
        toks, scs = [], []
        for t, s in zip(self.tokens, self.scores):
            if t.startswith("##") and toks:
                toks[-1] += t[2:]
                scs[-1] += s
            else:
                toks.append(t)
                scs.append(s)
        return Attribution(toks, scs, self.base_value, self.prob_pos, self.method,
                           {**self.settings, "unit": "word"}, self.units, self.completeness_gap, self.seconds,
                           self.truncated)

    def top(self, k: int = 10, sign: int = 1) -> list[tuple[str, float]]:
        """The ``k`` tokens pushing most toward positive (``sign=1``) or negative (``sign=-1``)."""
        order = np.argsort(-sign * np.asarray(self.scores))
        return [(self.tokens[i], self.scores[i]) for i in order[:k] if sign * self.scores[i] > 0]

    def as_pairs(self) -> list[tuple[str, float]]:
        return list(zip(self.tokens, self.scores))

    def to_dict(self) -> dict:
        return asdict(self)


class Explainer:
    """Attributions for a classifier from :func:`pipeline.runs.load_classifier`.

    ``method``: ``shap`` (Partition explainer over the model's own tokenizer; settings ``max_evals``,
    default 300, and ``batch_size``), ``ig`` (Integrated Gradients on word embeddings, ``steps`` default 24,
    [PAD] baseline) or ``grad`` (gradient × input, one backward pass). The TF-IDF baseline supports SHAP
    only, over words.
    """

    def __init__(self, classifier, method: str = "shap", **settings):
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        self.clf = classifier
        self.method = method
        self.settings = {**DEFAULTS[method], **settings}
        self.is_transformer = hasattr(classifier, "grad_logit_wrt_embeddings")
        if method != "shap" and not self.is_transformer:
            raise ValueError(f"method {method!r} needs a transformer run; use 'shap' for the baseline")
        self._shap = None

    @classmethod
    def from_run(cls, run_dir: str | Path, method: str = "shap", **settings) -> "Explainer":
        from .runs import load_classifier

        return cls(load_classifier(run_dir), method, **settings)

    def __call__(self, texts: str | Sequence[str]) -> list[Attribution]:
        if isinstance(texts, str):
            texts = [texts]
        fn = {"shap": self._explain_shap, "ig": self._explain_ig, "grad": self._explain_grad}[self.method]
        out = []
        for t in texts:
            t0 = time.perf_counter()
            a = fn(t if t.strip() else "")
            a.seconds = round(time.perf_counter() - t0, 3)
            out.append(a)
        return out

    # ------------------------------------------------------------ gradient methods (transformer only)

    def _ids(self, text: str) -> tuple[np.ndarray, bool]:
        enc = self.clf.encode([text])
        return enc.ids[0], bool(enc.truncated[0])

    def _tokens(self, ids: np.ndarray) -> list[str]:
        return self.clf.tokenizer.convert_ids_to_tokens(ids.tolist())

    def _explain_grad(self, text: str) -> Attribution:
        ids, trunc = self._ids(text)
        emb = self.clf.embed(ids[None, :])
        mask = np.ones((1, len(ids)), dtype=np.int32)
        margin, grads = self.clf.grad_logit_wrt_embeddings(emb, mask)
        scores = (grads[0] * emb[0]).sum(-1)
        return self._finish(ids, scores, margin[0], None, "grad", trunc, units="logit")

    def _explain_ig(self, text: str) -> Attribution:
        steps = int(self.settings["steps"])
        ids, trunc = self._ids(text)
        base_ids = ids.copy()
        base_ids[1:-1] = self.clf.tokenizer.pad_token_id  # keep [CLS]/[SEP]; content → [PAD]
        x, x0 = self.clf.embed(ids[None, :])[0], self.clf.embed(base_ids[None, :])[0]
        # Riemann midpoint rule: ``steps`` points, one batch (fits easily at 512 tokens × 384 dims).
        alphas = (np.arange(steps, dtype=np.float32) + 0.5) / steps
        path = x0[None] + alphas[:, None, None] * (x - x0)[None]
        mask = np.ones((steps, len(ids)), dtype=np.int32)
        total = np.zeros_like(x)
        for i in range(0, steps, 32):
            _, g = self.clf.grad_logit_wrt_embeddings(path[i:i + 32], mask[i:i + 32])
            total += g.sum(0)
        scores = ((x - x0) * total / steps).sum(-1)
        ends, _ = self.clf.grad_logit_wrt_embeddings(np.stack([x, x0]), mask[:2])
        gap = float(abs(scores.sum() - (ends[0] - ends[1])))
        return self._finish(ids, scores, ends[0], float(ends[1]), "ig", trunc, units="logit", gap=gap)

    def _finish(self, ids, scores, margin, base, method, trunc, units, gap=None) -> Attribution:
        toks = self._tokens(ids)[1:-1]  # drop [CLS]/[SEP]: not words of the review
        prob = float(1 / (1 + np.exp(-margin)))
        return Attribution(toks, [float(s) for s in scores[1:-1]], float(base if base is not None else 0.0),
                           prob, method, dict(self.settings), units, gap, truncated=trunc)

    # ------------------------------------------------------------ SHAP

    def visible_text(self, text: str) -> tuple[str, bool]:
        """What the model sees of ``text``: itself, or head + " … " + tail when truncated."""
        from .data import clean_text

        if not self.is_transformer:
            return clean_text(text), False
        enc = self.clf.encode([text])
        if not enc.truncated[0]:
            return clean_text(text), False
        ids = enc.ids[0][1:-1].tolist()
        head = self.clf.head_len if self.clf.truncation == "head+tail" else (len(ids) if self.clf.truncation == "head" else 0)
        dec = self.clf.tokenizer.decode
        parts = [dec(ids[:head]) if head else "", dec(ids[head:]) if head < len(ids) else ""]
        return " … ".join(p for p in parts if p), True

    def _shap_explainer(self):
        if self._shap is None:
            import shap

            if self.is_transformer:
                masker = shap.maskers.Text(self.clf.tokenizer, mask_token="[MASK]", collapse_mask_token=True)
            else:
                masker = shap.maskers.Text(r"\W+")
            self._shap = shap.Explainer(lambda xs: self.clf.predict_proba(list(xs)), masker,
                                        algorithm="partition", seed=0)
        return self._shap

    def _explain_shap(self, text: str) -> Attribution:
        vis, trunc = self.visible_text(text)
        if not vis.strip():
            p = float(self.clf.predict_proba([vis])[0]) if self.is_transformer else 0.5
            return Attribution([], [], p, p, "shap", dict(self.settings), "probability", 0.0, truncated=trunc)
        sv = self._shap_explainer()([vis], max_evals=int(self.settings["max_evals"]),
                                    batch_size=int(self.settings["batch_size"]), silent=True)
        vals = np.asarray(sv.values[0]).reshape(-1)
        data = list(sv.data[0])
        base = float(np.asarray(sv.base_values).reshape(-1)[0])
        toks, scs = [], []
        prev = " "
        for t, v in zip(data, vals):
            t = str(t)
            if t.strip() == "":  # [CLS]/[SEP] and bare spaces: not words; their share joins the base value
                base += float(v)
                prev = t or prev
                continue
            # SHAP's pieces carry their spaces: a piece glued to an alphanumeric one is a word-piece
            glued = not prev[-1:].isspace() and prev.strip()[-1:].isalnum() and t[:1].isalnum()
            toks.append(("##" if glued else "") + t.strip())
            scs.append(float(v))
            prev = t
        prob = float(self.clf.predict_proba([vis])[0])
        gap = float(abs(sum(scs) + base - prob))
        return Attribution(toks, scs, base, prob, "shap", dict(self.settings), "probability", gap, truncated=trunc)


def cache_key(run_name: str, text: str, method: str, settings: dict) -> str:
    """Stable key for one explanation (used by the precompute file and the dashboard cache)."""
    h = hashlib.sha256(f"{run_name}\x1f{method}\x1f{sorted(settings.items())}\x1f{text}".encode()).hexdigest()
    return h[:24]
