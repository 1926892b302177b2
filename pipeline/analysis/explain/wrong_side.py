"""Across precomputed error explanations: which words push errors to the wrong side."""

from __future__ import annotations

from collections import Counter

import pandas as pd

from .attribution import Attribution


def main_method(explanations) -> str | None:
    """The method with the most explained errors (a run can hold several methods' rows for the same review, e.g.
    SHAP from an older analysis and IG from a newer one; their scores are on different scales, so aggregates use
    one method). Ties go to the first in the file. None when no error is explained."""
    err = explanations[~explanations["correct"]]
    if err.empty:
        return None
    counts = err.groupby("method", sort=False)["id"].nunique()
    return str(counts.idxmax())


def explained_errors(explanations, method: str | None = None) -> pd.DataFrame:
    """The error rows explained with ``method`` (default :func:`main_method`), one per review."""
    method = method or main_method(explanations)
    return explanations[~explanations["correct"] & (explanations["method"] == method)].drop_duplicates("id")


def wrong_side_tokens(explanations, top: int = 30, per_review: int = 5, method: str | None = None):
    """Across precomputed error explanations: the words that most often rank among an error's ``per_review``
    (default 5) strongest pushes toward the wrong answer, with how hard they pushed there.

    For a false positive the wrong side is positive (score > 0); for a false negative it is negative. Counting
    only each review's strongest pushes keeps frequent words ("the", "a") with tiny scores in every review from
    outranking the words that decided the error. Sorted by ``reviews`` (errors where the word is among the
    top pushes), then ``total_push``; ``in_errors`` counts the explained errors containing the word at all and
    ``share`` is their ratio. A word's push in a review is its strongest occurrence. Only ``method``'s rows count
    (default :func:`main_method`): one explanation per review, on one scale.
    """
    rows, in_errors = [], Counter()
    for _, r in explained_errors(explanations, method).iterrows():
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
    g = (
        pd.DataFrame(rows)
        .groupby("token")
        .agg(reviews=("id", "nunique"), total_push=("push", "sum"), mean_push=("push", "mean"))
    )
    g["in_errors"] = [in_errors[t] for t in g.index]
    g["share"] = g["reviews"] / g["in_errors"]
    return g.sort_values(["reviews", "total_push"], ascending=False).head(top).reset_index()[columns]
