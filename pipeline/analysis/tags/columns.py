"""Tags that are conditions on prediction columns or on the data: length, rating, duplicates, label noise."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from ...text import clean_text, words
from .base import Tag, TagContext, register


def _column_tag(name: str, description: str, rule: str, fn: Callable[[TagContext], pd.Series]) -> type[Tag]:
    """A tag that is a plain condition on prediction columns."""
    cls = type(
        name.title().replace("_", ""),
        (Tag,),
        {
            "name": name,
            "description": description,
            "rule": rule,
            "detect": lambda self, ctx: pd.DataFrame({name: fn(ctx)}),
        },
    )
    return register(cls)


_column_tag(
    "short",
    "Short review: fewer than 100 word-pieces.",
    "n_tokens < 100",
    lambda ctx: ctx.predictions["n_tokens"] < 100,
)
_column_tag(
    "long",
    "Longer than the model's window (some of it was not read).",
    "n_tokens > max_length",
    lambda ctx: ctx.predictions["n_tokens"] > ctx.max_length,
)
_column_tag(
    "mild_rating",
    "Lukewarm star rating: 4 or 7 stars.",
    "rating in {4, 7}",
    lambda ctx: ctx.predictions["rating"].isin([4, 7]),
)
_column_tag(
    "extreme_rating",
    "Extreme star rating: 1 or 10 stars.",
    "rating in {1, 10}",
    lambda ctx: ctx.predictions["rating"].isin([1, 10]),
)


def _norm(text: str) -> str:
    return " ".join(words(clean_text(text)))


@register
class Duplicate(Tag):
    name = "duplicate"
    extra_columns = ("duplicate_in_train",)
    description = "Same text (after lower-casing and dropping punctuation/markup) in the training set or elsewhere in the test set."
    rule = "normalised text equal to a training review or another test review (near-duplicates differing only in case, punctuation, markup)"

    def detect(self, ctx):
        norm = ctx.predictions["text"].map(_norm)
        dup = norm.duplicated(keep=False)
        in_train = pd.Series(False, index=norm.index)
        if ctx.train_texts is not None:
            train = set(ctx.train_texts.map(_norm))
            in_train = norm.isin(train)
        return pd.DataFrame({self.name: dup | in_train, f"{self.name}_in_train": in_train})


@register
class SuspectedLabelNoise(Tag):
    name = "suspected_label_noise"
    extra_columns = ("suspected_label_noise_score",)
    description = "Model confidently disagrees with the given label (confident learning); check the star rating."
    rule = (
        "pred ≠ label and P(pred class) ≥ t_pred, where t_c is the mean P(c) over reviews labelled c "
        "(per-class threshold from out-of-sample test probabilities, Northcutt et al. 2021)"
    )

    def detect(self, ctx):
        p = ctx.predictions
        p1 = p["prob_pos"].astype(float)
        t1 = p1[p["label"] == 1].mean()
        t0 = (1 - p1[p["label"] == 0]).mean()
        p_pred = np.where(p["pred"] == 1, p1, 1 - p1)
        thr = np.where(p["pred"] == 1, t1, t0)
        return pd.DataFrame({self.name: (p["pred"] != p["label"]) & (p_pred >= thr), f"{self.name}_score": p_pred})
