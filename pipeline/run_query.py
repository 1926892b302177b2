"""The query layer over a run's predictions: every count, curve and list the dashboard shows, computed by
DuckDB on ``predictions.parquet`` in place, touching only the columns a question needs.

Why DuckDB (not Polars lazy frames): it is in-process, reads Parquet in place with projection and filter
pushdown, answers SQL from many threads at once through cursors on one connection (Streamlit serves users from
threads), joins the tags file on ``id`` without loading it, and its memory limit spills instead of failing.

Texts are the expensive column (≈ 95 % of the bytes). They are read only for the rows on screen, through
:class:`~pipeline.text_index.TextIndex` (a sidecar of plain text files built on first open); when the sidecar
cannot be written (read-only home, full disk) queries fall back to reading the parquet — slower, same
answers. Results are small pandas frames; every method is safe to call from several threads.

Rows are addressed by ``row``, their position in ``predictions.parquet`` (stable for a given file).
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from .errors import RunError
from .metrics import LENGTH_BUCKETS, LENGTH_LABELS, confusion_metrics, ece_of_table
from .render import csv_safe
from .text_index import TextIndex, index_folder

log = logging.getLogger(__name__)

ERROR_KINDS = ("FP", "FN")
SNIPPET_CHARS = 220
_BR = re.compile(r"<\s*br\s*/?\s*>", re.I)
# what the error table shows (plus the chosen tags); text is added for export only
ERROR_COLUMNS = ("id", "error_type", "confidence", "prob_pos", "rating", "n_tokens", "truncated")
CELL_COLUMNS = ("id", "label", "rating", "prob_pos", "n_tokens", "truncated")


# per confidence bin (see reliability()); {key} groups the rows (NULL: one group), {source} has label, prob_pos
_RELIABILITY_SQL = (
    "WITH c AS (SELECT {key} AS slice, CASE WHEN prob_pos >= 0.5 THEN prob_pos::DOUBLE "
    "ELSE 1 - prob_pos::DOUBLE END AS conf, ((prob_pos >= 0.5)::INT = label)::DOUBLE AS ok FROM {source}) "
    "SELECT slice, greatest(least(ceil((conf - 0.5) * ? / 0.5)::INT - 1, ? - 1), 0) AS bin, count(*) AS count, "
    "avg(conf) AS confidence, avg(ok) AS accuracy FROM c GROUP BY 1, 2 ORDER BY 1, 2"
)


def _rank_of(labels: list[str]):
    return lambda s: s.map({v: i for i, v in enumerate(labels)})


def _rating_order(s: pd.Series) -> pd.Series:
    return s.map(lambda v: int(v.rstrip("★")) if v != "unknown" else 10**6)


# grouping → (column it needs, SQL key, display order): the same buckets as pipeline.metrics.slice_metrics
_SLICE_KEYS = {
    "length": (
        "n_tokens",
        "CASE "
        + " ".join(f"WHEN n_tokens < {hi} THEN '{lab}'" for hi, lab in zip(LENGTH_BUCKETS[1:], LENGTH_LABELS))
        + " END",
        _rank_of(LENGTH_LABELS),
    ),
    "truncated": ("truncated", "CASE WHEN truncated THEN 'truncated' WHEN NOT truncated THEN 'complete' END", None),
    "rating": ("rating", "CASE WHEN rating > 0 THEN rating::BIGINT::VARCHAR || '★' ELSE 'unknown' END", _rating_order),
}


def _binned_auc(pos: np.ndarray, neg: np.ndarray) -> float | None:
    """Mann-Whitney AUC from per-bin class counts in ascending score order; ties within a bin count half."""
    p, n = int(pos.sum()), int(neg.sum())
    if not p or not n:
        return None
    above = pos[::-1].cumsum()[::-1] - pos  # positives in higher bins
    return float((neg * (above + 0.5 * pos)).sum() / (p * n))


def snippet(text: str) -> str:
    return _BR.sub(" ", text[: SNIPPET_CHARS + 40])[:SNIPPET_CHARS]


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class ErrorFilter:
    """What the error table shows. Defaults: every error (prediction at 0.5 ≠ label), any confidence,
    length, truncation and rating; ``search`` is a case-insensitive plain substring; every tag in ``tags``
    must be true (a tag not computed for a review — null — does not match)."""

    kinds: tuple[str, ...] = ERROR_KINDS
    confidence: tuple[float, float] = (0.5, 1.0)
    tokens: tuple[int, int] | None = None
    truncated: bool | None = None
    ratings: tuple[int, ...] = ()
    search: str = ""
    tags: tuple[str, ...] = ()


class RunQuery:
    """Queries over one run's predictions file (and its tags file when given and present).

    ``index_root``: where the text sidecar is cached (default :func:`pipeline.text_index.cache_root`);
    ``memory_limit``: DuckDB's budget before it spills to disk (default 1 GB).
    """

    def __init__(
        self,
        predictions: Path | str,
        tags: Path | str | None = None,
        *,
        index_root: Path | None = None,
        memory_limit: str = "1GB",
    ):
        # paths, not a run folder: the layout's file names are defined in pipeline.runs (Run.query passes them)
        self.parquet = Path(predictions)
        self.run_dir = self.parquet.parent
        tags = Path(tags) if tags is not None else None
        self._con = duckdb.connect(config={"memory_limit": memory_limit})
        try:
            self._con.execute(
                f"CREATE VIEW preds AS SELECT *, file_row_number AS row "
                f"FROM read_parquet({_sql_str(str(self.parquet))}, file_row_number = true)"
            )
            self.n = int(self._con.execute("SELECT count(*) FROM preds").fetchone()[0])
            self.columns = [c for c, *_ in self._con.execute("DESCRIBE preds").fetchall()]
        except duckdb.Error as exc:
            raise RunError(f"run {self.run_dir.name!r}: cannot query predictions.parquet ({exc})") from None
        self.tag_columns: list[str] = []
        if tags is not None and tags.is_file():
            try:
                self._con.execute(f"CREATE VIEW tags AS SELECT * FROM read_parquet({_sql_str(str(tags))})")
                schema = self._con.execute("DESCRIBE tags").fetchall()
                self.tag_columns = [c for c, t, *_ in schema if t == "BOOLEAN"]
            except duckdb.Error as exc:  # a broken optional file must not break the run
                log.warning("run %s: tags.parquet unreadable (%s); tags not shown", self.run_dir.name, exc)
        self._searches: dict[tuple[str, bool], np.ndarray] = {}
        self._search_lock = threading.Lock()
        self._index: TextIndex | None = None
        self.index_error: str | None = None
        self._index_thread = threading.Thread(target=self._build_index, args=(index_root,), daemon=True)
        if index_folder(self.parquet, index_root).is_dir():
            self._open_index(index_root)  # built before: opening loads two offset arrays, instant
        else:  # first open: build in the background; until then texts come from the parquet (slower)
            self._index_thread.start()

    def _build_index(self, root: Path | None) -> None:
        # the first open's pages render while this runs: on Linux a thread has its own nice value, so the build
        # yields the CPU to them (its Arrow kernels and file writes release the GIL)
        if hasattr(os, "setpriority"):
            try:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
            except OSError:
                pass
        self._open_index(root)

    def _open_index(self, root: Path | None) -> None:
        try:
            self._index = TextIndex.open(self.parquet, root)
        except (OSError, ValueError, pa.ArrowException) as exc:
            log.warning("text index not available for %s (%s): reading texts from the parquet", self.parquet, exc)
            self.index_error = f"{type(exc).__name__}: {exc}"

    @property
    def index_ready(self) -> bool:
        """Whether texts and search are served by the sidecar index (else by scanning the parquet)."""
        return self._index is not None

    def wait_for_index(self, timeout: float | None = None) -> bool:
        """Block until the first-open index build ends (``timeout`` seconds at most); ``True`` if ready."""
        if self._index_thread.is_alive():
            self._index_thread.join(timeout)
        return self._index is not None

    # ------------------------------------------------------------------ plumbing

    def _cursor(self, tables: dict | None = None) -> duckdb.DuckDBPyConnection:
        """A cursor of its own per query (thread-safe), with ``tables`` (name → Arrow table) registered."""
        cur = self._con.cursor()
        for name, table in (tables or {}).items():
            cur.register(name, table)
        return cur

    def _df(self, sql: str, params: Sequence | None = None, tables: dict | None = None) -> pd.DataFrame:
        return self._cursor(tables).execute(sql, params or []).df()

    def _one(self, sql: str, params: Sequence | None = None, tables: dict | None = None) -> tuple:
        return self._cursor(tables).execute(sql, params or []).fetchone()

    def texts(self, rows: Sequence[int]) -> list[str]:
        """Full texts of ``rows`` (file row numbers), in that order."""
        rows = [int(r) for r in rows]
        if not rows:
            return []
        index = self._index
        if index is not None:
            return index.texts(rows)
        got = self._df(f"SELECT row, text FROM preds WHERE row IN ({','.join(map(str, rows))})")
        by_row = dict(zip(got["row"], got["text"].fillna("")))
        return [by_row[r] for r in rows]

    # ------------------------------------------------------------------ counts and curves

    def summary(self) -> dict:
        """Counts for the overview: rows, positives, errors by type, truncation, token lengths, ratings."""
        n, pos, fp, fn, trunc, med, mx = self._one(
            "SELECT count(*), sum(label), sum((pred = 1 AND label = 0)::INT), sum((pred = 0 AND label = 1)::INT), "
            "avg(truncated::INT), median(n_tokens), max(n_tokens) FROM preds"
        )
        ratings = [
            int(r)
            for (r,) in self._cursor().execute("SELECT DISTINCT rating FROM preds ORDER BY 1").fetchall()
            if r is not None
        ]
        return {
            "n": int(n),
            "positives": int(pos or 0),
            "fp": int(fp or 0),
            "fn": int(fn or 0),
            "errors": int((fp or 0) + (fn or 0)),
            "truncated_share": float(trunc or 0.0),
            "median_tokens": float(med or 0),
            "max_tokens": int(mx or 0),
            "ratings": ratings,
        }

    def confusion(self, threshold: float = 0.5) -> dict[str, int]:
        """Confusion counts with ``prob_pos >= threshold`` predicted positive (exact, one pass over 2 columns)."""
        tp, fp, fn, tn = self._one(
            "SELECT sum((p AND label = 1)::INT), sum((p AND label = 0)::INT), sum((NOT p AND label = 1)::INT), "
            "sum((NOT p AND label = 0)::INT) FROM (SELECT prob_pos >= ? AS p, label FROM preds)",
            [float(threshold)],
        )
        return {"tn": int(tn or 0), "fp": int(fp or 0), "fn": int(fn or 0), "tp": int(tp or 0)}

    def score_histogram(self, bins: int = 1000) -> pd.DataFrame:
        """Counts of positives and negatives per score bin ``floor(prob_pos * bins)`` (one pass, ≤ 2·bins rows):
        every threshold curve is derived from it without touching the rows again."""
        return self._df(
            "SELECT least(floor(prob_pos::DOUBLE * ?)::INT, ? - 1) AS bin, sum(label)::BIGINT AS pos, "
            "sum(1 - label)::BIGINT AS neg FROM preds GROUP BY 1 ORDER BY 1",
            [bins, bins],
        )

    def curves(self, bins: int = 1000) -> dict[str, pd.DataFrame]:
        """ROC and precision-recall curves at ``bins`` thresholds (``k / bins``), from :meth:`score_histogram`.
        With 1,000 bins a point is within 0.001 of the exact curve's threshold."""
        h = self.score_histogram(bins).set_index("bin").reindex(range(bins), fill_value=0)
        # predicted positive at threshold k/bins = rows in bins ≥ k: reverse cumulative sums
        tp = h["pos"].to_numpy()[::-1].cumsum()[::-1]
        fp = h["neg"].to_numpy()[::-1].cumsum()[::-1]
        p, n = max(int(h["pos"].sum()), 1), max(int(h["neg"].sum()), 1)
        thr = np.arange(bins) / bins
        tpr, fpr = np.append(tp / p, 0.0), np.append(fp / n, 0.0)
        roc = pd.DataFrame({"fpr": fpr, "tpr": tpr, "threshold": np.append(thr, 1.0)})
        keep = (tp + fp) > 0
        pr = pd.DataFrame(
            {"precision": tp[keep] / (tp[keep] + fp[keep]), "recall": tp[keep] / p, "threshold": thr[keep]}
        )
        return {"roc": roc, "pr": pr}

    def reliability(self, n_bins: int = 15) -> pd.DataFrame:
        """:func:`pipeline.metrics.reliability_table` by query: equal-width bins of the predicted class's
        probability over [0.5, 1] (a bin's upper edge belongs to it), empty bins left out."""
        t = self._df(_RELIABILITY_SQL.format(key="NULL", source="preds"), [n_bins, n_bins])
        edges = np.linspace(0.5, 1.0, n_bins + 1)
        t["bin_low"], t["bin_high"] = edges[t["bin"]], edges[t["bin"] + 1]
        return t.drop(columns=["slice", "bin"])

    def slices(self, bins: int = 1000, n_bins: int = 15) -> dict[str, pd.DataFrame]:
        """:func:`pipeline.metrics.slice_metrics` by query, per token-length bucket, truncated or not, and star
        rating (a grouping whose column the file lacks is left out): ``slice, n, accuracy, f1, roc_auc, ece,
        errors`` per slice at threshold 0.5. One pass over 5 columns (GROUPING SETS), then per slice: the
        confusion counts and ECE (:meth:`reliability`'s ``n_bins`` bins) exactly; ROC-AUC from a ``bins``-bin
        score histogram (ties inside a bin count half: within ~1e-3 of the exact value at 1,000 bins), ``None`` on
        a one-class slice."""
        keys = {name: key for name, (column, key, _) in _SLICE_KEYS.items() if column in self.columns}
        if not keys:
            return {}
        sets = ", ".join(f"({name}, hbin, rbin, pp)" for name in keys)
        t = self._df(
            "WITH b AS (SELECT label, prob_pos::DOUBLE >= 0.5 AS pp, "
            "least(floor(prob_pos::DOUBLE * ?)::INT, ? - 1) AS hbin, CASE WHEN prob_pos >= 0.5 THEN prob_pos::DOUBLE "
            "ELSE 1 - prob_pos::DOUBLE END AS conf, "
            + ", ".join(f"{key} AS {name}" for name, key in keys.items())
            + " FROM preds), c AS (SELECT *, greatest(least(ceil((conf - 0.5) * ? / 0.5)::INT - 1, ? - 1), 0) AS rbin "
            "FROM b) SELECT "
            + ", ".join(f"{name}, grouping({name}) = 0 AS by_{name}" for name in keys)
            + ", hbin, rbin, pp, count(*) AS n, sum(label)::BIGINT AS pos, sum(conf) AS conf_sum, "
            f"sum((pp::INT = label)::INT)::BIGINT AS ok FROM c GROUP BY GROUPING SETS ({sets})",
            [bins, bins, n_bins, n_bins],
        )
        out = {}
        for name in keys:
            part = t[t[f"by_{name}"] & t[name].notna()]
            rows = []
            for value, g in part.groupby(name):
                n, pos = int(g["n"].sum()), int(g["pos"].sum())
                tp, fp = int(g.loc[g["pp"], "pos"].sum()), int((g.loc[g["pp"], "n"] - g.loc[g["pp"], "pos"]).sum())
                m = confusion_metrics({"tp": tp, "fp": fp, "fn": pos - tp, "tn": n - pos - fp})
                h = g.groupby("hbin")[["n", "pos"]].sum().sort_index()
                rel = g.groupby("rbin")[["n", "conf_sum", "ok"]].sum()
                rel = pd.DataFrame(
                    {"count": rel["n"], "confidence": rel["conf_sum"] / rel["n"], "accuracy": rel["ok"] / rel["n"]}
                )
                rows.append(
                    {
                        "slice": value,
                        "n": n,
                        "accuracy": m["accuracy"],
                        "f1": m["f1"],
                        "roc_auc": _binned_auc(h["pos"].to_numpy(), (h["n"] - h["pos"]).to_numpy()),
                        "ece": ece_of_table(rel),
                        "errors": fp + pos - tp,
                    }
                )
            out[name] = pd.DataFrame(rows).sort_values("slice", key=_SLICE_KEYS[name][2], ignore_index=True)
        return out

    def expected_calibration_error(self, n_bins: int = 15) -> float:
        return ece_of_table(self.reliability(n_bins))

    def length_histogram(self, cap: int = 1500, width: int = 25) -> pd.DataFrame:
        """Reviews per token-length bin (``width`` word-pieces, lengths capped at ``cap``) and correctness."""
        return self._df(
            "SELECT (least(n_tokens, ?) // ?) * ? AS bin_low, correct, count(*) AS count FROM preds "
            "GROUP BY ALL ORDER BY 1",
            [cap, width, width],
        )

    # ------------------------------------------------------------------ lists of reviews

    def _error_where(self, f: ErrorFilter) -> tuple[str, list, dict]:
        """SQL condition, its parameters and the Arrow tables it reads (the search hits)."""
        where, params, tables = ["NOT correct"], [], {}
        kinds = [k for k in f.kinds if k in ERROR_KINDS]
        if set(kinds) != set(ERROR_KINDS):
            parts = {"FP": "(pred = 1 AND label = 0)", "FN": "(pred = 0 AND label = 1)"}
            where.append("(" + " OR ".join(parts[k] for k in kinds) + ")" if kinds else "FALSE")
        where.append("confidence BETWEEN ? AND ?")
        params += [float(f.confidence[0]), float(f.confidence[1])]
        if f.tokens is not None:
            where.append("n_tokens BETWEEN ? AND ?")
            params += [int(f.tokens[0]), int(f.tokens[1])]
        if f.truncated is not None:
            where.append("truncated = ?")
            params.append(bool(f.truncated))
        if f.ratings:
            where.append(f"rating IN ({','.join('?' * len(f.ratings))})")
            params += [int(r) for r in f.ratings]
        for tag in f.tags:
            if tag not in self.tag_columns:
                raise ValueError(f"unknown tag {tag!r}; this run has {self.tag_columns}")
            where.append(f"id IN (SELECT id FROM tags WHERE {_ident(tag)})")
        if f.search.strip():
            tables["search_hits"] = pa.table({"row": self._search_rows(f.search.strip())})
            where.append("row IN (SELECT row FROM search_hits)")
        return " AND ".join(where), params, tables

    def _search_rows(self, needle: str) -> np.ndarray:
        """Rows of the errors containing ``needle``; the last 32 searches are kept (a page asks for its count
        and its rows with the same filter)."""
        with self._search_lock:
            hit = self._searches.get((needle, self._index is not None))
        if hit is None:
            hit = self._scan_errors(needle)
            with self._search_lock:
                self._searches[(needle, self._index is not None)] = hit
                while len(self._searches) > 32:
                    self._searches.pop(next(iter(self._searches)))
        return hit

    def _scan_errors(self, needle: str) -> np.ndarray:
        index = self._index
        if index is not None:
            return index.search_errors(needle)
        got = self._df("SELECT row FROM preds WHERE NOT correct AND contains(lower(text), ?)", [needle.lower()])
        return got["row"].to_numpy()

    def error_count(self, f: ErrorFilter = ErrorFilter()) -> int:
        where, params, tables = self._error_where(f)
        return int(self._one(f"SELECT count(*) FROM preds WHERE {where}", params, tables)[0])

    def errors(self, f: ErrorFilter = ErrorFilter(), limit: int = 100, offset: int = 0) -> pd.DataFrame:
        """One page of errors matching ``f``, most confident first: :data:`ERROR_COLUMNS`, the chosen tags,
        ``snippet`` (start of the review) and ``row``. Texts are read for these rows only."""
        page = self._error_rows(f, limit, offset)
        page["snippet"] = [snippet(t) for t in self.texts(page["row"])]
        return page

    def _error_rows(self, f: ErrorFilter, limit: int | None, offset: int = 0) -> pd.DataFrame:
        where, params, tables = self._error_where(f)
        cols = ", ".join(c for c in ERROR_COLUMNS if c != "error_type")
        page = self._df(
            f"SELECT row, {cols}, CASE WHEN pred = 1 THEN 'FP' ELSE 'FN' END AS error_type FROM preds "
            f"WHERE {where} ORDER BY confidence DESC, row" + (" LIMIT ? OFFSET ?" if limit is not None else ""),
            params + ([int(limit), int(offset)] if limit is not None else []),
            tables,
        )
        for tag in f.tags:
            page[tag] = True
        return page[["row", *ERROR_COLUMNS, *f.tags]]

    def export_errors_csv(self, f: ErrorFilter = ErrorFilter(), chunk: int = 5000) -> Iterator[str]:
        """CSV text of every error matching ``f`` (full review text included, formulas defused), yielded in
        pieces of ``chunk`` rows so memory stays bounded by a chunk."""
        rows = self._error_rows(f, None)
        yield ",".join(list(rows.columns.drop("row")) + ["text"]) + "\n"
        for start in range(0, len(rows), chunk):
            part = rows.iloc[start : start + chunk].copy()
            part["text"] = self.texts(part["row"])
            body = csv_safe(part.drop(columns="row"))
            yield body.split("\n", 1)[1]

    def cell(self, cell: str, threshold: float, limit: int = 100, offset: int = 0) -> tuple[pd.DataFrame, int]:
        """Reviews of one confusion-matrix cell at ``threshold``, most confident first, and the cell's size."""
        cond = {
            "TP": "prob_pos >= ? AND label = 1",
            "FP": "prob_pos >= ? AND label = 0",
            "FN": "prob_pos < ? AND label = 1",
            "TN": "prob_pos < ? AND label = 0",
        }[cell]
        order = "prob_pos DESC" if cell in ("TP", "FP") else "prob_pos ASC"
        total = int(self._one(f"SELECT count(*) FROM preds WHERE {cond}", [float(threshold)])[0])
        page = self._df(
            f"SELECT row, {', '.join(CELL_COLUMNS)} FROM preds WHERE {cond} ORDER BY {order}, row LIMIT ? OFFSET ?",
            [float(threshold), int(limit), int(offset)],
        )
        page.insert(1, "snippet", [snippet(t) for t in self.texts(page["row"])])
        return page, total

    def review(self, review_id: str) -> dict | None:
        """Every column of one review (full text included), or ``None`` when the id is not in the run."""
        got = self._df("SELECT * EXCLUDE (text) FROM preds WHERE id = ? LIMIT 1", [str(review_id)])
        if got.empty:
            return None
        out = got.iloc[0].to_dict()
        out["text"] = self.texts([int(out["row"])])[0]
        out["error_type"] = "" if out["correct"] else ("FP" if int(out["pred"]) == 1 else "FN")
        return out

    def tags_of(self, review_id: str) -> list[str]:
        """The tags true for one review (empty when the run has no tags or the review was not tagged)."""
        if not self.tag_columns:
            return []
        cols = ", ".join(map(_ident, self.tag_columns))
        got = self._one(f"SELECT {cols} FROM tags WHERE id = ? LIMIT 1", [str(review_id)])
        return [t for t, v in zip(self.tag_columns, got or ()) if v is True]  # None: not computed for it

    def label_issues(self, limit: int = 500) -> tuple[pd.DataFrame, int] | None:
        """cleanlab's likely-mislabeled reviews, lowest label quality first: the first ``limit`` (default 500)
        with the start of their text, and how many there are. ``None`` when the run has no label-issue tags."""
        if "label_issue" not in self.tag_columns:
            return None
        try:
            total = int(self._one("SELECT count(*) FROM tags WHERE label_issue")[0])
            got = self._df(
                "SELECT p.row, p.id, t.label_issue_quality AS label_quality, p.label, p.rating, p.prob_pos "
                "FROM tags t JOIN preds p USING (id) WHERE t.label_issue ORDER BY label_quality, p.row LIMIT ?",
                [int(limit)],
            )
        except duckdb.Error:  # label_issue without its quality column: written by another tool
            return None
        got["text"] = [snippet(t) for t in self.texts(got["row"])]
        return got.drop(columns="row"), total

    def compare(self, other: RunQuery | Path | str) -> dict | None:
        """On the reviews both runs scored (joined on ``id``): both wrong, only this wrong, only the other
        wrong. ``None`` when they share no review. ``other``: its query or its predictions file."""
        shared, both, mine, theirs = self._one(
            "SELECT count(*), sum((NOT a.correct AND NOT b.correct)::INT), sum((NOT a.correct AND b.correct)::INT), "
            "sum((a.correct AND NOT b.correct)::INT) FROM preds a "
            f"JOIN read_parquet({_sql_str(str(getattr(other, 'parquet', other)))}) b USING (id)"
        )
        if not shared:
            return None
        return {"shared": int(shared), "both_wrong": int(both), "only_this": int(mine), "only_other": int(theirs)}
