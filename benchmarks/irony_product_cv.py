"""Leave-one-writer-out check of the ``irony`` tag on the written product reviews it trains on.

    python benchmarks/irony_product_cv.py [--cache DIR]

``data/irony/product_reviews_train_written.csv`` has eight batches of 100 reviews, each written by another AI
assistant, the first four on other product domains (books/films/music/games/toys; electronics/software; kitchen/food/
beauty/baby/pets; clothing/tools/garden/sports/office), the next four in other styles (long; short; 2005-2012 media and
gadgets; casual). For each batch, the whole fit (``irony_fit.fit``: review model, word model, stack) is redone
without it and the batch is scored, with its stars and text only. That measures how far what was learned carries to
a writer, domains and a style the models never saw, for the old design (session 10's shipped model, which no product
review trained) and this one. The reviews are written, not real: the numbers bound
what the written data can show, they are not a product-review benchmark. Writes
``benchmarks/results/irony-product-cv-<date>.json``.

    python benchmarks/irony_product_cv.py --score NAME=MODEL.json ... --batches wF wG wH

scores saved models on the named batches without refitting (session 11: the model fitted on batches wA-wD, scored
on wE-wH, written after it was fitted; session 13: the validation batches wI-wP of
``data/irony/product_reviews_validation_written.csv``); writes
``benchmarks/results/irony-product-fresh-batches-<date>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from pipeline.analysis.tags.irony import model_layers
from pipeline.analysis.tags.irony_fit import (
    EMBED_LAYERS,
    PRODUCT_VALIDATION,
    REPO,
    encoded_for,
    fit,
    labelled_products,
    models_to_score,
    read_products,
    rounded_auc_ci,
    scores,
    write_results,
)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--imdb", default=os.environ.get("IMDB_DATA", str(REPO.parent / "shared" / "data" / "imdb")))
    ap.add_argument("--challenge", default=str(REPO.parent / "shared" / "data" / "challenge"))
    ap.add_argument("--cache", help="embedding cache folder (as for irony_fit)")
    ap.add_argument(
        "--baseline",
        help="an older irony_model.json to score on the same batches (session 10's: "
        "git show e45f602:pipeline/analysis/tags/irony_model.json > FILE)",
    )
    ap.add_argument("--score", nargs="*", default=[], help="NAME=irony_model.json to score without refitting")
    ap.add_argument("--batches", nargs="*", default=[], help="with --score: the batches to score")
    ap.add_argument(
        "--unbalanced",
        action="store_true",
        help="ablation: fit without source_weights (session 11's design: each source keeps its own ironic share)",
    )
    ap.add_argument("--out", type=Path, help="results file (default benchmarks/results/irony-product-cv-DATE.json)")
    a = ap.parse_args()
    prod = read_products()
    if a.score:  # any batch, trained on or not
        prod = pd.concat([prod, read_products(PRODUCT_VALIDATION)], ignore_index=True)
        return score_saved(prod, dict(x.split("=", 1) for x in a.score), a.batches, a.cache)
    out = {
        "benchmark": "irony leave-one-writer-out on written product reviews",
        "date": date.today().isoformat(),
        "baseline": a.baseline and "session 10's irony_model.json (commit e45f602), trained on no product review",
        "design": "unbalanced sources (session 11)" if a.unbalanced else "source-balanced weights (session 12)",
        "minilm_layers": list(EMBED_LAYERS),
    }
    held_y, held_s = [], {"with stars": [], "text only": []}
    out["batches"], pooled = (
        {},
        {"with stars": [], "text only": [], "baseline with stars": [], "baseline text only": []},
    )
    baseline = models_to_score([a.baseline], ["baseline "]) if a.baseline else []
    for batch in sorted(prod["batch"].unique()):
        rows = prod[prod["batch"] == batch]
        model = fit(
            Path(a.imdb),
            Path(a.challenge),
            a.cache,
            products=prod[prod["batch"] != batch].reset_index(drop=True),
            balance_sources=not a.unbalanced,
        )
        models = [("", model)] + baseline
        # each model reads the batch with its own MiniLM layers
        encoded = encoded_for(models, lambda embed, rows=rows: labelled_products(rows, embed), a.cache)
        held = encoded[model_layers(model)]
        res = {"categories": sorted(rows["category"].unique().tolist())[:12], "n": len(rows)}
        for name, m in models:
            for basis, text_only in (("with stars", False), ("text only", True)):
                s = scores(encoded[model_layers(m)], m, text_only)
                res[name + basis] = round(float(roc_auc_score(held.y, s)), 3)  # the point: no bootstrap
                pooled[name + basis].append(res[name + basis])
                if not name:
                    held_s[basis].append(s)
        held_y.append(held.y)
        out["batches"][batch] = res
        print(batch, json.dumps(res), flush=True)
    out["mean_auc"] = {k: round(float(np.mean(v)), 3) for k, v in pooled.items() if v}
    # all 800 held-out scores in one ranking: batches of different lengths and domains mixed, as in a real corpus
    out["pooled_auc"] = {b: rounded_auc_ci(np.concatenate(held_y), np.concatenate(v)) for b, v in held_s.items()}
    print(json.dumps(out["mean_auc"]), json.dumps(out["pooled_auc"]))
    write_results(out, a.out or REPO / "benchmarks" / "results" / f"irony-product-cv-{out['date']}.json")


def score_saved(prod, models: dict[str, str], batches: list[str], cache: str | None) -> None:
    """AUC of saved models on some batches, with stars and text only, per batch and pooled."""
    rows = prod[prod["batch"].isin(batches)].reset_index(drop=True)
    loaded = models_to_score(list(models.values()), list(models.keys()))
    encoded = encoded_for(loaded, lambda embed: labelled_products(rows, embed), cache)
    out = {"benchmark": "irony on written product batches no scored model trained on", "date": date.today().isoformat()}
    out["batches"], out["models"] = batches, {}
    for name, m in loaded:
        held, res = encoded[model_layers(m)], {}
        for basis, text_only in (("with stars", False), ("text only", True)):
            s = scores(held, m, text_only)
            res[basis] = {b: rounded_auc_ci(held.y[rows["batch"] == b], s[rows["batch"] == b]) for b in batches}
            res[basis]["pooled"] = rounded_auc_ci(held.y, s)
        out["models"][name] = res
        print(name, json.dumps(res))
    write_results(out, REPO / "benchmarks" / "results" / f"irony-product-fresh-batches-{out['date']}.json")


if __name__ == "__main__":
    main()
