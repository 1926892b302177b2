"""Token attributions with a two-line API::

    explainer = Explainer.from_run("models/my-run", method="shap")   # or "ig", "grad"
    [attr] = explainer("The acting was not good at all.")           # -> list[Attribution]

Scores are for the positive class. SHAP explains the calibrated probability; IG and gradient×input
explain the calibrated logit margin (positive minus negative), in which completeness holds.
Only the text the model actually sees is explained (after head+tail truncation).
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from .config import PRECISIONS

log = logging.getLogger(__name__)

METHODS = ("shap", "ig", "grad")
# Chosen by benchmarks/attributions.py (MiniLM, 256 tokens, 20 median-length reviews, 2-core CPU): SHAP 1,000 evals
# scored in int8 = median Spearman 0.91 against a float32 2,000-eval reference in 3.67 s (500: 0.81 in 1.99 s;
# float32 1,000: 0.91 in 14.6 s); IG 8 steps: 0.83 s, completeness gap within 5 % (else more steps).
DEFAULTS = {"shap": {"max_evals": 1000, "batch_size": 64, "precision": "int8"},
            "ig": {"steps": 8, "max_steps": 32, "gap_tolerance": 0.05}, "grad": {}}


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
    default 1000, ``batch_size``, default 64, and ``precision``, default ``"int8"``: the masked texts are scored
    by the run's int8 copy, 4× faster and as faithful to a float32 reference as float32 scoring; the
    reported ``prob_pos`` is always float32, so ``completeness_gap`` includes the int8 difference),
    ``ig`` (Integrated Gradients on word embeddings, ``steps`` default 8,
    doubled up to ``max_steps`` 32 while the completeness gap exceeds ``gap_tolerance`` 5 % of f(x) − f(baseline),
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
        if method == "shap" and not self.is_transformer:
            self.settings.pop("precision", None)  # the TF-IDF baseline has one precision
        if self.settings.get("precision", "float32") not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.settings['precision']!r}")
        self._shap = None
        # SHAP's explainer and masker keep per-call state, and the dashboard shares one Explainer across
        # sessions: calls are serialised (the forwards are serialised by the classifier anyway)
        self._lock = threading.Lock()

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
            with self._lock:
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
        """IG with ``steps`` points, doubled (up to ``max_steps``) while the completeness gap exceeds
        ``gap_tolerance`` × |f(x) − f(baseline)| (at least 0.05 logit)."""
        steps, max_steps = int(self.settings["steps"]), int(self.settings.get("max_steps", self.settings["steps"]))
        if steps < 1:
            raise ValueError(f"IG needs at least 1 step, got {steps}")
        ids, trunc = self._ids(text)
        base_ids = ids.copy()
        base_ids[1:-1] = self.clf.tokenizer.pad_token_id  # keep [CLS]/[SEP]; content → [PAD]
        x, x0 = self.clf.embed(ids[None, :])[0], self.clf.embed(base_ids[None, :])[0]
        # f(x), f(baseline) through the same embedding path as the gradients (every position attended;
        # scoring ids would mask the [PAD] baseline out and measure a different function)
        ends, _ = self.clf.grad_logit_wrt_embeddings(np.stack([x, x0]), np.ones((2, len(ids)), np.int32))
        delta = float(ends[0] - ends[1])
        tolerance = max(0.05, float(self.settings.get("gap_tolerance", 0.05)) * abs(delta))
        while True:
            scores = self._ig_scores(x, x0, steps)
            gap = float(abs(scores.sum() - delta))
            if gap <= tolerance or steps * 2 > max_steps:
                break
            steps *= 2
        a = self._finish(ids, scores, ends[0], float(ends[1]), "ig", trunc, units="logit", gap=gap)
        a.settings["steps_used"] = steps
        return a

    def _ig_scores(self, x: np.ndarray, x0: np.ndarray, steps: int) -> np.ndarray:
        # Midpoint rule. (Gauss–Legendre points were tried: no smaller completeness gap at 4–12 steps.)
        alphas = (np.arange(steps, dtype=np.float32) + 0.5) / steps
        path = x0[None] + alphas[:, None, None] * (x - x0)[None]
        mask = np.ones((steps, len(x)), dtype=np.int32)
        total = np.zeros_like(x)
        for i in range(0, steps, 32):  # one batch up to 32 points (fits easily at 512 tokens × 384 dims)
            _, g = self.clf.grad_logit_wrt_embeddings(path[i:i + 32], mask[i:i + 32])
            total += g.sum(0)
        return ((x - x0) * total / steps).sum(-1)

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
                precision = self.settings["precision"]
                if precision == "int8":
                    self.clf.int8_scorer()  # load (or convert) now, not inside SHAP's timing

                def f(xs):
                    return self.clf.predict_proba(list(xs), precision=precision)
            else:
                masker = shap.maskers.Text(r"\W+")

                def f(xs):
                    return self.clf.predict_proba(list(xs))
            self._shap = shap.Explainer(f, masker, algorithm="partition", seed=0)
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


# ---------------------------------------------------------------- precompute (python -m pipeline explain)


def precompute(run_dir: str | Path, method: str = "shap", errors: int = 200, correct: int = 50,
               seed: int = 0, flush_every: int = 10, **settings) -> Path:
    """Explain the ``errors`` most confident errors plus ``correct`` random correct predictions and write
    ``explanations.parquet`` into the run. Resumable: ids already explained with this method are skipped,
    and the file is rewritten atomically every ``flush_every`` reviews."""
    import json

    import pandas as pd
    from tqdm.auto import tqdm

    from .runs import atomic_write_parquet, load_run

    run = load_run(run_dir)
    preds = run.predictions
    wrong = preds[~preds["correct"]].sort_values("confidence", ascending=False).head(errors)
    right = preds[preds["correct"]]
    right = right.sample(min(correct, len(right)), random_state=seed) if correct else right.head(0)
    todo = pd.concat([wrong, right])
    out_path = Path(run_dir) / "explanations.parquet"
    done = run.explanations if run.explanations is not None else pd.DataFrame()
    if not done.empty:
        done = done[done["method"] == method]
        todo = todo[~todo["id"].isin(set(done["id"]))]
    rows = done.to_dict("records") if not done.empty else []
    explainer = Explainer.from_run(run_dir, method, **settings)
    with tqdm(total=len(todo), desc=f"explain ({method})", unit="review") as bar:
        for i, (_, r) in enumerate(todo.iterrows(), 1):
            a = explainer([r["text"]])[0]
            rows.append({"id": r["id"], "correct": bool(r["correct"]), "label": int(r["label"]),
                         "pred": int(r["pred"]), "method": a.method, "tokens": a.tokens, "scores": a.scores,
                         "base_value": a.base_value, "prob_pos": a.prob_pos, "settings": json.dumps(a.settings),
                         "units": a.units, "completeness_gap": a.completeness_gap, "seconds": a.seconds,
                         "truncated": a.truncated})
            bar.update(1)
            if i % flush_every == 0 or i == len(todo):
                atomic_write_parquet(out_path, pd.DataFrame(rows))
    if not rows:
        log.info("nothing to explain in %s", run_dir)
    return out_path


def wrong_side_tokens(explanations, top: int = 30, per_review: int = 5):
    """Across precomputed error explanations: the words that most often rank among an error's ``per_review``
    (default 5) strongest pushes toward the wrong answer, with how hard they pushed there.

    For a false positive the wrong side is positive (score > 0); for a false negative it is negative. Counting
    only each review's strongest pushes keeps frequent words ("the", "a") with tiny scores in every review from
    outranking the words that decided the error. Sorted by ``reviews`` (errors where the word is among the
    top pushes), then ``total_push``; ``in_errors`` counts the explained errors containing the word at all and
    ``share`` is their ratio. A word's push in a review is its strongest occurrence.
    """
    import pandas as pd

    from collections import Counter

    rows, in_errors = [], Counter()
    for _, r in explanations[~explanations["correct"]].iterrows():
        a = Attribution(list(r["tokens"]), list(r["scores"]), 0.0, 0.0, r["method"])
        wrong_sign = 1 if r["pred"] == 1 else -1
        pushes: dict[str, float] = {}
        for t, s in a.merged_words().as_pairs():
            if any(c.isalpha() for c in t):
                # a word's strongest occurrence: summing would favour words used 15 times per review
                pushes[t.lower()] = max(pushes.get(t.lower(), float("-inf")), wrong_sign * s)
        in_errors.update(pushes.keys())
        strongest = sorted(((p, t) for t, p in pushes.items() if p > 0), reverse=True)[:per_review]
        rows += [{"token": t, "push": p, "id": r["id"]} for p, t in strongest]
    columns = ["token", "reviews", "in_errors", "share", "total_push", "mean_push"]
    if not rows:
        return pd.DataFrame(columns=columns)
    g = pd.DataFrame(rows).groupby("token").agg(reviews=("id", "nunique"), total_push=("push", "sum"),
                                                mean_push=("push", "mean"))
    g["in_errors"] = [in_errors[t] for t in g.index]
    g["share"] = g["reviews"] / g["in_errors"]
    return g.sort_values(["reviews", "total_push"], ascending=False).head(top).reset_index()[columns]


def add_cli(sub) -> None:
    p = sub.add_parser("explain", help="precompute attributions for a run's most confident errors")
    p.add_argument("--run", required=True, help="run folder or name under models/")
    p.add_argument("--method", default="shap", choices=METHODS)
    p.add_argument("--errors", type=int, default=200, help="most confident errors to explain (default 200)")
    p.add_argument("--correct", type=int, default=50, help="random correct predictions to add (default 50)")
    p.add_argument("--max-evals", type=int, default=None, help="SHAP evaluations per review")
    p.add_argument("--steps", type=int, default=None, help="IG interpolation steps")
    p.add_argument("--precision", choices=PRECISIONS, default=None,
                   help="SHAP: score masked texts with the int8 copy (default) or float32")
    p.add_argument("--models-dir", dest="models_dir")

    def run(args) -> int:
        from .runs import resolve_run_dir

        run_dir = resolve_run_dir(args.run, args.models_dir)
        settings = {k: v for k, v in (("max_evals", args.max_evals), ("steps", args.steps),
                                      ("precision", args.precision)) if v is not None}
        if args.method != "shap":
            settings.pop("max_evals", None)
            settings.pop("precision", None)
        if args.method != "ig":
            settings.pop("steps", None)
        print(precompute(run_dir, args.method, args.errors, args.correct, **settings))
        return 0

    p.set_defaults(func=run)
