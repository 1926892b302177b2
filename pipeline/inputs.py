"""Reviews given to score (a CLI ``--input`` file, a dashboard upload, a typed review): the one input guard.

Every entry point passes its :class:`InputLimits`; a file over a limit is refused with one line saying which,
*before* it is decoded in full. Parquet is the dangerous format: a few hundred bytes of dictionary-encoded
data can expand to gigabytes of text, so its string columns are read as dictionaries and their decoded size
is computed from the dictionary's value lengths before any text is materialised.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .errors import DataError

SUFFIXES = (".csv", ".parquet", ".jsonl", ".json", ".txt")
TEXT_COLUMNS = ("text", "review", "content")
MB = 1024 * 1024


def _size(n: float) -> str:
    return f"{n / MB:,.1f} MB" if n >= MB / 10 else f"{n / 1024:,.1f} KB"


@dataclass(frozen=True)
class InputLimits:
    """Limits on one input. ``max_rows``: rows kept (the first ones; the frame's ``attrs["rows_dropped"]``
    says that more were there), ``None`` = all. ``max_decoded_bytes``: all string cells once decoded.
    ``max_text_chars``: one review (longer ones are refused with their row number, not cut silently)."""

    max_bytes: int
    max_rows: int | None
    max_decoded_bytes: int
    max_text_chars: int


# The dashboard: one shared server, answers within seconds.
UPLOAD_LIMITS = InputLimits(max_bytes=50 * MB, max_rows=5000, max_decoded_bytes=200 * MB, max_text_chars=200_000)
# The CLI on the user's own machine: large files, still refused before memory runs out.
CLI_LIMITS = InputLimits(max_bytes=4096 * MB, max_rows=None, max_decoded_bytes=8192 * MB, max_text_chars=1_000_000)


def read_reviews_file(path: str | Path, limits: InputLimits = CLI_LIMITS) -> pd.DataFrame:
    """Reviews to score from CSV/Parquet/JSONL (a ``text`` or ``review`` column) or TXT (one per line).

    Returns columns ``id, text`` plus any others in the file. Raises ``DataError`` with a clear message
    for a missing file, a file over ``limits``, a non-UTF-8 or binary file, no text column, or no review.
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(f"input file not found: {p}")
    size = p.stat().st_size
    if size > limits.max_bytes:
        raise DataError(f"{p.name}: {_size(size)}; the limit is {_size(limits.max_bytes)}")
    return parse_reviews(p.read_bytes(), p.name, limits)


def parse_reviews(raw: bytes, filename: str, limits: InputLimits = CLI_LIMITS) -> pd.DataFrame:
    """Bytes of an uploaded or read file → ``id, text, …`` frame, within ``limits``."""
    suffix = Path(filename).suffix.lower()
    if suffix not in SUFFIXES:
        raise DataError(f"{filename}: unsupported file type (use .csv, .parquet, .jsonl or .txt)")
    if len(raw) > limits.max_bytes:
        raise DataError(f"{filename}: {_size(len(raw))}; the limit is {_size(limits.max_bytes)}")
    if suffix == ".parquet":
        df, more = _read_parquet(raw, filename, limits)
    else:
        df, more = _read_text_format(raw, filename, suffix, limits)
    col = next((c for c in df.columns if str(c).lower() in TEXT_COLUMNS), None)
    if col is None:
        found = [str(c) for c in df.columns][:10]
        raise DataError(f"{filename}: no text column (need one named 'text' or 'review'; found {found})")
    df = df.rename(columns={col: "text"})
    df["text"] = df["text"].fillna("").astype(str)
    lengths = df["text"].str.len()
    if len(df) and lengths.max() > limits.max_text_chars:
        row = int(lengths.idxmax())
        raise DataError(
            f"{filename}: row {row + 1} is {int(lengths.max()):,} characters; the limit per review is "
            f"{limits.max_text_chars:,}"
        )
    df = df[df["text"].str.strip() != ""].reset_index(drop=True)
    if df.empty:
        raise DataError(f"{filename}: no non-empty reviews")
    if "id" not in df.columns:
        df.insert(0, "id", [str(i) for i in range(len(df))])
    df.attrs["rows_dropped"] = more
    return df


def _read_text_format(raw: bytes, filename: str, suffix: str, limits: InputLimits) -> tuple[pd.DataFrame, bool]:
    if b"\x00" in raw[:4096]:
        raise DataError(f"{filename}: looks binary, expected UTF-8 text")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{filename}: not UTF-8 text (bad byte at position {exc.start})") from None
    cap = limits.max_rows
    try:
        if suffix == ".txt":
            lines = [ln.strip() for ln in text.splitlines()]
            df = pd.DataFrame({"text": [ln for ln in lines if ln]})
        elif suffix == ".csv":
            df = pd.read_csv(io.StringIO(text), nrows=None if cap is None else cap + 1)
        else:
            df = pd.read_json(
                io.StringIO(text),
                lines=suffix == ".jsonl",
                nrows=None if cap is None or suffix != ".jsonl" else cap + 1,
            )
    except pd.errors.EmptyDataError:
        raise DataError(f"{filename}: the file is empty") from None
    except Exception as exc:  # noqa: BLE001 — pandas raises many types for malformed files
        raise DataError(f"{filename}: cannot parse ({type(exc).__name__}: {str(exc)[:160]})") from None
    more = cap is not None and len(df) > cap
    return (df.head(cap) if more else df), more


def _read_parquet(raw: bytes, filename: str, limits: InputLimits) -> tuple[pd.DataFrame, bool]:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        probe = pq.ParquetFile(io.BytesIO(raw))
        strings = [
            f.name
            for f in probe.schema_arrow
            if pa.types.is_string(f.type)
            or pa.types.is_large_string(f.type)
            or pa.types.is_binary(f.type)
            or pa.types.is_large_binary(f.type)
        ]
        pf = pq.ParquetFile(io.BytesIO(raw), read_dictionary=strings)
    except Exception as exc:  # noqa: BLE001
        raise DataError(f"{filename}: cannot parse ({type(exc).__name__}: {str(exc)[:160]})") from None
    meta = pf.metadata
    if meta.num_rows == 0:
        raise DataError(f"{filename}: the file is empty")
    for rg in range(meta.num_row_groups):  # a dictionary page itself can hold one enormous value
        for c in range(meta.num_columns):
            size = meta.row_group(rg).column(c).total_uncompressed_size
            if size > limits.max_decoded_bytes:
                raise DataError(
                    f"{filename}: a column chunk decodes to {_size(size)}; the limit is {_size(limits.max_decoded_bytes)}"
                )
    cap = limits.max_rows
    frames, decoded, rows = [], 0, 0
    for batch in pf.iter_batches(batch_size=1024):
        if cap is not None and rows >= cap:
            break
        if cap is not None:
            batch = batch.slice(0, cap - rows)
        columns = []
        for arr in batch.columns:
            if pa.types.is_dictionary(arr.type):  # decoded size from value lengths, nothing materialised
                lens = pc.fill_null(pc.binary_length(arr.dictionary), 0)
                decoded += int(pc.sum(pc.take(lens, pc.fill_null(arr.indices, 0))).as_py() or 0)
            else:
                decoded += arr.nbytes
            if decoded > limits.max_decoded_bytes:
                raise DataError(
                    f"{filename}: its text decodes to more than {_size(limits.max_decoded_bytes)} "
                    f"(within the first {rows + len(batch):,} rows); refused"
                )
            columns.append(arr.cast(arr.type.value_type) if pa.types.is_dictionary(arr.type) else arr)
        frames.append(pa.RecordBatch.from_arrays(columns, names=batch.schema.names).to_pandas())
        rows += len(batch)
    df = pd.concat(frames, ignore_index=True)
    return df, cap is not None and meta.num_rows > cap
