"""Likely mislabeled reviews, found by cleanlab's confident learning on the run's out-of-sample test probabilities.

This is a tag (it lives in ``tags.parquet`` and filters the error table) but it is *defined on disagreement with
the label*, so it flags almost only errors: its lift would be 1 / error rate by construction. It is therefore
never ranked by lift; ``tags.json`` lists it under ``label_issues`` with its count and the dashboard shows it as
its own "likely mislabeled" list, sorted by cleanlab's label-quality score.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from .base import Tag, TagContext, register

log = logging.getLogger(__name__)


def label_issue_frame(labels: np.ndarray, prob_pos: np.ndarray) -> pd.DataFrame:
    """``label_issue`` (bool) and ``label_issue_quality`` (cleanlab's self-confidence: P(given label); lower = more
    likely mislabeled) for binary labels and P(positive).

    Uses ``cleanlab.filter.find_label_issues`` (default ``filter_by="prune_by_noise_rate"``) and
    ``cleanlab.rank.get_label_quality_scores``. Edge cases: with fewer than two reviews of each class cleanlab
    cannot estimate noise rates, so every review gets ``label_issue = False`` (quality is still given).
    """
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    labels = np.asarray(labels, dtype=int)
    p1 = np.clip(np.asarray(prob_pos, dtype=float), 1e-6, 1 - 1e-6)
    probs = np.column_stack([1 - p1, p1])
    quality = get_label_quality_scores(labels, probs) if len(labels) else np.zeros(0)
    issue = np.zeros(len(labels), dtype=bool)
    if min((labels == 0).sum(), (labels == 1).sum()) >= 2:
        issue = find_label_issues(labels, probs)
    else:
        log.info("label issues skipped: cleanlab needs at least two reviews of each class")
    return pd.DataFrame({LabelIssue.name: issue, f"{LabelIssue.name}_quality": quality})


@register
class LabelIssue(Tag):
    name = "label_issue"
    extra_columns = ("label_issue_quality",)
    ranked_by_lift = False
    reads = frozenset({"label", "prob_pos"})
    description = "Likely mislabeled: cleanlab's confident learning doubts the given label (check the star rating)."
    rule = (
        "cleanlab.filter.find_label_issues(labels, out-of-sample test probabilities), filter_by='prune_by_noise_rate' "
        "(Northcutt et al. 2021); label_issue_quality = cleanlab.rank.get_label_quality_scores "
        "(self-confidence, P(given label): lower = more likely mislabeled). Defined on disagreement with the label, "
        "so never ranked by lift"
    )

    def detect(self, ctx: TagContext) -> pd.DataFrame:
        """Rows without a label (a reviews file may label only some) are left NA with a ``label_issue_note``;
        cleanlab sees the labelled rows only, as one set."""
        p = ctx.predictions
        has = p["label"].notna().to_numpy()
        found = label_issue_frame(p["label"].to_numpy()[has], p["prob_pos"].to_numpy()[has]).set_axis(p.index[has])
        if has.all():
            return found
        log.info("label issues: %d of %d rows have no label and are left out", int((~has).sum()), len(p))
        out = found.astype({self.name: "boolean"}).reindex(p.index)  # NA where there is no label
        out[f"{self.name}_note"] = np.where(has, "", "not computed: no label on this row")
        return out
