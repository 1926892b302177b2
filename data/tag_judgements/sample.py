"""Draw the reader samples for ``mixed_sentiment`` and ``truncated_verdict`` (README in this folder), write the
items the readers see (``/tmp/tj/*_items.txt``: text only) and the keys (``mixed_items.csv``, ``truncated_items.csv``
here: item number, review id, the tag's value, and for truncated_verdict the model's prediction).

    python data/tag_judgements/sample.py [--run minilm-12k-128] [--models-dir models] [--out /tmp/tj]
"""

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
SEED = 2131


def draw(frame: pd.DataFrame, flag: str, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """``n`` rows with ``flag`` true and ``n`` with it false (sorted by id before drawing), shuffled together."""
    frame = frame.sort_values("id")
    parts = [frame[frame[flag] == v] for v in (True, False)]
    picked = pd.concat([p.iloc[rng.choice(len(p), n, replace=False)] for p in parts])
    return picked.iloc[rng.permutation(len(picked))].reset_index(drop=True)


def write_items(texts: list[str], path: Path) -> None:
    with path.open("w") as f:
        for i, t in enumerate(texts, 1):
            f.write(f"### ITEM {i}\n{' '.join(t.split())}\n\n")


def arguments(default_out: Path) -> argparse.Namespace:
    """``--run``, ``--models-dir`` and ``--out`` (where the readers' item files go)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", default="minilm-12k-128")
    ap.add_argument("--models-dir", default="models")
    ap.add_argument("--out", type=Path, default=default_out)
    return ap.parse_args()


def main() -> None:
    from pipeline.analysis.tags.model_based import TruncatedVerdict
    from pipeline.classifiers import load_classifier
    from pipeline.text import clean_text

    a = arguments(Path("/tmp/tj"))
    run = Path(a.models_dir) / a.run
    preds = pd.read_parquet(run / "predictions.parquet")
    tags = pd.read_parquet(run / "tags.parquet")
    d = preds.merge(tags[["id", "mixed_sentiment", "truncated_verdict"]], on="id")
    rng = np.random.default_rng(SEED)
    a.out.mkdir(parents=True, exist_ok=True)

    mixed = draw(d[d["mixed_sentiment"].notna()].astype({"mixed_sentiment": bool}), "mixed_sentiment", 60, rng)
    write_items([clean_text(t) for t in mixed["text"]], a.out / "mixed_items.txt")
    keys = mixed[["id", "mixed_sentiment"]].assign(number=range(1, len(mixed) + 1))
    keys[["number", "id", "mixed_sentiment"]].to_csv(HERE / "mixed_items.csv", index=False)

    scored = d[d["truncated_verdict"].notna() & d["truncated"]].astype({"truncated_verdict": bool})
    trunc = draw(scored, "truncated_verdict", 50, rng)
    clf = load_classifier(run)
    dropped = [TruncatedVerdict.unread_part(t, clf) for t in trunc["text"]]
    write_items(dropped, a.out / "truncated_items.txt")
    keys = trunc[["id", "truncated_verdict", "pred"]].assign(number=range(1, len(trunc) + 1))
    keys[["number", "id", "truncated_verdict", "pred"]].to_csv(HERE / "truncated_items.csv", index=False)
    strata = {
        "run": a.run,
        "mixed_sentiment": {
            "scored": int(d["mixed_sentiment"].notna().sum()),
            "flagged": int(d["mixed_sentiment"].eq(True).sum()),
        },
        "truncated_verdict": {"scored": len(scored), "flagged": int(scored["truncated_verdict"].sum())},
    }
    (HERE / "strata.json").write_text(json.dumps(strata, indent=1) + "\n")
    print(strata)


if __name__ == "__main__":
    main()
