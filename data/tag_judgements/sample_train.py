"""Draw session 22's train-split reader samples for ``mixed_sentiment`` and ``truncated_verdict`` (README in this
folder): 1,500 train reviews that ``minilm-12k-128`` never saw, tagged by the run; 240 at random for the mixed
readers (two batches of 120) and 100 of the truncated_verdict-flagged ones for the truncated readers. Writes the
items the readers see (``OUT/*_items.txt``: text only) and the keys here (``train_mixed_items.csv``,
``train_truncated_items.csv``; ``train_pool.json``: counts).

    python data/tag_judgements/sample_train.py [--run minilm-12k-128] [--models-dir models] [--out /tmp/tj22]
"""

import json
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sample import arguments, write_items  # noqa: E402

HERE = Path(__file__).resolve().parent
SEED = 2232


def unseen_train(run: Path) -> pd.DataFrame:
    """The train-split reviews outside the run's train + validation draw (its own config, row counts checked)."""
    from pipeline.data import load_raw, load_splits

    info = json.loads((run / "run.json").read_text())
    cfg = info["config"]
    splits = load_splits(cfg["data"], cfg["train_size"], cfg["test_size"], cfg["val_fraction"], cfg["seed"])
    for part, frame in (("train", splits.train), ("val", splits.val)):
        assert len(frame) == info["data"][part]["rows"], (part, len(frame))
    frames, _ = load_raw(cfg["data"])
    seen = set(splits.train["id"]) | set(splits.val["id"])
    return frames["train"][~frames["train"]["id"].isin(seen)].sort_values("id").reset_index(drop=True)


def main() -> None:
    from pipeline.analysis.tags.model_based import TruncatedVerdict
    from pipeline.classifiers import load_classifier
    from pipeline.text import clean_text

    a = arguments(Path("/tmp/tj22"))
    run = Path(a.models_dir) / a.run
    a.out.mkdir(parents=True, exist_ok=True)
    pool = unseen_train(run)
    rng = np.random.default_rng(SEED)
    drawn = pool.iloc[np.sort(rng.choice(len(pool), 1500, replace=False))]
    drawn[["id", "text", "label", "rating"]].to_parquet(a.out / "pool.parquet", index=False)
    tagged_path = a.out / "pool_tagged.parquet"
    cmd = [sys.executable, "-m", "pipeline", "tag", "--run", str(run), "--input", str(a.out / "pool.parquet")]
    cmd += ["--output", str(tagged_path), "--tags", "mixed_sentiment,truncated_verdict"]
    subprocess.run(cmd, check=True)
    tagged = pd.read_parquet(tagged_path).sort_values("id").reset_index(drop=True)

    mixed = tagged.iloc[rng.choice(len(tagged), 240, replace=False)].reset_index(drop=True)
    for b in (1, 2):
        part = mixed.iloc[(b - 1) * 120 : b * 120]
        write_items([clean_text(t) for t in part["text"]], a.out / f"mixed_train{b}_items.txt")
    keys = mixed[["id", "mixed_sentiment"]].assign(batch=np.repeat([1, 2], 120), number=np.tile(range(1, 121), 2))
    keys[["batch", "number", "id", "mixed_sentiment"]].to_csv(HERE / "train_mixed_items.csv", index=False)

    flagged = tagged[tagged["truncated_verdict"].eq(True)].reset_index(drop=True)
    trunc = flagged.iloc[rng.choice(len(flagged), 100, replace=False)].reset_index(drop=True)
    clf = load_classifier(run)
    dropped = [TruncatedVerdict.unread_part(t, clf) for t in trunc["text"]]
    write_items(dropped, a.out / "truncated_train_items.txt")
    keys = trunc[["id", "pred", "truncated_verdict_dropped_prob"]].assign(number=range(1, 101))
    keys[["number", "id", "pred", "truncated_verdict_dropped_prob"]].to_csv(
        HERE / "train_truncated_items.csv", index=False
    )
    counts = {
        "run": a.run,
        "unseen_train_pool": len(pool),
        "drawn": len(drawn),
        "mixed_sentiment_flagged_of_drawn": int(tagged["mixed_sentiment"].eq(True).sum()),
        "mixed_sentiment_flagged_of_240": int(mixed["mixed_sentiment"].eq(True).sum()),
        "truncated": int(tagged["truncated"].sum()),
        "truncated_verdict_flagged": len(flagged),
    }
    (HERE / "train_pool.json").write_text(json.dumps(counts, indent=1) + "\n")
    print(counts)


if __name__ == "__main__":
    main()
