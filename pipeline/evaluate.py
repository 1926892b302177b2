"""Score a classifier on validation + test, calibrate, and write a complete run folder.

Framework-free: a transformer run is scored through its classifier's ``encode``/``logits_from_ids``, the
baseline through ``prob_positive``; TensorFlow stays inside the classifier.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from tqdm.auto import tqdm

from . import metrics
from .atomic import run_lock
from .classifiers.base import logits_to_prob
from .config import RunConfig
from .data import Splits
from .modelcard import model_card
from .provenance import git_commit, hardware, now_iso, versions
from .run_writer import RunWriter
from .runs import METRICS_JSON, MODEL_CARD, PREDICTION_COLUMNS, PREDICTIONS, RUN_JSON

log = logging.getLogger(__name__)


def _review_bar(total: int, desc: str):
    return tqdm(total=total, desc=desc, unit="review", mininterval=2.0, leave=False)


def score_transformer(clf, df: pd.DataFrame, desc: str) -> tuple[np.ndarray, pd.DataFrame, float]:
    """Logits plus token facts (n_tokens, truncated) for ``df``; returns seconds spent too."""
    t0 = time.perf_counter()
    enc = clf.encode(df["text"].tolist())
    with _review_bar(len(df), desc) as bar:
        logits = clf.logits_from_ids(enc.ids, progress=bar)
    facts = pd.DataFrame({"n_tokens": enc.n_tokens, "truncated": enc.truncated})
    return logits, facts, time.perf_counter() - t0


# Test reviews encoded, scored and written per chunk (RunConfig.score_chunk_rows): memory holds one chunk's token
# ids and texts, not the split's, and a crash loses at most one chunk.
EVAL_CHUNK_ROWS = 5_000
METRIC_COLUMNS = ["label", "rating", "prob_pos", "n_tokens", "truncated"]  # what metrics need of predictions
LOGIT_COLUMNS = ["_logit_0", "_logit_1"]  # kept in the parts only: a resumed run needs the raw logits back


@dataclass(frozen=True)
class ScoredTest:
    logits: np.ndarray  # raw (temperature 1), every test review
    metric_columns: pd.DataFrame  # METRIC_COLUMNS, no text
    seconds: float
    chunks: int
    resumed_chunks: int  # found scored by an earlier, interrupted run
    scored_here: int  # reviews scored by this call (the rest were read back)


def score_to_parquet(
    clf,
    df: pd.DataFrame,
    temperature: float,
    path: Path,
    desc: str,
    chunk_rows: int = EVAL_CHUNK_ROWS,
    model_id: dict | None = None,
) -> ScoredTest:
    """Score ``df`` chunk by chunk into ``path`` (in the run's staging folder, published whole or not at all),
    resumably: each chunk's :func:`predictions_frame` (plus its raw logits) is one Parquet part in
    ``<path>.parts/`` (:class:`pipeline.chunked.ChunkParts`) beside a manifest naming the test split, the model
    (``model_id``), the temperature and ``chunk_rows``. A rerun with the same ones skips the chunks already there;
    parts of anything else are discarded and the split is scored from the start. At the end the parts become
    ``path``, one row group per chunk, and are deleted."""
    from .chunked import ChunkParts, parts_dir

    t0 = time.perf_counter()
    ids = hashlib.sha256("\x1e".join(map(str, df["id"])).encode()).hexdigest()[:16]
    manifest = {
        "test": {"rows": len(df), "ids_sha256": ids},
        "model": model_id or {},
        "temperature": float(temperature),
    }
    parts = ChunkParts(parts_dir(path), {**manifest, "chunk_rows": chunk_rows})
    logits, small, resumed, index, scored_here = [], [], 0, -1, 0
    with run_lock(parts.folder, "scoring into"):
        if parts.found() not in (None, parts.manifest):
            log.warning(
                "%s holds test scores of another model, split or chunk size: scoring from the start", parts.folder
            )
            parts.clear()
        parts.start()
        with _review_bar(len(df), desc) as bar:
            for index, start in enumerate(range(0, len(df), chunk_rows)):
                part = df.iloc[start : start + chunk_rows]
                if parts.has(index):  # scored before the interruption: read back, not scored again
                    got = pd.read_parquet(parts.part(index), columns=METRIC_COLUMNS + LOGIT_COLUMNS)
                    resumed += 1
                    bar.update(len(part))
                else:
                    enc = clf.encode(part["text"].tolist())
                    chunk_logits = clf.logits_from_ids(enc.ids, progress=bar)
                    facts = pd.DataFrame({"n_tokens": enc.n_tokens, "truncated": enc.truncated})
                    got = predictions_frame(part, logits_to_prob(chunk_logits, temperature), facts)
                    for i, c in enumerate(LOGIT_COLUMNS):
                        got[c] = chunk_logits[:, i]
                    parts.write(index, pa.Table.from_pandas(got, preserve_index=False))
                    scored_here += len(part)
                logits.append(got[LOGIT_COLUMNS].to_numpy())
                small.append(got[METRIC_COLUMNS].reset_index(drop=True))
        parts.merge(index + 1, path, parts.schema(0), columns=list(PREDICTION_COLUMNS))
    parts.remove()
    seconds = time.perf_counter() - t0
    return ScoredTest(
        np.concatenate(logits), pd.concat(small, ignore_index=True), seconds, index + 1, resumed, scored_here
    )


def predictions_frame(df: pd.DataFrame, prob: np.ndarray, facts: pd.DataFrame) -> pd.DataFrame:
    pred = (prob >= 0.5).astype("int8")
    return pd.DataFrame(
        {
            "id": df["id"].to_numpy(),
            "text": df["text"].to_numpy(),
            "label": df["label"].to_numpy(),
            "rating": df["rating"].to_numpy(),
            "prob_pos": prob.astype("float32"),
            "pred": pred,
            "correct": pred == df["label"].to_numpy(),
            "confidence": np.maximum(prob, 1 - prob).astype("float32"),
            "n_tokens": facts["n_tokens"].to_numpy().astype("int32"),
            "truncated": facts["truncated"].to_numpy(),
        }
    )


def evaluate_transformer(
    clf,
    splits: Splits,
    cfg: RunConfig,
    writer: RunWriter,
    *,
    kind: str,
    timings: dict,
    extra: dict | None = None,
    calibrate: bool = True,
) -> Path:
    """Calibrate on validation, score test, write predictions/metrics/run.json/README and publish."""
    val_logits, _, t_val = score_transformer(clf, splits.val, "validation")
    temperature = metrics.fit_temperature(val_logits, splits.val["label"].to_numpy()) if calibrate else 1.0
    clf.temperature = temperature
    # the validation logits identify the model (any other weights score validation differently): a resumed run
    # reuses the test chunks already scored only when they came from this very model and temperature
    model_id = {"validation_logits_sha256": hashlib.sha256(np.ascontiguousarray(val_logits).tobytes()).hexdigest()}
    test = score_to_parquet(
        clf, splits.test, temperature, writer.path(PREDICTIONS), "test", cfg.score_chunk_rows, model_id
    )
    test_logits, scored, t_test = test.logits, test.metric_columns, test.seconds
    timings["score_validation"] = {"seconds": round(t_val, 2), "reviews_per_s": round(len(splits.val) / t_val, 2)}
    timings["score_test"] = {
        "seconds": round(t_test, 2),
        "reviews_per_s": round(test.scored_here / t_test, 2),  # resumed chunks are read back, not scored
        "chunks": test.chunks,
        "resumed_chunks": test.resumed_chunks,
    }
    prob_raw = logits_to_prob(test_logits, 1.0)
    prob = logits_to_prob(test_logits, temperature)
    val_raw = metrics.classification_metrics(splits.val["label"].to_numpy(), logits_to_prob(val_logits, 1.0))
    val_cal = metrics.classification_metrics(splits.val["label"].to_numpy(), logits_to_prob(val_logits, temperature))
    calibration = {
        "temperature": temperature,
        "fitted_on": "validation",
        "ece_val_before": val_raw["ece"],
        "ece_val_after": val_cal["ece"],
        "ece_test_before": metrics.expected_calibration_error(splits.test["label"].to_numpy(), prob_raw),
        "ece_test_after": metrics.expected_calibration_error(splits.test["label"].to_numpy(), prob),
    }
    return write_run(
        writer,
        cfg,
        splits,
        scored,
        kind=kind,
        timings=timings,
        calibration=calibration,
        validation=val_cal,
        extra=extra,
        predictions_written=True,
    )


def write_run(
    writer: RunWriter,
    cfg: RunConfig,
    splits: Splits,
    preds: pd.DataFrame,
    *,
    kind: str,
    timings: dict,
    calibration: dict,
    validation: dict,
    extra: dict | None = None,
    predictions_written: bool = False,
) -> Path:
    """Metrics, run.json and model card from finished predictions; then mark complete and publish.
    ``predictions_written``: the predictions file is already in the staging folder (written per chunk) and
    ``preds`` holds only the columns metrics read (:data:`METRIC_COLUMNS`)."""
    overall = metrics.classification_metrics(preds["label"].to_numpy(), preds["prob_pos"].to_numpy())
    report = {
        "overall": overall,
        "validation": validation,
        "calibration": calibration,
        "slices": metrics.slice_metrics(preds),
        "reliability": metrics.reliability_table(preds["label"].to_numpy(), preds["prob_pos"].to_numpy()).to_dict(
            "records"
        ),
    }
    if not predictions_written:
        writer.write_predictions(preds)
    writer.write_json(METRICS_JSON, report)
    run = {
        "name": writer.name,
        "kind": kind,
        "created": now_iso(),
        "config": cfg.to_dict(),
        "calibration": {"temperature": calibration.get("temperature", 1.0)},
        "data": splits.fingerprint(),
        "versions": versions(),
        "git_commit": git_commit(),
        "hardware": hardware((extra or {}).get("gpu_names")),
        "timings": timings,
        **(extra or {}),
    }
    run.pop("gpu_names", None)
    writer.write_json(RUN_JSON, run)
    writer.write_text(MODEL_CARD, model_card(run, report))
    out = writer.finish()
    log.info("run written to %s (test accuracy %.4f)", out, overall["accuracy"])
    return out


def evaluate_baseline(splits: Splits, cfg: RunConfig, writer: RunWriter) -> Path:
    """Fit TF-IDF + logistic regression on train (validation only for reporting), score test, publish."""
    from .classifiers.baseline import MODEL_FILE, BaselineClassifier
    from .classifiers.sources import MINILM_ALIAS, load_tokenizer
    from .tokens import encode

    t0 = time.perf_counter()
    clf = BaselineClassifier.fit(splits.train["text"], splits.train["label"], cfg.seed)
    t_fit = time.perf_counter() - t0
    clf.save(writer.path(MODEL_FILE))
    t1 = time.perf_counter()
    prob = clf.prob_positive(splits.test["text"].tolist())
    t_score = time.perf_counter() - t1
    val = metrics.classification_metrics(splits.val["label"].to_numpy(), clf.prob_positive(splits.val["text"].tolist()))
    # Token facts use the BERT tokenizer, so length slices line up with the transformer runs.
    try:
        n_tokens = encode(splits.test["text"], load_tokenizer(MINILM_ALIAS), cfg.truncation_spec).n_tokens
    except Exception:  # noqa: BLE001 — without the packaged tokenizer, words are the next best length
        n_tokens = splits.test["text"].str.split().str.len().to_numpy()
    facts = pd.DataFrame({"n_tokens": n_tokens, "truncated": np.zeros(len(prob), dtype=bool)})
    timings = {
        "train": {
            "seconds": round(t_fit, 2),
            "samples": len(splits.train),
            "samples_per_s": round(len(splits.train) / t_fit, 1),
        },
        "score_test": {"seconds": round(t_score, 2), "reviews_per_s": round(len(prob) / t_score, 1)},
    }
    ece = metrics.expected_calibration_error(splits.test["label"].to_numpy(), prob)
    calibration = {"temperature": 1.0, "fitted_on": None, "ece_test_before": ece, "ece_test_after": ece}
    return write_run(
        writer,
        cfg,
        splits,
        predictions_frame(splits.test, prob, facts),
        kind="baseline",
        timings=timings,
        calibration=calibration,
        validation=val,
    )
