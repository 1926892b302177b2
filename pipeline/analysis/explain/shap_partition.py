"""SHAP's Partition explainer over the classifier's own tokens, on exactly the text the model sees.

Explains the calibrated probability. Default features are words (a word's pieces masked together), masked on token
ids by :class:`~pipeline.analysis.explain.id_masker.TokenIdMasker` (``masker="ids"``: no masked strings, no
re-tokenising; ``unit="token"`` masks word-pieces and equals shap's Text masker, ``masker="text"``). With the ``INT8``
capability the masked rows are scored by the int8 copy (``precision="int8"``, the default); the reported ``prob_pos``
is always float32, so ``completeness_gap`` then includes the int8 copy's difference. The TF-IDF baseline is masked by
words, as strings.
"""

from __future__ import annotations

import numpy as np

from ...classifiers.base import INT8, PRECISIONS, TOKENIZER, seen_text
from .attribution import Attribution
from .methods import Method, Setting, register_method

UNITS = ("word", "token")  # same as id_masker.UNITS (that module imports shap: loaded on first use)
MASKERS = ("ids", "text")
CONTEXTS = {"both": None, "masked": 0, "kept": 1}  # shap's fixed_context


@register_method
class ShapPartition(Method):
    name = "shap"
    label = "SHAP partition"
    cost = "~12 s"
    use = "masking-based; level with IG on median-length reviews at ten times the cost (ahead on short ones)"
    units = "probability"
    # Chosen by benchmarks/attributions.py (see the README's attribution table for what was measured).
    settings_spec = (
        Setting("max_evals", int, 1000, "SHAP evaluations (masked texts scored) per review"),
        Setting("batch_size", int, 64, "SHAP: masked texts per call of the model"),
        Setting("precision", str, "int8", "SHAP: score masked texts with the int8 copy or float32", PRECISIONS),
        Setting("unit", str, "word", "SHAP: features are words (pieces merged) or word-pieces", UNITS),
        Setting(
            "masker", str, "ids", "SHAP: mask token ids (no re-tokenising) or strings (shap's Text masker)", MASKERS
        ),
        Setting(
            "context",
            str,
            "both",
            "SHAP: Owen values over both contexts of each group (shap's default), or only with the rest masked "
            "(short rows, ~2 evaluations per feature) or only with the rest kept",
            tuple(CONTEXTS),
        ),
    )

    def __init__(self, classifier, **settings):
        super().__init__(classifier, **settings)
        self._shap = None

    @classmethod
    def applicable_settings(cls, capabilities):
        # the TF-IDF baseline has no int8 copy and no word-pieces: it is masked by words, as strings
        drop = set() if INT8 in capabilities else {"precision"}
        drop |= set() if TOKENIZER in capabilities else {"unit", "masker"}
        return tuple(s for s in cls.settings_spec if s.name not in drop)

    def warm_up(self) -> None:
        self._explainer()
        self.explain("warm-up: a short text compiles shap's numba code once")

    def _explainer(self):
        if self._shap is None:
            import shap

            precision = self.settings.get("precision", "float32")
            if precision == "int8":
                self.clf.int8_scorer()  # load (or convert) now, not inside SHAP's timing
            if self._ids_masker():
                from .id_masker import TokenIdMasker

                masker = TokenIdMasker(self.clf.tokenizer, unit=self.settings["unit"])

                def f(rows):
                    return self.clf.prob_positive_ids(list(rows), precision=precision)

            else:
                if TOKENIZER in self.clf.capabilities:
                    masker = shap.maskers.Text(self.clf.tokenizer, mask_token="[MASK]", collapse_mask_token=True)
                else:
                    masker = shap.maskers.Text(r"\W+")

                def f(xs):
                    return self.clf.prob_positive(list(xs), precision=precision)

            self._shap = shap.Explainer(f, masker, algorithm="partition", seed=0)
        return self._shap

    def _ids_masker(self) -> bool:
        if TOKENIZER not in self.clf.capabilities:
            return False
        if self.settings["masker"] == "text" and self.settings["unit"] != "token":
            raise ValueError("the Text (string) masker masks word-pieces only: use unit='token' with masker='text'")
        return self.settings["masker"] == "ids"

    def explain(self, text: str) -> Attribution:
        # head and tail joined by a space: the masked rows are the pieces the model reads, no "…" piece between
        vis, trunc = seen_text(self.clf, text, joiner=" ")
        if not vis.strip():
            p = float(self.clf.prob_positive([vis])[0]) if TOKENIZER in self.clf.capabilities else 0.5
            return Attribution([], [], p, p, self.name, dict(self.settings), self.units, 0.0, truncated=trunc)
        explainer = self._explainer()
        sv = explainer(
            [vis],
            max_evals=int(self.settings["max_evals"]),
            batch_size=int(self.settings["batch_size"]),
            fixed_context=CONTEXTS[self.settings["context"]],
            silent=True,
        )
        vals = np.asarray(sv.values[0]).reshape(-1)
        base = float(np.asarray(sv.base_values).reshape(-1)[0])
        if self._ids_masker():
            # [CLS]/[SEP] (first and last feature) are never masked: their (zero) share joins the base value
            toks, scs = explainer.masker.units(vis), [float(v) for v in vals[1:-1]]
            base += float(vals[0] + vals[-1])
        else:
            toks, scs, base = _text_masker_tokens(list(sv.data[0]), vals, base)
        prob = float(self.clf.prob_positive([vis])[0])
        gap = float(abs(sum(scs) + base - prob))
        return Attribution(toks, scs, base, prob, self.name, dict(self.settings), self.units, gap, truncated=trunc)


def _text_masker_tokens(data: list, vals: np.ndarray, base: float) -> tuple[list[str], list[float], float]:
    """Tokens and scores from the Text masker's segments: blank segments ([CLS]/[SEP], spaces) are not words and
    their share joins the base value; a piece glued to an alphanumeric one gets its "##" back."""
    toks, scs = [], []
    prev = " "
    for t, v in zip(data, vals):
        t = str(t)
        if t.strip() == "":
            base += float(v)
            prev = t or prev
            continue
        glued = not prev[-1:].isspace() and prev.strip()[-1:].isalnum() and t[:1].isalnum()
        toks.append(("##" if glued else "") + t.strip())
        scs.append(float(v))
        prev = t
    return toks, scs, base
