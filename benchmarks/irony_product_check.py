"""A domain sanity check for the ``irony`` tag on *product* reviews: the 80 reviews of
``data/irony/product_reviews_written.csv`` (written for this check by an AI assistant that never saw the tag; 40
ironic, 40 sincere, 1-5 stars). They are not real reviews, so the numbers are a sanity check, not evidence, and the
file is never trained on or used to choose a design.

    python benchmarks/irony_product_check.py [--model irony_model.json --name NAME] ...

ROC-AUC with the stars and text only, overall and within each star band (mock praise at 5 stars vs sincere 5-star
reviews, sarcastic vs sincere 1-2-star complaints, sarcastic vs sincere 3-4-star reviews): the file's 15/15/10 mix
of bands is arbitrary, so the overall AUC mostly measures how the polarity terms trade bands against each other,
while the within-band AUCs measure what the text and incongruity features separate. Writes
``benchmarks/results/irony-product-check-<date>.json`` (or ``--out``) (one entry per model).
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path

import pandas as pd

from pipeline.analysis.tags.irony import model_layers
from pipeline.analysis.tags.irony_fit import (
    encoded_for,
    labelled_products,
    models_to_score,
    rounded_auc_ci,
    scores,
    write_results,
)
from pipeline.analysis.tags.lexical import sarcasm_score

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "irony" / "product_reviews_written.csv"
BANDS = {
    "5 stars: mock praise vs sincere": ("mock_praise_5", "sincere_positive"),
    "1-2 stars: sarcastic vs sincere complaints": ("sarcastic_complaint", "sincere_negative"),
    "3-4 stars: sarcastic vs sincere": ("sarcastic_mid", "sincere_mid"),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", action="append", default=[], help="irony model JSON (default: the shipped one)")
    ap.add_argument("--name", action="append", default=[], help="a name per --model")
    ap.add_argument("--out", type=Path, help="results file (default benchmarks/results/irony-product-check-DATE.json)")
    a = ap.parse_args()
    models = models_to_score(a.model, a.name)
    d = pd.read_csv(DATA)
    encoded = encoded_for(models, lambda embed: labelled_products(d, embed))
    lab = next(iter(encoded.values()))  # texts and labels are the same for every layer set
    out = {
        "data": f"{DATA.relative_to(ROOT)}: 80 product reviews written by an AI assistant (40 ironic), not real reviews",
        "date": date.today().isoformat(),
        "old_cues_roc_auc": rounded_auc_ci(d["ironic"], [sarcasm_score(t) for t in lab.texts]),
        "models": {},
    }
    for name, m in models:
        res = {}
        for basis, text_only in (("with stars", False), ("text only", True)):
            s = scores(encoded[model_layers(m)], m, text_only)
            res[basis] = {"all": rounded_auc_ci(d["ironic"], s)}
            for band, kinds in BANDS.items():
                sub = d["kind"].isin(kinds).to_numpy()
                res[basis][band] = rounded_auc_ci(d["ironic"][sub], s[sub])
            res[basis]["mean_score_by_kind"] = {
                k: round(float(s[d["kind"] == k].mean()), 3) for k in sorted(set(d["kind"]))
            }
        out["models"][name] = res
        print(name, json.dumps(res))
    write_results(out, a.out or ROOT / "benchmarks" / "results" / f"irony-product-check-{out['date']}.json")


if __name__ == "__main__":
    main()
