"""Random access to a run's review texts without reading the whole text column: the query layer's sidecar.

A ``predictions.parquet`` written by pandas holds a million reviews in one row group, so reading any one
text decompresses the whole text column (≈ 1 s per million reviews), and a substring search scans all of it
(≈ 4 s). On the first open of a run we copy the text column once, streaming row group by row group, into
an **uncompressed Arrow IPC file** (a standard format: memory-mapped, a text is one slice away), plus the
**lower-cased texts of the errors** (the only rows the dashboard searches) as one flat file with their row
numbers and offsets (``mmap.find`` scans it at memory speed).

The sidecar lives in a cache folder outside the run (runs may be read-only or shared): ``$IMDB_ERRORS_CACHE``
or ``~/.cache/imdb-bert-errors``, keyed by the parquet's resolved path, size and modification time, so it is
rebuilt when the parquet changes and never read for another file. It is written into a temporary folder and
renamed, so a crash or a concurrent build never leaves a half index.
"""

from __future__ import annotations

import bisect
import hashlib
import mmap
import os
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

TEXTS = "text.arrow"
ERROR_TEXTS = "errors_lower.txt"  # lower-cased error texts, each followed by a NUL (never in a search term)
ERROR_STARTS = "errors_starts.npy"  # byte offset where each error text starts, then the file's end
ERROR_ROWS = "errors_rows.npy"  # its row number in the parquet
FORMAT = "3"  # bump when the sidecar's layout changes: old folders are then ignored


def cache_root() -> Path:
    return Path(os.environ.get("IMDB_ERRORS_CACHE", Path.home() / ".cache" / "imdb-bert-errors")) / "text-index"


def index_folder(parquet: Path, root: Path | None = None) -> Path:
    """``<root>/<file key>/<version key>``: the file key names the parquet (its resolved path), the version
    key changes whenever the file is rewritten (size or mtime) or the sidecar's format changes."""
    st = parquet.stat()
    file_key = hashlib.sha1(str(parquet.resolve()).encode()).hexdigest()[:16]
    version = hashlib.sha1(f"{FORMAT}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:12]
    return (root or cache_root()) / file_key / version


class TextIndex:
    """Texts by row number (the row's position in ``predictions.parquet``) and a search over the errors.

    Build or open with :meth:`open`; both lookups touch only the pages they need (memory-mapped files).
    Thread-safe: the mapped tables are read-only.
    """

    def __init__(self, folder: Path):
        self.folder = folder
        self._texts = ipc.open_file(pa.memory_map(str(folder / TEXTS))).read_all().column("text")
        self._error_rows = np.load(folder / ERROR_ROWS)
        self._error_starts = np.load(folder / ERROR_STARTS).tolist()  # a list: bisect on it is the fast path
        with open(folder / ERROR_TEXTS, "rb") as f:
            self._error_texts = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if len(self._error_rows) else b""
        # chunk starts: a row's chunk by binary search, so a lookup never concatenates chunks
        self._starts = np.cumsum([0] + [len(c) for c in self._texts.chunks])

    @classmethod
    def open(cls, parquet: Path, root: Path | None = None) -> TextIndex:
        """The index of ``parquet``, built first when missing or stale (raises ``OSError`` if it cannot be
        written: callers fall back to reading the parquet)."""
        parquet = Path(parquet)
        folder = index_folder(parquet, root)
        if not (folder / ERROR_TEXTS).is_file():
            build(parquet, folder)
            for stale in folder.parent.iterdir():  # the same file's older versions
                if stale != folder and ".tmp-" not in stale.name:
                    shutil.rmtree(stale, ignore_errors=True)
        return cls(folder)

    def __len__(self) -> int:
        return int(self._starts[-1])

    def texts(self, rows: Sequence[int]) -> list[str]:
        """The texts of ``rows`` (file row numbers), in that order."""
        rows = np.asarray(rows, dtype=np.int64)
        chunk = np.searchsorted(self._starts, rows, side="right") - 1
        chunks = self._texts.chunks
        return [chunks[c][int(r - self._starts[c])].as_py() for c, r in zip(chunk, rows)]

    def search_errors(self, needle: str) -> np.ndarray:
        """Row numbers of the errors whose text contains ``needle``, case-insensitively (plain text, no regex).

        ``find`` on the memory-mapped lower-cased texts (a fast substring search, no copy); after a hit it
        jumps to the next review, so a frequent word costs one call per matching review.
        """
        target = needle.lower().replace("\x00", "").encode("utf-8")
        if not target:
            return self._error_rows.copy()
        hits, pos, data, starts = [], 0, self._error_texts, self._error_starts
        while (pos := data.find(target, pos)) >= 0:
            i = bisect.bisect_right(starts, pos) - 1
            hits.append(i)
            pos = starts[i + 1]
        return self._error_rows[np.asarray(hits, dtype=np.int64)]


def build(parquet: Path, folder: Path, batch_rows: int = 16_384) -> None:
    """Write the sidecar files of :class:`TextIndex` for ``parquet`` into ``folder`` (atomically).

    Streams the parquet in batches of ``batch_rows`` rows (memory bounded by one batch, whatever the file's
    row groups). A row without ``correct`` (null) counts as correct: it is not searched as an error.
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(f"{folder.name}.tmp-{uuid.uuid4().hex[:8]}")
    tmp.mkdir()
    try:
        text_schema = pa.schema([("text", pa.large_string())])
        offset, starts, rows = 0, [0], []
        with (
            pa.OSFile(str(tmp / TEXTS), "wb") as text_sink,
            ipc.new_file(text_sink, text_schema) as texts,
            open(tmp / ERROR_TEXTS, "wb") as error_texts,
        ):
            start = 0
            # buffered reads: a one-row-group file of a million reviews is not loaded whole
            source = pq.ParquetFile(parquet, buffer_size=4 << 20, pre_buffer=False)
            for batch in source.iter_batches(batch_size=batch_rows, columns=["text", "correct"]):
                text = pc.fill_null(batch.column("text").cast(pa.large_string()), "")
                texts.write_batch(pa.record_batch([text], schema=text_schema))
                wrong = pc.invert(pc.fill_null(batch.column("correct").cast(pa.bool_()), True))
                rows.append(np.flatnonzero(wrong.to_numpy(zero_copy_only=False)) + start)
                for t in pc.utf8_lower(pc.filter(text, wrong)).to_pylist():
                    b = t.replace("\x00", " ").encode("utf-8") + b"\x00"
                    error_texts.write(b)
                    offset += len(b)
                    starts.append(offset)
                start += batch.num_rows
        np.save(tmp / ERROR_ROWS, np.concatenate(rows) if rows else np.empty(0, np.int64))
        np.save(tmp / ERROR_STARTS, np.asarray(starts, dtype=np.int64))
        try:
            os.rename(tmp, folder)
        except OSError:  # another process built it first: theirs is as good as ours
            if not (folder / ERROR_TEXTS).is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
