"""Score a reviews file of any size: chunk by chunk, with a progress bar, resumable after a crash or Ctrl-C.

Each chunk of the input (:func:`pipeline.inputs.iter_reviews_file`) is scored and written as one Parquet
part, atomically, in ``<output>.parts/``, beside a ``manifest.json`` naming the input (size, mtime, a hash of
its first and last MB), the model and the chunk size. Rerunning the same command skips the chunks whose
part is there. When every chunk is done the parts are copied, one row group each, into the output (Parquet,
or CSV with formulas defused), written to a temporary file and renamed: the output path only ever holds a
whole result. Memory holds one chunk, whatever the input's size.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .atomic import atomic_write_json, run_lock
from .classifiers.base import LABELS, Classifier, score_texts
from .errors import DataError, PipelineError
from .inputs import DEFAULT_CHUNK_ROWS, count_input_rows, iter_reviews_file

log = logging.getLogger(__name__)

PARTS_SUFFIX = ".parts"
MANIFEST = "manifest.json"
OUTPUT_COLUMNS = ("prob_pos", "pred", "pred_label")  # added after the input's own columns


@dataclass(frozen=True)
class PredictResult:
    output: Path
    reviews: int  # scored reviews written
    chunks: int
    resumed_chunks: int  # chunks found done from an earlier, interrupted run
    seconds: float


def add_predictions(df: pd.DataFrame, probs: np.ndarray) -> pd.DataFrame:
    """``df`` plus ``prob_pos`` (float32), ``pred`` (int8, threshold 0.5) and ``pred_label``."""
    df = df.copy()
    df["prob_pos"] = np.asarray(probs, dtype="float32")
    df["pred"] = (df["prob_pos"] >= 0.5).astype("int8")
    df["pred_label"] = np.where(df["pred"] == 1, LABELS[1], LABELS[0])
    return df


def input_fingerprint(path: Path, edge: int = 1 << 20) -> dict:
    """What identifies an input without reading it all: size, mtime and a hash of its first and last MB."""
    st = path.stat()
    h = hashlib.sha256()
    with path.open("rb") as f:
        h.update(f.read(edge))
        if st.st_size > edge:
            f.seek(max(edge, st.st_size - edge))
            h.update(f.read(edge))
    return {"name": path.name, "size": st.st_size, "mtime_ns": st.st_mtime_ns, "edges_sha256": h.hexdigest()}


def parts_dir(output: Path) -> Path:
    return output.with_name(output.name + PARTS_SUFFIX)


def predict_file(
    clf: Classifier,
    input_path: str | Path,
    output: str | Path,
    *,
    model_id: dict,
    batch: int = 256,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: Callable[[int | None], object] | None = None,
) -> PredictResult:
    """Score ``input_path`` with ``clf`` into ``output`` (``.csv`` → CSV, anything else → Parquet).

    ``model_id`` identifies the model in the manifest (a rerun with another model never resumes this one's
    parts). ``progress(total_rows_or_None)`` returns a tqdm-like bar (``update(n)``); default: none.
    Raises ``DataError`` for a bad input (nothing published, finished parts kept) and ``PipelineError`` when
    ``<output>.parts/`` holds the parts of another input, model or chunk size.
    """
    src, out = Path(input_path), Path(output)
    parts = parts_dir(out)
    manifest = {"input": input_fingerprint(src) if src.is_file() else None, "model": model_id, "chunk_rows": chunk_rows}
    t0 = time.perf_counter()
    if parts.is_dir() and (parts / MANIFEST).is_file():
        found = json.loads((parts / MANIFEST).read_text())
        if found != manifest:
            raise PipelineError(
                f"{parts} holds the partial output of another input, model or --chunk-rows; "
                "rerun with the same ones to resume, or delete that folder to start over"
            )
    chunks = resumed = reviews = 0
    schema = None
    with run_lock(parts, "predicting into"):
        if not (parts / MANIFEST).is_file():
            atomic_write_json(parts / MANIFEST, manifest)
        bar = progress(count_input_rows(src)) if progress else None
        for index, (file_rows, df) in enumerate(iter_reviews_file(src, chunk_rows)):
            chunks += 1
            part = parts / f"part-{index:06d}.parquet"
            if part.is_file():  # done before the interruption: read through, not rescored
                resumed += 1
                reviews += len(df)
                schema = schema or _schema_of(part)
                if bar is not None:
                    bar.update(file_rows)
                continue
            on_batch = None
            if bar is not None:
                done_in_chunk = [0]

                def on_batch(done: int, seen=done_in_chunk) -> None:
                    bar.update(done - seen[0])
                    seen[0] = done

            probs = score_texts(clf, df["text"].tolist(), batch, on_batch=on_batch)
            table, schema = _as_table(add_predictions(df, probs), schema, src.name, reviews, parts)
            _write_part(part, table)
            reviews += len(df)
            if bar is not None:
                bar.update(file_rows - len(df))  # the blank rows the chunk dropped
        if bar is not None and hasattr(bar, "close"):
            bar.close()
        _merge_parts([parts / f"part-{i:06d}.parquet" for i in range(chunks)], out, schema)
    shutil.rmtree(parts)
    return PredictResult(out, reviews, chunks, resumed, time.perf_counter() - t0)


def _schema_of(part: Path):
    import pyarrow.parquet as pq

    return pq.read_schema(part).remove_metadata()


def _as_table(df: pd.DataFrame, schema, filename: str, rows_before: int, parts: Path):
    """``df`` as an Arrow table with the schema of the first chunk (CSV and JSONL types are guessed per
    chunk); ``DataError`` naming the column when a later chunk does not fit it."""
    import pyarrow as pa

    if schema is None:
        table = pa.Table.from_pandas(df, preserve_index=False)
        if len(df) == 0:  # a blank first chunk says nothing about types: wait for one with reviews
            return table, None
        return table, table.schema.remove_metadata()
    try:
        return pa.Table.from_pandas(df, schema=schema, preserve_index=False), schema
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, KeyError, ValueError) as exc:
        got = pa.Table.from_pandas(df, preserve_index=False).schema
        diff = [
            f"{f.name!r} ({schema.field(f.name).type} → {f.type})"
            for f in got
            if f.name in schema.names and schema.field(f.name).type != f.type
        ]
        extra = sorted(set(got.names) ^ set(schema.names))
        what = ", ".join(diff) or (f"columns {extra}" if extra else str(exc)[:160])
        raise DataError(
            f"{filename}: column types change after review {rows_before:,}: {what}; give every value of that "
            f"column one type (or drop the column), delete {parts} and rerun"
        ) from None


def _write_part(part: Path, table) -> None:
    import pyarrow.parquet as pq

    tmp = part.with_name(f".{part.name}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, part)


def _merge_parts(parts: list[Path], out: Path, schema) -> None:
    """The parts, in order, into ``out`` through a temporary file in its folder; one part in memory at a time."""
    import pyarrow.parquet as pq

    from .render import csv_safe

    non_empty = [p for p in parts if pq.ParquetFile(p).metadata.num_rows]  # blank chunks hold no rows
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(fd)
    os.chmod(tmp, 0o644)
    try:
        if out.suffix == ".csv":  # formulas defused: the CSV is meant to be opened in a spreadsheet
            with open(tmp, "w", encoding="utf-8", newline="") as f:
                header = True
                for part in non_empty:
                    f.write(csv_safe(pq.read_table(part).to_pandas(), header=header))
                    header = False
        else:
            with pq.ParquetWriter(tmp, schema) as writer:
                for part in non_empty:
                    writer.write_table(pq.read_table(part).replace_schema_metadata(None))  # a row group per chunk
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
