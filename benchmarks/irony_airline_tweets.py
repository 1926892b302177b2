"""The ``irony`` tag on *real* customer text: 1,200 tweets that customers sent to US airlines (from the CheckList
sentiment suite), each read for irony by two annotators (``data/irony/airline_tweets_irony_labels.csv``; sampling,
rule, agreement and the decision written before scoring in ``data/irony/README.md``).

    python benchmarks/irony_airline_tweets.py [--model irony_model.json --name NAME] ... [--test2 | --test3]
        [--out FILE]

``--test2`` scores the second test draw (``data/irony/airline_tweets_irony_test2.csv``, session 19) instead of the
first; ``--test3`` the third (``airline_tweets_irony_test3.csv``, session 21). With several models, each after the
first also gets its text-only AUC minus the first model's, with a paired bootstrap 95 % interval (the figure session
19's decision reads).

The decisive figure (written down before any score) is the ROC-AUC of ``irony_score``, text only, ironic vs every
other tweet. Also reported: with the annotators' agreed sentiment as the polarity (a stand-in for stars), ironic vs
sincere *negative* tweets (where irony hides among complaints), precision/recall at the model's threshold, and the
old regex cues. Writes ``benchmarks/results/irony-airline-tweets-<date>.json`` (one entry per model).
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path

import numpy as np

from pipeline.analysis.tags.irony import model_layers
from pipeline.analysis.tags.irony_fit import (
    AIRLINE_IRONY,
    AIRLINE_TEST2,
    AIRLINE_TEST3,
    REPO,
    at_threshold,
    encoded_for,
    labelled_airline,
    models_to_score,
    paired_auc_difference,
    read_airline_tweets,
    rounded_auc_ci,
    scores,
    write_results,
)
from pipeline.analysis.tags.lexical import sarcasm_score

CHALLENGE = REPO.parent / "shared" / "data" / "challenge"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--challenge", type=Path, default=CHALLENGE, help="the challenge-sets folder")
    ap.add_argument("--model", action="append", default=[], help="irony model JSON (default: the shipped one)")
    ap.add_argument("--name", action="append", default=[], help="a name per --model")
    ap.add_argument("--cache", help="embedding cache folder (optional)")
    draw = ap.add_mutually_exclusive_group()
    draw.add_argument("--test2", action="store_true", help="score the second test draw (session 19) instead")
    draw.add_argument("--test3", action="store_true", help="score the third test draw (session 21) instead")
    ap.add_argument("--out", type=Path, help="results file (default benchmarks/results/irony-airline-tweets-DATE.json)")
    a = ap.parse_args()
    models = models_to_score(a.model, a.name)
    labels = AIRLINE_TEST2 if a.test2 else AIRLINE_TEST3 if a.test3 else AIRLINE_IRONY
    d = read_airline_tweets(a.challenge, labels)
    encoded = encoded_for(models, lambda embed: labelled_airline(d, embed), a.cache)
    lab = next(iter(encoded.values()))  # texts and labels are the same for every layer set
    y, neg = lab.y, (lab.polarity == 0)
    batches = d["batch"].to_numpy()
    cues = np.array([sarcasm_score(t) for t in lab.texts])
    out = {
        "data": f"{labels.relative_to(REPO)}: real customer tweets to US airlines read for irony by two annotators",
        "date": date.today().isoformat(),
        "tweets": int(len(d)),
        "ironic": int(y.sum()),
        "ironic_by_sentiment": {s: int(y[(d["sentiment"] == s).to_numpy()].sum()) for s in ("neg", "neu", "pos", "")},
        "negative_tweets": int(neg.sum()),
        "old_cues": {"all": rounded_auc_ci(y, cues), "negative tweets": rounded_auc_ci(y[neg], cues[neg])},
        "models": {},
    }
    first_text_only = None
    for name, m in models:
        res = {}
        for basis, text_only in (("text only", True), ("with the sentiment", False)):
            s = scores(encoded[model_layers(m)], m, text_only)
            if text_only:
                s_text = s
            hit = at_threshold(y, s, m["threshold"])
            res[basis] = {
                "all": rounded_auc_ci(y, s),
                "negative tweets": rounded_auc_ci(y[neg], s[neg]),
                "per batch (all)": {
                    int(b): rounded_auc_ci(y[batches == b], s[batches == b]) for b in np.unique(batches)
                },
                "at_threshold": {k: round(v, 3) if isinstance(v, float) else v for k, v in hit.items()},
            }
        if first_text_only is None:
            first_name, first_text_only = name, s_text
        else:
            res[f"text only, minus {first_name}"] = [
                round(v, 4) for v in paired_auc_difference(y, s_text, first_text_only)
            ]
        out["models"][name] = res
        print(name, json.dumps(res))
    stem = "irony-airline-tweets" + ("-test2" if a.test2 else "-test3" if a.test3 else "")
    write_results(out, a.out or REPO / "benchmarks" / "results" / f"{stem}-{out['date']}.json")


if __name__ == "__main__":
    main()
