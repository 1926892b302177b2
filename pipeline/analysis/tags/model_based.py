"""Tags that ask the run's own classifier: sentences that disagree, a verdict in the part never read.

Each costs forward passes per review, so they run on the seeded sample in ``TagContext.sample_ids``
(other reviews are NaN = not computed, and excluded from their lift).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from ...classifiers.base import TOKENIZER
from ...text import clean_text
from ...tokens import dropped_text
from ..perturb import sentences
from .base import MODEL, Tag, register


@dataclass(frozen=True)
class MixedRule:
    """When a review counts as mixed, from its sentences' P(positive) under the run's model.

    A sentence (at least ``min_words`` words; the first ``max_sentences`` of those) is clearly positive at
    P ≥ ``confidence`` and clearly negative at P ≤ 1 − ``confidence``. A review is mixed when it has at least
    ``min_each`` clear sentences on *each* side and its share of sentences at P ≥ 0.5 lies in ``share``.
    """

    confidence: float = 0.8
    min_each: int = 1
    share: tuple[float, float] = (0.25, 0.75)
    min_words: int = 3
    max_sentences: int = 40

    def describe(self) -> str:
        lo, hi = self.share
        return (
            f"score every sentence of ≥{self.min_words} words with the model; tag when ≥{self.min_each} sentence(s) "
            f"have P(pos) ≥ {self.confidence:g} and ≥{self.min_each} have P(pos) ≤ {1 - self.confidence:.2g}"
            + (f" and the positive share is between {lo:g} and {hi:g}" if (lo, hi) != (0.0, 1.0) else "")
            + " (sampled reviews only)"
        )

    def review_sentences(self, text: str) -> list[str]:
        """The sentences of one review this rule scores (may be empty)."""
        return [s for s in sentences(clean_text(text)) if len(s.split()) >= self.min_words][: self.max_sentences]

    def flag(self, probs: np.ndarray) -> tuple[bool, float]:
        """(mixed?, positive share) for one review's sentence probabilities (non-empty)."""
        probs = np.asarray(probs, dtype=float)
        pos = int((probs >= self.confidence).sum())
        neg = int((probs <= 1 - self.confidence).sum())
        share = float((probs >= 0.5).mean())
        lo, hi = self.share
        return bool(pos >= self.min_each and neg >= self.min_each and lo <= share <= hi), share


@register
class MixedSentiment(Tag):
    name = "mixed_sentiment"
    description = "Sentences disagree: the run's own model finds clearly positive and clearly negative sentences."
    rule_params = MixedRule()
    rule = rule_params.describe()
    needs = frozenset({MODEL})
    extra_columns = ("mixed_sentiment_pos_share",)

    def detect(self, ctx):
        p = ctx.predictions
        rows = p[p["id"].isin(ctx.sample_ids)]
        per_review = [self.rule_params.review_sentences(t) for t in rows["text"]]
        flat = [s for ss in per_review for s in ss]
        probs = ctx.classifier.prob_positive(flat) if flat else np.array([])
        tag = pd.Series(np.nan, index=p.index, dtype=object)
        share = pd.Series(np.nan, index=p.index)
        start = 0
        for idx, ss in zip(rows.index, per_review):
            if not ss:  # sampled reviews without scorable sentences
                tag.loc[idx] = False
                continue
            tag.loc[idx], share.loc[idx] = self.rule_params.flag(probs[start : start + len(ss)])
            start += len(ss)
        return pd.DataFrame({self.name: tag, f"{self.name}_pos_share": share})


@register
class TruncatedVerdict(Tag):
    name = "truncated_verdict"
    description = (
        "Longer than the window, and the part the model never read, scored alone, disagrees with its prediction."
    )
    cutoff: ClassVar[float] = 0.7  # the unread part's P(pos) ≥ cutoff against a negative prediction, ≤ 1 − cutoff
    min_words: ClassVar[int] = 0  # words the unread part needs before its verdict counts
    rule = (
        f"truncated and the dropped middle (decoded, scored alone) is on the other side of 0.5 with P ≥ {cutoff:g} / "
        f"≤ {1 - cutoff:.2g}" + (f" and has ≥{min_words} words" if min_words else "") + " (sampled reviews only)"
    )
    needs = frozenset({MODEL, TOKENIZER})
    reads = frozenset({"pred", "truncated"})
    extra_columns = ("truncated_verdict_dropped_prob",)

    def detect(self, ctx):
        p = ctx.predictions
        clf = ctx.classifier
        tag = pd.Series(np.nan, index=p.index, dtype=object)
        score = pd.Series(np.nan, index=p.index)
        rows = p[p["id"].isin(ctx.sample_ids)]
        tag.loc[rows.index[~rows["truncated"].to_numpy()]] = False
        rows = rows[rows["truncated"]]
        if rows.empty:
            return pd.DataFrame({self.name: tag, f"{self.name}_dropped_prob": score})
        dropped = [self.unread_part(t, clf) for t in rows["text"]]
        probs = clf.prob_positive(dropped)
        words = np.array([len(d.split()) for d in dropped])
        tag.loc[rows.index] = self.disagrees(rows["pred"].to_numpy(), probs, words, self.cutoff, self.min_words)
        score.loc[rows.index] = probs
        return pd.DataFrame({self.name: tag, f"{self.name}_dropped_prob": score})

    @staticmethod
    def unread_part(text: str, classifier) -> str:
        """The part of ``text`` the classifier never read, decoded, as this tag scores it: at most 4 windows of it,
        enough to read its verdict at a bounded cost on huge reviews."""
        return dropped_text(text, classifier.tokenizer, classifier.truncation, 4 * classifier.truncation.inner)

    @staticmethod
    def disagrees(pred: np.ndarray, probs: np.ndarray, words: np.ndarray, cutoff: float, min_words: int) -> np.ndarray:
        """Whether each unread part (its P(pos) ``probs``, ``words`` long) is confidently on the other side of the
        prediction ``pred``."""
        return np.where(pred == 1, probs <= 1 - cutoff, probs >= cutoff) & (words >= min_words)
