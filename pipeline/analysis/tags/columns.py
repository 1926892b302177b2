"""Tags that are conditions on prediction columns or on the data: length, rating, duplicates."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from ...text import clean_text, words
from .base import Tag, TagContext, register


def _column_tag(
    name: str, description: str, rule: str, reads: set[str], fn: Callable[[TagContext], pd.Series]
) -> type[Tag]:
    """A tag that is a plain condition on the prediction columns ``reads``."""
    cls = type(
        name.title().replace("_", ""),
        (Tag,),
        {
            "name": name,
            "description": description,
            "rule": rule,
            "reads": frozenset(reads),
            "detect": lambda self, ctx: pd.DataFrame({name: fn(ctx)}),
        },
    )
    return register(cls)


_column_tag(
    "short",
    "Short review: fewer than 100 word-pieces.",
    "n_tokens < 100",
    {"n_tokens"},
    lambda ctx: ctx.predictions["n_tokens"] < 100,
)
_column_tag(
    "long",
    "Longer than the model's window (some of it was not read).",
    "n_tokens > max_length",
    {"n_tokens"},
    lambda ctx: ctx.predictions["n_tokens"] > ctx.max_length,
)


def rating_scale(rating: pd.Series) -> int:
    """The star scale of a rating column: 10 (IMDB's 1-10) if any rating exceeds 5, else 5 (product stars). A
    10-star file whose ratings all happen to be 5 or less reads as 5-star: there is nothing else to go by."""
    return 10 if (pd.to_numeric(rating, errors="coerce") > 5).any() else 5


MILD = {10: (4, 7), 5: (2, 4)}  # the ratings next to the neutral middle
EXTREME = {10: (1, 10), 5: (1, 5)}


def _rating_in(by_scale: dict[int, tuple[int, int]]) -> Callable[[TagContext], pd.Series]:
    def fn(ctx: TagContext) -> pd.Series:
        r = pd.to_numeric(ctx.predictions["rating"], errors="coerce")
        return r.isin(by_scale[rating_scale(r)]).astype("boolean").mask(r.isna())  # no rating: NA, not False

    return fn


_column_tag(
    "mild_rating",
    "Lukewarm star rating: 4 or 7 of 10 stars (2 or 4 of 5).",
    "rating in {4, 7} on a 10-star scale, {2, 4} on a 5-star one (10-star when any rating exceeds 5)",
    {"rating"},
    _rating_in(MILD),
)
_column_tag(
    "extreme_rating",
    "Extreme star rating: 1 or 10 of 10 stars (1 or 5 of 5).",
    "rating in {1, 10} on a 10-star scale, {1, 5} on a 5-star one (10-star when any rating exceeds 5)",
    {"rating"},
    _rating_in(EXTREME),
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
