"""Probe (session 22, nothing shipped): can a sentiment model trained on customer tweets supply the polarity that
text-only irony scoring lacks?

    python benchmarks/irony_tweet_polarity_probe.py [--cache DIR] [--out FILE]

On the third airline draw the shipped model scores 0.768 text only and 0.796 with the annotators' sentiment of the
writer (session 21): the polarity is worth about 0.03. Session 21's probe inferred it with the irony model's own
sentence-sentiment model (trained on UCI and IMDB sentences) and gained nothing, as mock thanks read as positive.
Here the polarity comes from a logistic regression on the tweets' mean sentence embeddings, trained on the 2,000
training tweets' annotated sentiment (negative vs positive; neutral left out), whose ironic tweets are labelled
negative: does a model that has seen customer irony read through it? Scored on tweets that are spent test data
(draws 1-2) and on the IMDB and written-review validation sets; the third draw is not read. Inferred polarity is
used as is (``band`` 0) or left unknown within ``band`` of 0.5. Writes
``benchmarks/results/irony-tweet-polarity-probe-<date>.json``.
"""

from __future__ import annotations

import json
import os
from datetime import date

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np

from pipeline.analysis.tags import irony_fit as F
from pipeline.analysis.tags.irony import irony_scores, review_vectors


def text_vectors(lab: F.Labelled) -> np.ndarray:
    """Each text's vector as the irony model builds it (its sentences' mean, re-normalised)."""
    return review_vectors(lab.emb, lab.owner, len(lab.y))


def main() -> None:
    from sklearn.linear_model import LogisticRegression

    a = F.probe_arguments(__doc__.splitlines()[0])
    model = json.loads(F.IRONY_MODEL.read_text())
    embed = F.cached_embed(a.cache, F.model_layers(model))
    train = F.labelled_airline(F.read_airline_tweets(a.challenge, F.AIRLINE_TRAINING), embed)
    known = ~np.isnan(train.polarity)
    sets = {
        "draw 1": F.labelled_airline(F.read_airline_tweets(a.challenge, F.AIRLINE_IRONY), embed),
        "draw 2": F.labelled_airline(F.read_airline_tweets(a.challenge, F.AIRLINE_TEST2), embed),
        "IMDB validation": F.read_labelled(F.VALIDATION, a.imdb, embed),
        "written product validation": F.labelled_products(F.read_products(F.PRODUCT_VALIDATION), embed),
    }
    out = {"probe": __doc__.splitlines()[0], "date": date.today().isoformat(), "results": {}}
    for C in (0.1, 1.0):
        lr = LogisticRegression(C=C, max_iter=3000, class_weight="balanced")
        lr.fit(text_vectors(train)[known], train.polarity[known])
        for name, lab in sets.items():
            p = lr.predict_proba(text_vectors(lab))[:, 1]
            given = ~np.isnan(lab.polarity)
            ironic = given & (lab.y == 1)
            r = {
                "text_only": F.rounded_auc_ci(lab.y, F.scores(lab, model, True)),
                "with_given_polarity": F.rounded_auc_ci(lab.y, F.scores(lab, model, False)),
                "inferred_agrees_with_given": round(float(((p > 0.5) == lab.polarity)[given].mean()), 3),
                "inferred_agrees_on_ironic": round(float(((p > 0.5) == lab.polarity)[ironic].mean()), 3),
            }
            for band in (0.0, 0.15):
                pol = np.where(np.abs(p - 0.5) < band, np.nan, (p > 0.5).astype(float))
                s = irony_scores(lab.texts, lab.emb, lab.owner, pol, model)["irony_score"].to_numpy()
                r[f"with_inferred_polarity_band_{band:g}"] = F.rounded_auc_ci(lab.y, s)
            out["results"][f"C={C:g}, {name}"] = r
            print(C, name, r, flush=True)
    F.write_results(out, a.out or F.REPO / "benchmarks" / "results" / f"irony-tweet-polarity-probe-{out['date']}.json")


if __name__ == "__main__":
    main()
