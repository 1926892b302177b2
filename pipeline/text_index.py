"""Random access to a run's review texts without reading the whole text column: the query layer's sidecar.

A ``predictions.parquet`` written by pandas holds a million reviews in one row group, so reading any one
text decompresses the whole text column (≈ 1 s per million reviews), and a substring search scans all of it
(≈ 4 s). On the first open of a run we copy the text column once, streaming row group by row group, into
one flat UTF-8 file with the offset of every text (a text is one ``pread`` away), plus the **lower-cased texts
of the errors** (the only rows the dashboard searches) in a second flat file with their row numbers. Plain
reads, not memory maps: a scan goes through the page cache without counting in the server's resident memory.

The sidecar lives in a cache folder outside the run (runs may be read-only or shared): ``$IMDB_ERRORS_CACHE``
or ``~/.cache/imdb-bert-errors``, keyed by the parquet's resolved path, size and modification time, so it is
rebuilt when the parquet changes and never read for another file. It is written into a temporary folder and
renamed, so a crash or a concurrent build never leaves a half index.
"""

from __future__ import annotations

import bisect
import hashlib
import os
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

TEXTS = "texts.bin"  # every review's UTF-8 text, back to back, in file row order
TEXT_OFFSETS = "texts_offsets.npy"  # where each text starts, then the file's end (n + 1 int64)
ERROR_TEXTS = "errors_lower.txt"  # lower-cased error texts, each followed by a NUL (never in a search term)
ERROR_STARTS = "errors_starts.npy"  # byte offset where each error text starts, then the file's end
ERROR_ROWS = "errors_rows.npy"  # its row number in the parquet
FORMAT = "4"  # bump when the sidecar's layout changes: old folders are then ignored
SCAN_BLOCK = 8 << 20  # bytes read at a time by a search
_EMPTY, _NUL = pa.scalar("", pa.large_string()), pa.scalar("\x00", pa.large_string())


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

    Build or open with :meth:`open`. Holds two open files and the offset arrays (16 bytes per review);
    thread-safe (positional reads share no file position).
    """

    def __init__(self, folder: Path):
        self.folder = folder
        self._offsets = np.load(folder / TEXT_OFFSETS)
        self._error_rows = np.load(folder / ERROR_ROWS)
        self._error_starts = np.load(folder / ERROR_STARTS).tolist()  # a list: bisect on it is the fast path
        self._texts = os.open(folder / TEXTS, os.O_RDONLY)
        self._errors = os.open(folder / ERROR_TEXTS, os.O_RDONLY)

    def __del__(self):
        for fd in (getattr(self, "_texts", None), getattr(self, "_errors", None)):
            if fd is not None:
                os.close(fd)

    @classmethod
    def open(cls, parquet: Path, root: Path | None = None) -> TextIndex:
        """The index of ``parquet``, built first when missing or stale (raises ``OSError`` if it cannot be
        written: callers fall back to reading the parquet)."""
        parquet = Path(parquet)
        folder = index_folder(parquet, root)
        if not folder.is_dir():
            build(parquet, folder)
            for stale in folder.parent.iterdir():  # the same file's older versions
                if stale != folder and ".tmp-" not in stale.name:
                    shutil.rmtree(stale, ignore_errors=True)
        return cls(folder)

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def texts(self, rows: Sequence[int]) -> list[str]:
        """The texts of ``rows`` (file row numbers), in that order."""
        out = []
        for r in rows:
            start, end = int(self._offsets[r]), int(self._offsets[r + 1])
            out.append(os.pread(self._texts, end - start, start).decode("utf-8"))
        return out

    def search_errors(self, needle: str) -> np.ndarray:
        """Row numbers of the errors whose text contains ``needle``, case-insensitively (plain text, no regex).

        Reads the lower-cased texts in blocks of whole reviews and runs ``bytes.find`` (a fast substring
        search) over each; after a hit it jumps to the next review, so a frequent word costs one call per
        matching review.
        """
        target = needle.lower().replace("\x00", "").encode("utf-8")
        if not target:
            return self._error_rows.copy()
        starts, hits, i = self._error_starts, [], 0
        while i < len(starts) - 1:
            j = max(bisect.bisect_right(starts, starts[i] + SCAN_BLOCK) - 1, i + 1)  # whole reviews i..j-1
            base = starts[i]
            block = os.pread(self._errors, starts[j] - base, base)
            pos = 0
            while (pos := block.find(target, pos)) >= 0:
                k = bisect.bisect_right(starts, base + pos) - 1
                hits.append(k)
                pos = starts[k + 1] - base
            i = j
        return self._error_rows[np.asarray(hits, dtype=np.int64)]


def build(parquet: Path, folder: Path, batch_rows: int = 16_384) -> None:
    """Write the sidecar files of :class:`TextIndex` for ``parquet`` into ``folder`` (atomically).

    Streams the parquet in batches of ``batch_rows`` rows (memory bounded by one batch, whatever the file's
    row groups). A null text is stored as empty; a row without ``correct`` (null) counts as correct: it is
    not searched as an error.
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(f"{folder.name}.tmp-{uuid.uuid4().hex[:8]}")
    tmp.mkdir()
    try:
        text_offsets, error_starts, rows = [np.zeros(1, np.int64)], [np.zeros(1, np.int64)], []
        text_end = error_end = start = 0
        with open(tmp / TEXTS, "wb") as texts, open(tmp / ERROR_TEXTS, "wb") as error_texts:
            # buffered reads: a one-row-group file of a million reviews is not loaded whole
            source = pq.ParquetFile(parquet, buffer_size=4 << 20, pre_buffer=False)
            for batch in source.iter_batches(batch_size=batch_rows, columns=["text", "correct"]):
                text = pc.fill_null(batch.column("text").cast(pa.large_string()), "")
                # the array's own buffers: UTF-8 bytes back to back and int64 offsets, written as they are
                _, offsets_buf, data_buf = text.buffers()
                offsets = np.frombuffer(offsets_buf, np.int64)[text.offset : text.offset + len(text) + 1]
                if data_buf is not None:
                    texts.write(memoryview(data_buf)[int(offsets[0]) : int(offsets[-1])])
                text_offsets.append(offsets[1:] - offsets[0] + text_end)
                text_end += int(offsets[-1] - offsets[0])
                wrong = pc.invert(pc.fill_null(batch.column("correct").cast(pa.bool_()), True))
                rows.append(np.flatnonzero(wrong.to_numpy(zero_copy_only=False)) + start)
                # lower-cased, NULs blanked, each text followed by a NUL: Arrow kernels, no Python loop per review
                lower = pc.replace_substring(pc.utf8_lower(pc.filter(text, wrong)), "\x00", " ")
                lower = pc.binary_join_element_wise(lower, _EMPTY, _NUL)
                if len(lower):
                    _, offsets_buf, data_buf = lower.buffers()
                    offsets = np.frombuffer(offsets_buf, np.int64)[lower.offset : lower.offset + len(lower) + 1]
                    error_texts.write(memoryview(data_buf)[int(offsets[0]) : int(offsets[-1])])
                    error_starts.append(offsets[1:] - offsets[0] + error_end)
                    error_end += int(offsets[-1] - offsets[0])
                start += batch.num_rows
        np.save(tmp / TEXT_OFFSETS, np.concatenate(text_offsets))
        np.save(tmp / ERROR_ROWS, np.concatenate(rows) if rows else np.empty(0, np.int64))
        np.save(tmp / ERROR_STARTS, np.concatenate(error_starts))
        try:
            os.rename(tmp, folder)
        except OSError:  # another process built it first: theirs is as good as ours
            if not folder.is_dir():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
