"""Load IMDB from the hub, a parquet folder, a raw ``aclImdb/`` tree or a file pair; clean and split it.

Everything returns pandas frames with columns ``id, text, label, rating`` (rating is -1 when unknown).
``text`` stays raw (for display); :func:`pipeline.text.clean_text` gives what the model reads.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DataError
from .inputs import has_text, label_numbers, separator

log = logging.getLogger(__name__)

HUB_DATASET = "stanfordnlp/imdb"
FILE_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".jsonl": "json", ".json": "json"}


@dataclass
class Splits:
    train: pd.DataFrame
    val: pd.DataFrame
    test: pd.DataFrame
    source: str

    def fingerprint(self) -> dict:
        """Row counts and a content hash, so two runs can tell whether they saw the same data."""
        out = {"source": self.source}
        for name in ("train", "val", "test"):
            df = getattr(self, name)
            h = hashlib.sha256()
            for i, t, y in zip(df["id"], df["text"], df["label"]):
                h.update(f"{i}\x1f{y}\x1f{t}\x1e".encode())
            out[name] = {"rows": int(len(df)), "positive": int(df["label"].sum()), "sha256": h.hexdigest()[:16]}
        return out


def _standardize(df: pd.DataFrame, split: str, origin: str) -> pd.DataFrame:
    """Check columns and values; drop empty texts with a warning."""
    if "text" not in df.columns or "label" not in df.columns:
        raise DataError(f"{origin}: needs columns 'text' and 'label', found {list(df.columns)}")
    if len(df) == 0:
        raise DataError(f"{origin}: the {split} split has no rows")
    labels = label_numbers(df["label"])  # 0/1, or positive/negative as many exports write them
    bad = ~labels.isin([0, 1])
    if bad.any():
        examples = df.loc[bad, "label"].astype(str).unique()[:5].tolist()
        raise DataError(f"{origin}: {int(bad.sum())} {split} labels are not 0/1 or positive/negative (e.g. {examples})")
    out = pd.DataFrame(
        {
            "id": df["id"].astype(str) if "id" in df.columns else [f"{split}/{i}" for i in range(len(df))],
            "text": df["text"].fillna("").astype(str),
            "label": labels.astype("int8"),
            "rating": (
                # int16 (int8 wrapped 200 to -56); non-integers and values out of range become -1 (unknown)
                pd.to_numeric(df["rating"], errors="coerce")
                .where(lambda r: r.between(-1, 32767) & (r % 1 == 0))
                .fillna(-1)
                .astype("int16")
                if "rating" in df.columns
                else np.full(len(df), -1, dtype="int16")
            ),
        }
    )
    empty = ~has_text(out["text"])
    if empty.any():
        log.warning("%s: dropped %d empty %s texts", origin, int(empty.sum()), split)
        out = out[~empty].reset_index(drop=True)
    if out["id"].duplicated().any():
        raise DataError(f"{origin}: the {split} split has duplicate ids")
    return out


def _with_datasets(builder: str, files: dict[str, str], origin: str) -> dict[str, pd.DataFrame]:
    import datasets

    datasets.disable_progress_bars()
    try:
        ds = datasets.load_dataset(builder, data_files=files, **_csv_options(builder, files))
    except Exception as exc:  # datasets raises many types for unreadable files
        raise DataError(f"{origin}: cannot read ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})") from None
    return {k: ds[k].to_pandas() for k in files}


def _csv_options(builder: str, files: dict[str, str]) -> dict:
    """For a CSV, its separator as its header line shows it (a spreadsheet's ';' CSV): :func:`inputs.separator`."""
    if builder != "csv":
        return {}
    with open(next(iter(files.values())), encoding="utf-8", errors="replace") as f:
        return {"sep": separator(f.readline(), ".csv")}


def _load_hub() -> dict[str, pd.DataFrame]:
    import datasets

    try:
        ds = datasets.load_dataset(HUB_DATASET)
    except Exception as exc:
        raise DataError(
            f"cannot load {HUB_DATASET} from the Hugging Face hub ({type(exc).__name__}). Point at local "
            "files instead: --data DIR (with train.parquet/test.parquet, or a raw aclImdb/ folder) or "
            "IMDB_DATA=DIR"
        ) from None
    return {k: ds[k].to_pandas() for k in ("train", "test")}


def _load_aclimdb(root: Path) -> dict[str, pd.DataFrame]:
    out = {}
    for split in ("train", "test"):
        rows = []
        for label, pol in ((0, "neg"), (1, "pos")):
            folder = root / split / pol
            if not folder.is_dir():
                raise DataError(f"{root}: missing folder {split}/{pol} (expected the aclImdb layout)")
            for f in sorted(folder.glob("*.txt")):
                stem = f.stem
                rating = int(stem.rsplit("_", 1)[1]) if "_" in stem and stem.rsplit("_", 1)[1].isdigit() else -1
                try:
                    text = f.read_text(encoding="utf-8")
                except UnicodeDecodeError:
                    raise DataError(f"{f}: not UTF-8 text") from None
                rows.append({"id": f"{split}/{pol}/{stem}", "text": text, "label": label, "rating": rating})
        out[split] = pd.DataFrame(rows)
    return out


def _builder_for(path: Path) -> str:
    b = FILE_SUFFIXES.get(path.suffix.lower())
    if b is None:
        raise DataError(f"{path}: unsupported file type (use .csv, .parquet or .jsonl)")
    return b


def load_raw(data: str | None = None) -> tuple[dict[str, pd.DataFrame], str]:
    """Load the train and test splits from ``data`` (see ``RunConfig.data``); returns frames and source."""
    src = data or os.environ.get("IMDB_DATA") or "hub"
    if src == "hub":
        frames = _load_hub()
    elif "," in src:
        train_f, test_f = (Path(p.strip()) for p in src.split(",", 1))
        for p in (train_f, test_f):
            if not p.is_file():
                raise DataError(f"data file not found: {p}")
        frames = {}
        for split, p in (("train", train_f), ("test", test_f)):
            frames.update({split: _with_datasets(_builder_for(p), {"train": str(p)}, str(p))["train"]})
    else:
        root = Path(src)
        if not root.exists():
            raise DataError(f"data folder not found: {root} (expected train.parquet/test.parquet or aclImdb/)")
        if (root / "aclImdb").is_dir():
            root = root / "aclImdb"
        if (root / "train.parquet").is_file() and (root / "test.parquet").is_file():
            # one load per file: a schema problem in one split must be reported on its own
            frames = {
                split: _with_datasets(
                    "parquet", {"train": str(root / f"{split}.parquet")}, str(root / f"{split}.parquet")
                )["train"]
                for split in ("train", "test")
            }
        elif (root / "train" / "pos").is_dir():
            frames = _load_aclimdb(root)
        else:
            raise DataError(f"{root}: expected train.parquet + test.parquet or an aclImdb layout (train/pos/*.txt …)")
    return {k: _standardize(v, k, src) for k, v in frames.items()}, src


def stratified_sample(df: pd.DataFrame, n: int | None, seed: int) -> pd.DataFrame:
    """``n`` rows with the label balance of ``df`` (all rows when ``n`` is None or ≥ len)."""
    if n is None or n >= len(df):
        return df.reset_index(drop=True)
    from sklearn.model_selection import train_test_split

    part, _ = train_test_split(df, train_size=n, stratify=df["label"], random_state=seed)
    return part.sort_index().reset_index(drop=True)


def load_splits(
    data: str | None, train_size: int | None, test_size: int | None, val_fraction: float, seed: int
) -> Splits:
    """Train/validation/test frames. Validation is carved from train, stratified and seeded."""
    frames, src = load_raw(data)  # first: a bad source is reported before sklearn is imported
    from sklearn.model_selection import train_test_split

    train = stratified_sample(frames["train"], train_size, seed)
    test = stratified_sample(frames["test"], test_size, seed)
    if train["label"].nunique() < 2 or len(train) < 10:
        raise DataError(f"{src}: training data needs at least 10 rows of both labels")
    tr, va = train_test_split(train, test_size=val_fraction, stratify=train["label"], random_state=seed)
    return Splits(tr.sort_index().reset_index(drop=True), va.sort_index().reset_index(drop=True), test, src)
