"""How well the run's model tells a sentiment label from a label about something else — the check ``tag --input``
makes before it reads a file's ``label`` column (``pipeline/analysis/tags/sentiment_label.py``).

For each run, P(positive) on three labelled sets, against each set's sentiment (the true polarity) and against its
irony label read as if it were sentiment (1 = ironic taken for 1 = positive, the mistake the check must catch):

- the 760 written product reviews of ``data/irony/product_reviews_validation_written.csv`` (sentiment from the stars;
  3-star reviews have none);
- the 300 IMDB train reviews of ``data/irony/imdb_train_irony_validation.csv``;
- the UCI Amazon/Yelp sentences with their irony labels (``data/irony/uci_sentences_irony_labels.csv``).

ROC-AUC of P(positive) against each label, and the share of reviews where the prediction (P ≥ 0.5) disagrees.

    python benchmarks/sentiment_label_check.py --run models/RUN [--run ...] [--imdb DIR] [--challenge DIR]

Writes ``benchmarks/results/sentiment-label-check-<date>.json``.
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

from pipeline.analysis.tags import irony_fit as F
from pipeline.analysis.tags.sentiment_label import MIN_MODEL_AUC, rating_polarity
from pipeline.classifiers import load_classifier, score_texts

ROOT = Path(__file__).resolve().parent.parent


def labelled_sets(imdb: Path, challenge: Path) -> dict[str, tuple[list[str], pd.Series, pd.Series]]:
    """name → (texts, sentiment 1/0/NaN, irony 1/0)."""
    pv = pd.read_csv(F.PRODUCT_VALIDATION)
    iv = pd.read_csv(F.VALIDATION)
    uci = F.read_uci_sentences(challenge)
    return {
        "written product reviews (validation, 760)": (pv["text"].tolist(), rating_polarity(pv["stars"]), pv["ironic"]),
        "IMDB train irony validation (300)": (F.imdb_train_texts(iv["id"], imdb), iv["label"], iv["ironic"]),
        f"UCI Amazon/Yelp sentences ({len(uci)})": (uci["text"].tolist(), uci["label"], uci["ironic"]),
    }


def agreement(label: pd.Series, prob: np.ndarray) -> dict:
    known = label.notna().to_numpy()
    y = label[known].astype(int).to_numpy()
    p = prob[known]
    return {
        "n": int(known.sum()),
        "roc_auc": round(float(roc_auc_score(y, p)), 3),
        "disagree": round(float(((p >= 0.5).astype(int) != y).mean()), 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", action="append", required=True, help="a run folder (repeatable)")
    ap.add_argument("--imdb", type=Path, default=Path(os.environ.get("IMDB_DATA", ROOT.parent / "shared/data/imdb")))
    ap.add_argument("--challenge", type=Path, default=ROOT.parent / "shared" / "data" / "challenge")
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    sets = labelled_sets(a.imdb, a.challenge)
    out = {"date": date.today().isoformat(), "min_model_auc": MIN_MODEL_AUC, "runs": {}}
    for run in a.run:
        clf = load_classifier(run)
        res = {}
        for name, (texts, sentiment, irony) in sets.items():
            prob = np.asarray(score_texts(clf, texts, 32))
            res[name] = {
                "sentiment label": agreement(sentiment, prob),
                "irony label read as sentiment": agreement(irony, prob),
            }
            print(Path(run).name, name, json.dumps(res[name]))
        out["runs"][Path(run).name] = res
    dest = a.out or ROOT / "benchmarks" / "results" / f"sentiment-label-check-{out['date']}.json"
    F.write_results(out, dest)


if __name__ == "__main__":
    main()
