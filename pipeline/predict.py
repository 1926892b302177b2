"""Score a reviews file of any size: chunk by chunk, with a progress bar, resumable after a crash or Ctrl-C.

Each chunk of the input (:func:`pipeline.inputs.iter_reviews_file`) is scored and written as one Parquet
part, atomically, in ``<output>.parts/``, beside a ``manifest.json`` naming the input (size, mtime, a hash of
its first and last MB), the model and the chunk size. Rerunning the same command skips the chunks whose
part is there. When every chunk is done the parts are copied, one row group each, into the output (Parquet,
or CSV with formulas defused), written to a temporary file and renamed: the output path only ever holds a
whole result. Memory holds one chunk, whatever the input's size. The machinery is :mod:`pipeline.chunked`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from .chunked import ChunkedResult, map_file, parts_dir
from .classifiers.base import LABELS, Classifier, score_texts
from .inputs import DEFAULT_CHUNK_ROWS, has_text, restore_text_column

__all__ = ["OUTPUT_COLUMNS", "PredictResult", "add_predictions", "parts_dir", "predict_file", "score_rows"]

OUTPUT_COLUMNS = ("prob_pos", "pred", "pred_label")  # added after the input's own columns
PredictResult = ChunkedResult


def add_predictions(df: pd.DataFrame, probs: np.ndarray) -> pd.DataFrame:
    """``df`` plus ``prob_pos`` (float32), ``pred`` (int8, threshold 0.5) and ``pred_label``."""
    df = df.copy()
    df["prob_pos"] = np.asarray(probs, dtype="float32")
    df["pred"] = (df["prob_pos"] >= 0.5).astype("int8")
    df["pred_label"] = np.where(df["pred"] == 1, LABELS[1], LABELS[0])
    return df


def score_rows(
    clf: Classifier, df: pd.DataFrame, batch: int = 64, on_batch: Callable[[int], None] | None = None
) -> np.ndarray:
    """P(positive) for every row of ``df`` (read with ``keep_empty=True``, so rows keep their places): NaN where the
    text is empty, and only the other rows are scored (``on_batch(done)`` counts those)."""
    has = has_text(df["text"]).to_numpy()
    probs = np.full(len(df), np.nan)
    probs[has] = score_texts(clf, df.loc[has, "text"].tolist(), batch, on_batch=on_batch)
    return probs


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

    def score(df: pd.DataFrame, on_rows) -> pd.DataFrame:
        # the rows go back as they came: the text column keeps the file's own name ('Review Text', review_body)
        return restore_text_column(add_predictions(df, score_texts(clf, df["text"].tolist(), batch, on_batch=on_rows)))

    return map_file(score, input_path, output, identity=model_id, chunk_rows=chunk_rows, progress=progress)
