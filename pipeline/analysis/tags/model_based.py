"""Tags that ask the run's own classifier: sentences that disagree, a verdict in the part never read.

Each costs forward passes per review, so they run on the seeded sample in ``TagContext.sample_ids``
(other reviews are NaN = not computed, and excluded from their lift).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...classifiers.base import TOKENIZER
from ...text import clean_text
from ...tokens import dropped_text
from ..perturb import sentences
from .base import MODEL, Tag, register


@register
class MixedSentiment(Tag):
    name = "mixed_sentiment"
    description = "Sentences disagree: the run's own model finds clearly positive and clearly negative sentences."
    rule = (
        "score every sentence with the model; tag when ≥1 sentence has P(pos) ≥ 0.8 and ≥1 has P(pos) ≤ 0.2 "
        "and the positive share is between 0.25 and 0.75 (sampled reviews only)"
    )
    needs = frozenset({MODEL})
    extra_columns = ("mixed_sentiment_pos_share",)

    def detect(self, ctx):
        p = ctx.predictions
        rows = p[p["id"].isin(ctx.sample_ids)]
        sents, owner = [], []
        for idx, t in zip(rows.index, rows["text"]):
            ss = [s for s in sentences(clean_text(t)) if len(s.split()) >= 3][:40]
            sents.extend(ss)
            owner.extend([idx] * len(ss))
        tag = pd.Series(np.nan, index=p.index, dtype=object)
        share = pd.Series(np.nan, index=p.index)
        if sents:
            probs = ctx.classifier.prob_positive(sents)
            df = pd.DataFrame({"owner": owner, "p": probs})
            g = df.groupby("owner")["p"]
            pos, neg, share_pos = (
                g.apply(lambda x: (x >= 0.8).sum()),
                g.apply(lambda x: (x <= 0.2).sum()),
                g.apply(lambda x: (x >= 0.5).mean()),
            )
            flag = (pos >= 1) & (neg >= 1) & share_pos.between(0.25, 0.75)
            tag.loc[flag.index] = flag.astype(bool)
            share.loc[share_pos.index] = share_pos
        rest = rows.index.difference(tag.dropna().index)
        tag.loc[rest] = False  # sampled reviews without scorable sentences
        return pd.DataFrame({self.name: tag, f"{self.name}_pos_share": share})


@register
class TruncatedVerdict(Tag):
    name = "truncated_verdict"
    description = (
        "Longer than the window, and the part the model never read, scored alone, disagrees with its prediction."
    )
    rule = "truncated and the dropped middle (decoded, scored alone) is on the other side of 0.5 with P ≥ 0.7 / ≤ 0.3 (sampled reviews only)"
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
        # at most 4 windows of the dropped part: enough to read its verdict, bounded cost on huge reviews
        dropped = [dropped_text(t, clf.tokenizer, clf.truncation, 4 * clf.truncation.inner) for t in rows["text"]]
        probs = clf.prob_positive(dropped)
        pred = rows["pred"].to_numpy()
        disagree = np.where(pred == 1, probs <= 0.3, probs >= 0.7)
        tag.loc[rows.index] = disagree
        score.loc[rows.index] = probs
        return pd.DataFrame({self.name: tag, f"{self.name}_dropped_prob": score})
