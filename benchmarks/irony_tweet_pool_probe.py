"""Probe (session 21, nothing shipped): is there a design left that lifts the irony tag on real customer tweets?

    python benchmarks/irony_tweet_pool_probe.py [--cache DIR] [--out FILE]

Read only tweets that are training data or spent test data (the 2,000 training tweets and test draws 1-2, 3,950 in
all, 226 ironic); the third draw (``data/irony/README.md``, session 21) is not read. Three questions, each answered
with text-only ROC-AUC (ironic vs every other tweet):

1. **More customer tweets.** Session 20's design refitted with all 3,950 labelled tweets as customer data:
   out-of-fold stack scores per tweet set (each tweet scored by a fit that did not see it), against what the shipped
   model (trained on the 2,000) scores on draws 1-2, which it never saw.
2. **Without the cap on the tweets' weight** (their total weight in the base models is otherwise scaled down to the
   written reviews'): the same, plus the written validation, whose bar (0.85 with stars) the cap protects.
3. **A polarity read from the text.** Text-only scoring ignores the stack's polarity features; here the polarity is
   inferred from the model's own sentence-sentiment model (mean sentence logit > 0 = positive) and the with-polarity
   stack is used. Also: that negativity alone as a score (does the sentiment model read through mock thanks?).

Two refits (about 3 min each with the embedding cache) and one scoring pass. Writes
``benchmarks/results/irony-tweet-pool-probe-<date>.json``.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np
import pandas as pd

from pipeline.analysis.tags import irony_fit as F
from pipeline.analysis.tags.irony import _logistic, irony_scores

PARTS = {"training tweets": F.AIRLINE_TRAINING, "draw 1": F.AIRLINE_IRONY, "draw 2": F.AIRLINE_TEST2}


def all_labelled_tweets(challenge: Path) -> pd.DataFrame:
    """The 3,950 labelled tweets that are not the third draw, with the set each came from (``part``)."""
    frames = [F.read_airline_tweets(challenge, path).assign(part=name) for name, path in PARTS.items()]
    return pd.concat(frames, ignore_index=True)[["text", "ironic", "sentiment", "part"]]


def refit_out_of_fold(imdb: Path, challenge: Path, tweets: pd.DataFrame, cache: str | None, cap: bool) -> dict:
    """Session 20's design with ``tweets`` as customer data: out-of-fold text-only AUC per tweet set, and the
    validation figures the ship rule reads."""
    oof: dict = {}
    model = F.fit(imdb, challenge, cache, customer=tweets, cap_customer_weight=cap, out_of_fold=oof)
    text_only = oof["text_only"][oof["source"] == 2]
    parts = tweets["part"].to_numpy()
    y = tweets["ironic"].to_numpy()
    wanted = ("IMDB train reviews, random draw", "product reviews written", "UCI", "iSarcasmEval")
    return {
        "out_of_fold_text_only": {
            "all": F.rounded_auc_ci(y, text_only),
            **{p: F.rounded_auc_ci(y[parts == p], text_only[parts == p]) for p in PARTS},
        },
        "validation": {r["data"]: r["roc_auc"] for r in model["validation"] if r["data"].startswith(wanted)},
    }


def inferred_polarity(challenge: Path, imdb: Path, cache: str | None) -> dict:
    """The shipped model, text only vs with a polarity inferred from its sentence-sentiment model."""
    model = json.loads(F.IRONY_MODEL.read_text())
    embed = F.cached_embed(cache, F.model_layers(model))
    sets = {
        "draw 1": F.labelled_airline(F.read_airline_tweets(challenge, F.AIRLINE_IRONY), embed),
        "draw 2": F.labelled_airline(F.read_airline_tweets(challenge, F.AIRLINE_TEST2), embed),
        "IMDB validation": F.read_labelled(F.VALIDATION, imdb, embed),
        "written product validation": F.labelled_products(F.read_products(F.PRODUCT_VALIDATION), embed),
    }
    out = {}
    for name, lab in sets.items():
        sent = model["sentiment"]
        z = _logistic(lab.emb, sent["coef"], sent["intercept"])
        n = len(lab.y)
        mean = np.bincount(lab.owner, weights=z, minlength=n) / np.maximum(np.bincount(lab.owner, minlength=n), 1)
        pol = (mean > 0).astype(float)
        inferred = irony_scores(lab.texts, lab.emb, lab.owner, pol, model)["irony_score"].to_numpy()
        known = ~np.isnan(lab.polarity)
        out[name] = {
            "text_only": F.rounded_auc_ci(lab.y, F.scores(lab, model, True)),
            "with_inferred_polarity": F.rounded_auc_ci(lab.y, inferred),
            "with_given_polarity": F.rounded_auc_ci(lab.y, F.scores(lab, model, False)) if known.any() else None,
            "inferred_negativity_alone": F.rounded_auc_ci(lab.y, -mean),
            "inferred_agrees_with_given": round(float((pol[known] == lab.polarity[known]).mean()), 3)
            if known.any()
            else None,
        }
        print(name, out[name], flush=True)
    return out


def main() -> None:
    a = F.probe_arguments(__doc__.splitlines()[0])
    imdb = a.imdb
    tweets = all_labelled_tweets(a.challenge)
    out = {
        "probe": "more customer tweets / no weight cap / inferred polarity; nothing shipped",
        "date": date.today().isoformat(),
        "tweets": int(len(tweets)),
        "ironic": int(tweets["ironic"].sum()),
        "inferred_polarity": inferred_polarity(a.challenge, imdb, a.cache),
    }
    for name, cap in (("all tweets, weight capped (session 20's design)", True), ("all tweets, no cap", False)):
        out[name] = refit_out_of_fold(imdb, a.challenge, tweets, a.cache, cap)
        print(name, json.dumps(out[name]), flush=True)
    F.write_results(out, a.out or F.REPO / "benchmarks" / "results" / f"irony-tweet-pool-probe-{out['date']}.json")


if __name__ == "__main__":
    main()
