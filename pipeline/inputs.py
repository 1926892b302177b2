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

SUFFIXES = (".csv", ".tsv", ".parquet", ".jsonl", ".json", ".txt")
SEPARATORS = {".csv": ",", ".tsv": "\t"}  # the delimited formats, read by pandas' CSV reader
# what a delimited file may really be separated by: spreadsheets in many locales save ';' in a ".csv", some exports
# tab or '|', and a ".tsv" is sometimes comma-separated
OTHER_SEPARATORS = (",", ";", "\t", "|")
# the review's column, first match wins: ours, then the names common review exports use (Amazon's review_body and
# reviewText, "Review Text", ...), matched without regard to case, spaces, '_' or '-'
TEXT_COLUMNS = ("text", "review", "content", "review_text", "review_body", "body", "comment", "sentence")
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


def has_text(texts: pd.Series) -> pd.Series:
    """Which reviews are reviews: text that is not empty once whitespace is stripped (the one rule every input,
    training data and output follows)."""
    return texts.str.strip() != ""


def read_reviews_file(path: str | Path, limits: InputLimits = CLI_LIMITS, keep_empty: bool = False) -> pd.DataFrame:
    """Reviews to score from CSV/TSV/Parquet/JSONL (a ``text``, ``review``, … column: :data:`TEXT_COLUMNS`) or TXT (one per
    line).

    Returns columns ``id, text`` plus any others in the file. Raises ``DataError`` with a clear message
    for a missing file, a file over ``limits``, a non-UTF-8 or binary file, no text column, or no review.
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(f"input file not found: {p}")
    size = p.stat().st_size
    if size > limits.max_bytes:
        raise DataError(f"{p.name}: {_size(size)}; the limit is {_size(limits.max_bytes)}")
    return parse_reviews(p.read_bytes(), p.name, limits, keep_empty)


def parse_reviews(
    raw: bytes, filename: str, limits: InputLimits = CLI_LIMITS, keep_empty: bool = False
) -> pd.DataFrame:
    """Bytes of an uploaded or read file → ``id, text, …`` frame, within ``limits``; ``keep_empty``: as
    :func:`normalise_reviews`."""
    suffix = Path(filename).suffix.lower()
    if suffix not in SUFFIXES:
        raise DataError(f"{filename}: unsupported file type (use .csv, .tsv, .parquet, .jsonl or .txt)")
    if len(raw) > limits.max_bytes:
        raise DataError(f"{filename}: {_size(len(raw))}; the limit is {_size(limits.max_bytes)}")
    if suffix == ".parquet":
        df, more = _read_parquet(raw, filename, limits)
    else:
        df, more = _read_text_format(raw, filename, suffix, limits)
    df = normalise_reviews(df, filename, limits, keep_empty=keep_empty)
    if not has_text(df["text"]).any():
        raise DataError(f"{filename}: no non-empty reviews")
    df.attrs["rows_dropped"] = more
    return df


def column_key(name) -> str:
    """A column name as it is matched: lower case, without spaces, '_' or '-' ('Review Text' → 'reviewtext')."""
    return "".join(ch for ch in str(name).lower() if ch not in " _-")


def find_column(columns, names: tuple[str, ...]):
    """The first of ``names`` (in their order) that ``columns`` has, matched by :func:`column_key`; else None."""
    by_key: dict[str, object] = {}
    for c in columns:
        by_key.setdefault(column_key(c), c)
    return next((by_key[column_key(n)] for n in names if column_key(n) in by_key), None)


def restore_text_column(df: pd.DataFrame, own: str | None = None) -> pd.DataFrame:
    """``df`` with its ``text`` column back under the input file's own name (``own``, default
    ``df.attrs["text_column"]`` as :func:`normalise_reviews` records it: 'Review Text', review_body), for outputs that
    give the rows back as they came. Unchanged when that name is ``text``, unknown, or taken by another column."""
    own = own or df.attrs.get("text_column") or "text"
    if own == "text" or own in df.columns or "text" not in df.columns:
        return df
    return df.rename(columns={"text": own})


def normalise_reviews(
    df: pd.DataFrame,
    filename: str,
    limits: InputLimits,
    first_row: int = 0,
    first_id: int = 0,
    keep_empty: bool = False,
) -> pd.DataFrame:
    """The rules every input passes, whole or in chunks: a text column (the first of :data:`TEXT_COLUMNS` the file has,
    renamed ``text``), missing text read as empty, no review over ``limits.max_text_chars`` (refused, with its row
    number), empty reviews dropped, and an ``id`` column when the file has none (the review's position among
    the kept ones). ``first_row``/``first_id``: rows and kept reviews before this chunk, so row numbers in
    messages and generated ids are those of the whole file. ``keep_empty``: keep empty reviews (as ``""``, every
    row then keeps its place and its id is its row number), for outputs that give every input row back. May
    return an empty frame."""
    col = find_column(df.columns, TEXT_COLUMNS)
    if col is None:
        found = [str(c) for c in df.columns][:10]
        raise DataError(
            f"{filename}: no text column (need one named {', '.join(repr(c) for c in TEXT_COLUMNS)}, in any case; "
            f"found {found})"
        )
    df = df.rename(columns={col: "text"}).reset_index(drop=True)
    df.attrs["text_column"] = str(col)  # the file's own name for it, for outputs that give the rows back
    df["text"] = df["text"].fillna("").astype(str)
    lengths = df["text"].str.len()
    if len(df) and lengths.max() > limits.max_text_chars:
        row = first_row + int(lengths.idxmax())
        raise DataError(
            f"{filename}: row {row + 1} is {int(lengths.max()):,} characters; the limit per review is "
            f"{limits.max_text_chars:,}"
        )
    if not keep_empty:
        df = df[has_text(df["text"])].reset_index(drop=True)
    if "id" not in df.columns:
        df.insert(0, "id", [str(i) for i in range(first_id, first_id + len(df))])
    return df


def _not_utf8(filename: str, position: int) -> DataError:
    """The one message for a file that is not UTF-8, whole or streamed: where, and how to convert it."""
    return DataError(
        f"{filename}: not UTF-8 text (bad byte at position {position}); save it as UTF-8 (e.g. iconv -f latin1 "
        "-t utf-8 FILE > FILE.utf8.csv, or 'CSV UTF-8' in a spreadsheet)"
    )


def separator(header: str, suffix: str) -> str:
    """The delimiter of a delimited file, from its header line: the suffix's own (',' for .csv, tab for .tsv)
    unless the header has none of it but one of :data:`OTHER_SEPARATORS` (a ';' CSV from a spreadsheet)."""
    own = SEPARATORS[suffix]
    if own in header:
        return own
    return next((s for s in OTHER_SEPARATORS if s != own and s in header), own)


# label words read as sentiment wherever a file's label is (training data, tag --input); anything else stays as is
LABEL_WORDS = {"positive": 1, "pos": 1, "negative": 0, "neg": 0}


def label_numbers(values: pd.Series) -> pd.Series:
    """A label column as numbers: 0/1 as given, 'positive'/'pos'/'negative'/'neg' (any case, spaces) as 1/0, and
    NaN for anything else (the caller says what it does with those)."""
    words = values.map(lambda v: LABEL_WORDS.get(str(v).strip().lower(), v) if isinstance(v, str) else v)
    return pd.to_numeric(words, errors="coerce")


def _parse_problem(exc: Exception, text: str | None, suffix: str, path: Path | None = None) -> str:
    """What went wrong reading a file, for the one-line message; for JSON Lines, the first line that is not a
    JSON object (pandas' own message gives a character position in the whole file)."""
    if suffix == ".jsonl":
        import json

        with io.StringIO(text) if text is not None else path.open(encoding="utf-8") as lines:
            for i, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    ok = isinstance(json.loads(line), dict)
                except ValueError:
                    ok = False
                if not ok:
                    return f"line {i} is not a JSON object: {line.strip()[:60]!r}"
    return f"{type(exc).__name__}: {str(exc)[:160]}"


def _read_text_format(raw: bytes, filename: str, suffix: str, limits: InputLimits) -> tuple[pd.DataFrame, bool]:
    if b"\x00" in raw[:4096]:
        raise DataError(f"{filename}: looks binary, expected UTF-8 text")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _not_utf8(filename, exc.start) from None
    cap = limits.max_rows
    try:
        if suffix == ".txt":
            lines = [ln.strip() for ln in text.splitlines()]
            df = pd.DataFrame({"text": [ln for ln in lines if ln]})
        elif suffix in SEPARATORS:
            sep = separator(text.partition("\n")[0], suffix)
            df = pd.read_csv(io.StringIO(text), sep=sep, nrows=None if cap is None else cap + 1)
        else:
            df = pd.read_json(
                io.StringIO(text),
                lines=suffix == ".jsonl",
                nrows=None if cap is None or suffix != ".jsonl" else cap + 1,
            )
    except pd.errors.EmptyDataError:
        raise DataError(f"{filename}: the file is empty") from None
    except Exception as exc:  # noqa: BLE001 — pandas raises many types for malformed files
        raise DataError(f"{filename}: cannot parse ({_parse_problem(exc, text, suffix)})") from None
    more = cap is not None and len(df) > cap
    return (df.head(cap) if more else df), more


def _open_parquet(source, filename: str, limits: InputLimits, pre_buffer: bool = True):
    """A ``ParquetFile`` whose string columns read as dictionaries, refused when a column chunk would decode
    to more than ``limits.max_decoded_bytes`` (a dictionary page itself can hold one enormous value).
    ``pre_buffer=False`` for streaming: with it on, ``iter_batches`` keeps every row group's raw bytes read so
    far until the end (measured: +90 MB of Arrow memory over a 124 MB file), so memory grew with the file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        probe = pq.ParquetFile(source)
        strings = [
            f.name
            for f in probe.schema_arrow
            if pa.types.is_string(f.type)
            or pa.types.is_large_string(f.type)
            or pa.types.is_binary(f.type)
            or pa.types.is_large_binary(f.type)
        ]
        if hasattr(source, "seek"):
            source.seek(0)
        pf = pq.ParquetFile(source, read_dictionary=strings, pre_buffer=pre_buffer)
    except Exception as exc:  # noqa: BLE001
        raise DataError(f"{filename}: cannot parse ({type(exc).__name__}: {str(exc)[:160]})") from None
    meta = pf.metadata
    if meta.num_rows == 0:
        raise DataError(f"{filename}: the file is empty")
    for rg in range(meta.num_row_groups):
        for c in range(meta.num_columns):
            size = meta.row_group(rg).column(c).total_uncompressed_size
            if size > limits.max_decoded_bytes:
                raise DataError(
                    f"{filename}: a column chunk decodes to {_size(size)}; the limit is {_size(limits.max_decoded_bytes)}"
                )
    return pf


def _decoded_frame(batch, decoded: int, filename: str, limits: InputLimits, rows_before: int):
    """``batch`` as a pandas frame and the running decoded size; its dictionary columns are measured from
    their value lengths before any text is materialised, and refused past ``limits.max_decoded_bytes``."""
    import pyarrow as pa
    import pyarrow.compute as pc

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
                f"(within the first {rows_before + len(batch):,} rows); refused"
            )
        columns.append(arr.cast(arr.type.value_type) if pa.types.is_dictionary(arr.type) else arr)
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names).to_pandas(), decoded


def _read_parquet(raw: bytes, filename: str, limits: InputLimits) -> tuple[pd.DataFrame, bool]:
    pf = _open_parquet(io.BytesIO(raw), filename, limits)
    cap = limits.max_rows
    frames, decoded, rows = [], 0, 0
    for batch in pf.iter_batches(batch_size=1024):
        if cap is not None and rows >= cap:
            break
        if cap is not None:
            batch = batch.slice(0, cap - rows)
        frame, decoded = _decoded_frame(batch, decoded, filename, limits, rows)
        frames.append(frame)
        rows += len(batch)
    df = pd.concat(frames, ignore_index=True)
    return df, cap is not None and pf.metadata.num_rows > cap


# ---------------------------------------------------------------- files of any size, in chunks

# Streaming keeps memory bounded by the chunk, so the whole-file limits become per-chunk ones: the file may be
# any size; one chunk's decoded text and one review stay limited as for the CLI.
STREAM_LIMITS = InputLimits(
    max_bytes=1 << 50, max_rows=None, max_decoded_bytes=CLI_LIMITS.max_decoded_bytes, max_text_chars=1_000_000
)
DEFAULT_CHUNK_ROWS = 20_000
STREAMED_SUFFIXES = (".csv", ".tsv", ".parquet", ".jsonl", ".txt")  # .json is one document: read whole


def count_input_rows(path: str | Path) -> int | None:
    """Rows in ``path`` when known without reading it (Parquet's footer), else ``None``."""
    p = Path(path)
    if p.suffix.lower() != ".parquet":
        return None
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(p).metadata.num_rows
    except Exception:  # noqa: BLE001 — a broken file is reported by the reader, with its reason
        return None


def iter_reviews_file(path: str | Path, chunk_rows: int = DEFAULT_CHUNK_ROWS, limits: InputLimits = STREAM_LIMITS):
    """``(file_rows, frame)`` per chunk of ``path``: the file rows the chunk consumed (empty reviews included)
    and its ``id, text, …`` reviews, checked by :func:`normalise_reviews` exactly like :func:`read_reviews_file`
    (same ids, same messages with whole-file row numbers). Memory holds one chunk of ``chunk_rows`` rows.

    CSV, TSV, JSONL, TXT and Parquet stream; ``.json`` (one document) is read whole. Text formats are checked for
    UTF-8 in one pass first, so a bad byte is refused before any scoring. A frame may be empty (a chunk of
    blank reviews); ``DataError`` at the end when the whole file had none. Chunks are deterministic: the
    same file and ``chunk_rows`` always cut the same chunks (resuming relies on it).
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(f"input file not found: {p}")
    if chunk_rows < 1:
        raise DataError(f"chunk size must be at least 1 row, got {chunk_rows}")
    suffix = p.suffix.lower()
    if suffix not in SUFFIXES:
        raise DataError(f"{p.name}: unsupported file type (use .csv, .tsv, .parquet, .jsonl or .txt)")
    size = p.stat().st_size
    if size > limits.max_bytes:
        raise DataError(f"{p.name}: {_size(size)}; the limit is {_size(limits.max_bytes)}")
    if suffix == ".json":
        if size > CLI_LIMITS.max_bytes:  # read whole: the whole-file limit still protects memory
            raise DataError(
                f"{p.name}: {_size(size)}; the limit for .json is {_size(CLI_LIMITS.max_bytes)} (use .jsonl)"
            )
        raw = _raw_chunks_whole(p, limits)
    elif suffix == ".parquet":
        raw = _raw_chunks_parquet(p, chunk_rows, limits)
    else:
        _check_utf8(p)
        raw = _raw_chunks_text(p, suffix, chunk_rows)
    rows = kept = 0
    for frame in raw:
        df = normalise_reviews(frame, p.name, limits, first_row=rows, first_id=kept)
        rows += len(frame)
        kept += len(df)
        yield len(frame), df
    if kept == 0:
        raise DataError(f"{p.name}: no non-empty reviews")


def _check_utf8(p: Path, block: int = 1 << 20) -> None:
    """One pass over a text file: refused as binary (a NUL in its first 4 KB) or not UTF-8 (with the byte
    offset), the same messages as for a file read whole."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with p.open("rb") as f:
        while chunk := f.read(block):
            if offset == 0 and b"\x00" in chunk[:4096]:
                raise DataError(f"{p.name}: looks binary, expected UTF-8 text")
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                raise _not_utf8(p.name, offset + exc.start) from None
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise _not_utf8(p.name, offset + exc.start) from None


def _raw_chunks_text(p: Path, suffix: str, chunk_rows: int):
    if suffix == ".txt":  # blank lines are not reviews (as when read whole): skipped before chunking
        with p.open(encoding="utf-8") as f:
            lines = []
            for line in f:
                if line.strip():
                    lines.append(line.strip())
                if len(lines) == chunk_rows:
                    yield pd.DataFrame({"text": lines})
                    lines = []
            if lines:
                yield pd.DataFrame({"text": lines})
        return
    try:
        if suffix in SEPARATORS:
            with p.open(encoding="utf-8") as f:
                sep = separator(f.readline(), suffix)
            reader = pd.read_csv(p, sep=sep, chunksize=chunk_rows, encoding="utf-8")
        else:
            reader = pd.read_json(p, lines=True, chunksize=chunk_rows, encoding="utf-8")
        with reader:
            yield from reader
    except pd.errors.EmptyDataError:
        raise DataError(f"{p.name}: the file is empty") from None
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 — pandas raises many types for malformed files
        raise DataError(f"{p.name}: cannot parse ({_parse_problem(exc, None, suffix, p)})") from None


def _raw_chunks_parquet(p: Path, chunk_rows: int, limits: InputLimits):
    pf = _open_parquet(p, p.name, limits, pre_buffer=False)
    rows = 0
    # one chunk's decoded size is limited, not the file's: memory holds one chunk at a time
    for batch in pf.iter_batches(batch_size=chunk_rows):
        frame, _ = _decoded_frame(batch, 0, p.name, limits, rows)
        rows += len(batch)
        yield frame


def _raw_chunks_whole(p: Path, limits: InputLimits):
    frame, _ = _read_text_format(p.read_bytes(), p.name, ".json", limits)
    yield frame
