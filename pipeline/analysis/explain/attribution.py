"""One explained text: tokens, their scores toward *positive*, and how the scores were made."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np


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

    def merged_words(self) -> Attribution:
        """Word-pieces (``##x``) summed into whole words."""
        toks, scs = [], []
        for t, s in zip(self.tokens, self.scores):
            if t.startswith("##") and toks:
                toks[-1] += t[2:]
                scs[-1] += s
            else:
                toks.append(t)
                scs.append(s)
        return Attribution(
            toks,
            scs,
            self.base_value,
            self.prob_pos,
            self.method,
            {**self.settings, "unit": "word"},
            self.units,
            self.completeness_gap,
            self.seconds,
            self.truncated,
        )

    def top(self, k: int = 10, sign: int = 1) -> list[tuple[str, float]]:
        """The ``k`` tokens pushing most toward positive (``sign=1``) or negative (``sign=-1``)."""
        order = np.argsort(-sign * np.asarray(self.scores))
        return [(self.tokens[i], self.scores[i]) for i in order[:k] if sign * self.scores[i] > 0]

    def as_pairs(self) -> list[tuple[str, float]]:
        return list(zip(self.tokens, self.scores))

    def to_dict(self) -> dict:
        return asdict(self)
