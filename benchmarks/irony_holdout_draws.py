"""The ``irony`` tag on the IMDB holdout, per draw and pooled: random IMDB *train* reviews labelled for irony before
any model scored them (``data/irony/imdb_train_irony_holdout.csv``; draws 1-2 by one annotator, draw 3 by two with a
third deciding splits; rule and sampling in ``data/irony/README.md``).

    python benchmarks/irony_holdout_draws.py [--model irony_model.json --name NAME] ... [--cache DIR] [--out FILE]

``irony_fit --holdout`` writes the pooled figures into the model file (the dashboard shows the first); this adds
each draw on its own, so that a fresh draw can be read apart from the ones earlier designs were scored on. Each
model is meant to be scored once per draw (the holdout never chooses between designs). Writes
``benchmarks/results/irony-holdout-draws-<date>.json`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.analysis.tags.irony import model_layers
from pipeline.analysis.tags.irony_fit import (
    HOLDOUT,
    REPO,
    encoded_for,
    models_to_score,
    read_labelled,
    rounded_auc_ci,
    scores,
    write_results,
)
from pipeline.analysis.tags.lexical import sarcasm_score


def auc(y: np.ndarray, s: np.ndarray) -> list[float] | None:
    """ROC-AUC [95 % CI], or None where a part has one class only (a draw without strong irony, say)."""
    return rounded_auc_ci(y, s) if len(set(y.tolist())) == 2 else None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--imdb", type=Path, default=Path(os.environ.get("IMDB_DATA", REPO.parent / "shared/data/imdb")))
    ap.add_argument("--model", action="append", default=[], help="irony model JSON (default: the shipped one)")
    ap.add_argument("--name", action="append", default=[], help="a name per --model")
    ap.add_argument("--cache", help="embedding cache folder (as for irony_fit)")
    ap.add_argument("--out", type=Path, help="results file (default benchmarks/results/irony-holdout-draws-DATE.json)")
    a = ap.parse_args()
    models = models_to_score(a.model, a.name)
    draw = pd.read_csv(HOLDOUT)["draw"].to_numpy()
    encoded = encoded_for(models, lambda embed: read_labelled(HOLDOUT, a.imdb, embed), a.cache)
    lab = next(iter(encoded.values()))  # texts, labels and draws are the same for every layer set
    parts = {f"draw {d}": draw == d for d in sorted(set(draw))} | {"pooled": np.ones(len(draw), dtype=bool)}
    cues = np.array([sarcasm_score(t) for t in lab.texts])
    out = {
        "data": f"{HOLDOUT.relative_to(REPO)}: random IMDB train reviews labelled for irony before scoring",
        "date": date.today().isoformat(),
        "counts": {
            k: {"n": int(m.sum()), "ironic": int(lab.y[m].sum()), "strong": int((lab.y[m] == 1)[lab.strong[m]].sum())}
            for k, m in parts.items()
        },
        "old_cues": {k: auc(lab.y[m], cues[m]) for k, m in parts.items()},
        "models": {},
    }
    for name, m in models:
        res = {}
        for basis, text_only in (("with the label", False), ("text only", True)):
            s = scores(encoded[model_layers(m)], m, text_only)
            res[basis] = {
                k: {"all": auc(lab.y[p], s[p]), "strong only": auc(lab.y[p & lab.strong], s[p & lab.strong])}
                for k, p in parts.items()
            }
        out["models"][name] = res
        print(name, json.dumps(res))
    write_results(out, a.out or REPO / "benchmarks" / "results" / f"irony-holdout-draws-{out['date']}.json")


if __name__ == "__main__":
    main()
