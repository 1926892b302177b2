"""Work in chunks that survive a crash: one Parquet part per chunk beside a manifest, merged at the end.

:class:`ChunkParts` is the folder (``<output>.parts/``): a ``manifest.json`` naming what the parts are parts of
(an input, a model, a chunk size…), and ``part-000000.parquet``… each written atomically. A rerun with the same
manifest skips the chunks whose part is there; :meth:`ChunkParts.merge` copies the parts, one row group each,
into the output through a temporary file that is renamed. :func:`map_file` is the loop over a reviews file that
``predict`` and ``explain --input`` share; ``evaluate`` drives :class:`ChunkParts` over the test split.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .atomic import atomic_write_json, run_lock
from .errors import DataError, PipelineError
from .inputs import DEFAULT_CHUNK_ROWS, count_input_rows, iter_reviews_file

PARTS_SUFFIX = ".parts"
MANIFEST = "manifest.json"


def parts_dir(output: Path) -> Path:
    return Path(output).with_name(Path(output).name + PARTS_SUFFIX)


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


class ChunkParts:
    """The parts of one output, in ``folder``, identified by ``manifest`` (a JSON-able dict)."""

    def __init__(self, folder: Path, manifest: dict):
        self.folder, self.manifest = Path(folder), json.loads(json.dumps(manifest))  # as it reads back

    def found(self) -> dict | None:
        """The manifest of the parts already in the folder, if any."""
        path = self.folder / MANIFEST
        return json.loads(path.read_text()) if path.is_file() else None

    def check(self, what: str) -> None:
        """``PipelineError`` when the folder holds the parts of something else (``what`` says what may differ)."""
        found = self.found()
        if found is not None and found != self.manifest:
            raise PipelineError(
                f"{self.folder} holds the partial output of another {what}; rerun with the same ones to resume, "
                "or delete that folder to start over"
            )

    def clear(self) -> None:
        """Forget every part and the manifest (the folder and its lock stay)."""
        for p in self.folder.glob("part-*.parquet"):
            p.unlink()
        (self.folder / MANIFEST).unlink(missing_ok=True)

    def start(self) -> None:
        if self.found() is None:
            atomic_write_json(self.folder / MANIFEST, self.manifest)

    def part(self, index: int) -> Path:
        return self.folder / f"part-{index:06d}.parquet"

    def has(self, index: int) -> bool:
        return self.part(index).is_file()

    def write(self, index: int, table) -> None:
        import pyarrow.parquet as pq

        part = self.part(index)
        tmp = part.with_name(f".{part.name}.tmp")
        pq.write_table(table, tmp)
        os.replace(tmp, part)

    def schema(self, index: int):
        import pyarrow.parquet as pq

        return pq.read_schema(self.part(index)).remove_metadata()

    def merge(self, chunks: int, out: Path, schema, columns: list[str] | None = None) -> None:
        """Parts ``0 … chunks-1``, in order, into ``out`` (Parquet, or CSV with formulas defused when it ends in
        ``.csv``) through a temporary file in its folder; one part in memory at a time, a row group per part.
        ``columns``: only these (parts may carry more, e.g. what a resumed run needs back)."""
        import pyarrow.parquet as pq

        from .render import csv_safe

        parts = [self.part(i) for i in range(chunks)]
        non_empty = [p for p in parts if pq.ParquetFile(p).metadata.num_rows]  # blank chunks hold no rows
        if columns is not None and schema is not None:
            schema = pa_select(schema, columns)
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
        os.close(fd)
        os.chmod(tmp, 0o644)
        try:
            if out.suffix == ".csv":  # formulas defused: the CSV is meant to be opened in a spreadsheet
                with open(tmp, "w", encoding="utf-8", newline="") as f:
                    header = True
                    for part in non_empty:
                        f.write(csv_safe(pq.read_table(part, columns=columns).to_pandas(), header=header))
                        header = False
            else:
                with pq.ParquetWriter(tmp, schema) as writer:
                    for part in non_empty:
                        writer.write_table(pq.read_table(part, columns=columns).replace_schema_metadata(None))
            os.replace(tmp, out)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def pa_select(schema, columns: list[str]):
    import pyarrow as pa

    return pa.schema([schema.field(c) for c in columns])


@dataclass(frozen=True)
class ChunkedResult:
    output: Path
    reviews: int  # reviews written
    chunks: int
    resumed_chunks: int  # chunks found done from an earlier, interrupted run
    seconds: float
    blank_rows: int = 0  # input rows with no text: not reviews, so not written (ids follow the written rows)


# (frame of id, text, … reviews, on_rows(done_in_chunk) or None) -> the rows to write for them
Transform = Callable[[pd.DataFrame, Callable[[int], None] | None], pd.DataFrame]


def map_file(
    transform: Transform,
    input_path: str | Path,
    output: str | Path,
    *,
    identity: dict,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: Callable[[int | None], object] | None = None,
    what: str = "input, model or --chunk-rows",
) -> ChunkedResult:
    """``transform`` each chunk of the reviews file ``input_path`` (:func:`pipeline.inputs.iter_reviews_file`)
    into one part, resumably, then merge the parts into ``output`` (``.csv`` → CSV, anything else → Parquet).

    ``identity`` (e.g. the model and its settings) joins the input's fingerprint and ``chunk_rows`` in the
    manifest: a rerun with other ones is refused (``PipelineError`` naming ``what`` may differ). ``progress(total
    rows or None)`` returns a tqdm-like bar. Raises ``DataError`` for a bad input (finished parts are kept).
    """
    src, out = Path(input_path), Path(output)
    fingerprint = input_fingerprint(src) if src.is_file() else None
    parts = ChunkParts(parts_dir(out), {"input": fingerprint, "model": identity, "chunk_rows": chunk_rows})
    t0 = time.perf_counter()
    parts.check(what)
    chunks = resumed = reviews = blank = 0
    schema = None
    with run_lock(parts.folder, "writing into"):
        parts.start()
        bar = progress(count_input_rows(src)) if progress else None
        for index, (file_rows, df) in enumerate(iter_reviews_file(src, chunk_rows)):
            chunks += 1
            blank += file_rows - len(df)
            if parts.has(index):  # done before the interruption: read through, not redone
                resumed += 1
                reviews += len(df)
                schema = schema or parts.schema(index)
                if bar is not None:
                    bar.update(file_rows)
                continue
            on_rows = None
            if bar is not None:
                done_in_chunk = [0]

                def on_rows(done: int, seen=done_in_chunk) -> None:
                    bar.update(done - seen[0])
                    seen[0] = done

            table, schema = _as_table(transform(df, on_rows), schema, src.name, reviews, parts.folder)
            parts.write(index, table)
            reviews += len(df)
            if bar is not None:
                bar.update(file_rows - len(df))  # the blank rows the chunk dropped
        if bar is not None and hasattr(bar, "close"):
            bar.close()
        parts.merge(chunks, out, schema)
    parts.remove()
    return ChunkedResult(out, reviews, chunks, resumed, time.perf_counter() - t0, blank)


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
