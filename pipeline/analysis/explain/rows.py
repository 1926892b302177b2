"""Explanations as table rows: the columns of ``explanations.parquet``, for a run's reviews or any reviews file.

:func:`attribution_columns` is the one serialisation of an :class:`Attribution` (``settings`` as JSON text);
``precompute`` adds the run's ``id, correct, label, pred`` to it, :func:`explain_frame` the file's ``id`` and the
prediction (``explain --input``, locally or on Ray).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pandas as pd

from .attribution import Attribution

ATTRIBUTION_COLUMNS = (
    "method",
    "tokens",
    "scores",
    "base_value",
    "prob_pos",
    "settings",
    "units",
    "completeness_gap",
    "seconds",
    "truncated",
)
FILE_COLUMNS = ("id", "pred", *ATTRIBUTION_COLUMNS)  # explain --input: one row per review


def attribution_columns(a: Attribution) -> dict:
    return {
        "method": a.method,
        "tokens": a.tokens,
        "scores": a.scores,
        "base_value": a.base_value,
        "prob_pos": a.prob_pos,
        "settings": json.dumps(a.settings),
        "units": a.units,
        "completeness_gap": a.completeness_gap,
        "seconds": a.seconds,
        "truncated": a.truncated,
    }


def explain_frame(explainer, df: pd.DataFrame, on_rows: Callable[[int], None] | None = None) -> pd.DataFrame:
    """One row of :data:`FILE_COLUMNS` per review of ``df`` (``id, text, …``, as
    :func:`pipeline.inputs.normalise_reviews` returns it): ``pred`` is the explained probability's side (0/1),
    ``completeness_gap`` a float (NaN where the method defines none). ``on_rows(done)`` after each review."""
    rows = []
    for i, (rid, text) in enumerate(zip(df["id"], df["text"]), 1):
        a = explainer([text])[0]
        rows.append({"id": rid, "pred": int(a.prob_pos >= 0.5), **attribution_columns(a)})
        if on_rows is not None:
            on_rows(i)
    out = pd.DataFrame(rows, columns=list(FILE_COLUMNS))
    if out.empty:
        out["id"] = df["id"].iloc[:0]
    floats = {c: "float64" for c in ("base_value", "prob_pos", "completeness_gap", "seconds")}
    return out.astype({"pred": "int64", "truncated": "bool", **floats})


def as_arrow(frame: pd.DataFrame):
    """:func:`explain_frame`'s rows as an Arrow table with fixed column types, whatever the rows (none, or token
    lists of one length, which Ray would otherwise store as a tensor): every file of a Ray output reads alike."""
    import pyarrow as pa

    id_type = pa.Table.from_pandas(frame[["id"]], preserve_index=False).schema.field("id").type
    types = {
        "id": pa.string() if pa.types.is_null(id_type) else id_type,
        "pred": pa.int64(),
        "tokens": pa.list_(pa.string()),
        "scores": pa.list_(pa.float64()),
        "truncated": pa.bool_(),
        **{c: pa.string() for c in ("method", "settings", "units")},
        **{c: pa.float64() for c in ("base_value", "prob_pos", "completeness_gap", "seconds")},
    }
    return pa.Table.from_pandas(frame, schema=pa.schema([(c, types[c]) for c in FILE_COLUMNS]), preserve_index=False)
