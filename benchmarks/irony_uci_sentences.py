"""The ``irony`` tag on *real* product-review text: the UCI Amazon (cell-phone accessories) and Yelp (restaurant)
sentences (Kotzias et al. 2015), every one read for irony by two annotators (``data/irony/uci_sentences_irony_labels.csv``;
rule and agreement in ``data/irony/README.md``).

    python benchmarks/irony_uci_sentences.py [--model irony_model.json --name NAME] ...

Irony is rare in them (14 of 2,000 sentences, all in negative sentences), so the figures have wide intervals. The
overall AUC is helped by the label alone (every ironic sentence is negative); the honest figure is the AUC *within
the negative sentences* (ironic vs sincere complaints). Caveat: the sentence-sentiment model behind the incongruity
features was trained on these sentences' sentiment labels (not on irony), so with the label its flip features are
in-sample. Duplicate texts are scored once (first occurrence). Writes
``benchmarks/results/irony-uci-sentences-<date>.json`` (or ``--out``) (one entry per model).
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path

import numpy as np

from pipeline.analysis.tags.irony import model_layers
from pipeline.analysis.tags.irony_fit import (
    REPO,
    UCI_IRONY,
    at_threshold,
    encoded_for,
    labelled_uci,
    models_to_score,
    read_uci_sentences,
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
    ap.add_argument("--out", type=Path, help="results file (default benchmarks/results/irony-uci-sentences-DATE.json)")
    a = ap.parse_args()
    models = models_to_score(a.model, a.name)
    d = read_uci_sentences(a.challenge)
    encoded = encoded_for(models, lambda embed: labelled_uci(d, embed))
    lab = next(iter(encoded.values()))  # texts and labels are the same for every layer set
    y, neg = lab.y, lab.polarity == 0
    cues = np.array([sarcasm_score(t) for t in lab.texts])
    out = {
        "data": f"{UCI_IRONY.relative_to(REPO)}: UCI Amazon + Yelp sentences read for irony by two annotators",
        "date": date.today().isoformat(),
        "sentences": int(len(d)),
        "ironic": int(y.sum()),
        "ironic_in_negative_sentences": int(y[neg].sum()),
        "old_cues": {"all": rounded_auc_ci(y, cues), "negative sentences": rounded_auc_ci(y[neg], cues[neg])},
        "models": {},
    }
    for name, m in models:
        res = {}
        for basis, text_only in (("with the label", False), ("text only", True)):
            s = scores(encoded[model_layers(m)], m, text_only)
            hit = at_threshold(y, s, m["threshold"])
            res[basis] = {
                "all": rounded_auc_ci(y, s),
                "negative sentences": rounded_auc_ci(y[neg], s[neg]),
                "at_threshold": {k: round(v, 3) if isinstance(v, float) else v for k, v in hit.items()},
                "ironic_rank_among_negative": sorted(int((s[neg] > v).sum()) + 1 for v in s[neg & (y == 1)]),
            }
        out["models"][name] = res
        print(name, json.dumps(res))
    write_results(out, a.out or REPO / "benchmarks" / "results" / f"irony-uci-sentences-{out['date']}.json")


if __name__ == "__main__":
    main()
