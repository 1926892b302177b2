"""Score a classifier on validation + test, calibrate, and write a complete run folder.

Works for any predictor with ``logits``/``encode`` (TF) or ``predict_proba`` (baseline): the framework
stays inside the classifier.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from . import metrics as Mx
from .config import RunConfig
from .data import Splits
from .modelcard import model_card
from .provenance import hardware, now_iso, versions, git_commit
from .runs import RunWriter

log = logging.getLogger(__name__)


def _progress(total: int, desc: str):
    return tqdm(total=total, desc=desc, unit="review", mininterval=2.0, leave=False)


def score_transformer(clf, df: pd.DataFrame, desc: str) -> tuple[np.ndarray, pd.DataFrame, float]:
    """Logits plus token facts (n_tokens, truncated) for ``df``; returns seconds spent too."""
    t0 = time.perf_counter()
    enc = clf.encode(df["text"].tolist())
    with _progress(len(df), desc) as bar:
        logits = clf.logits_from_ids(enc.ids, progress=bar)
    facts = pd.DataFrame({"n_tokens": enc.n_tokens, "truncated": enc.truncated})
    return logits, facts, time.perf_counter() - t0


def predictions_frame(df: pd.DataFrame, prob: np.ndarray, facts: pd.DataFrame) -> pd.DataFrame:
    pred = (prob >= 0.5).astype("int8")
    return pd.DataFrame({
        "id": df["id"].to_numpy(), "text": df["text"].to_numpy(), "label": df["label"].to_numpy(),
        "rating": df["rating"].to_numpy(), "prob_pos": prob.astype("float32"), "pred": pred,
        "correct": pred == df["label"].to_numpy(), "confidence": np.maximum(prob, 1 - prob).astype("float32"),
        "n_tokens": facts["n_tokens"].to_numpy().astype("int32"), "truncated": facts["truncated"].to_numpy(),
    })


def evaluate_transformer(clf, splits: Splits, cfg: RunConfig, writer: RunWriter, *, kind: str,
                         timings: dict, extra: dict | None = None, calibrate: bool = True) -> Path:
    """Calibrate on validation, score test, write predictions/metrics/run.json/README and publish."""
    from .model import logits_to_prob

    val_logits, _, t_val = score_transformer(clf, splits.val, "validation")
    temperature = Mx.fit_temperature(val_logits, splits.val["label"].to_numpy()) if calibrate else 1.0
    clf.temperature = temperature
    test_logits, facts, t_test = score_transformer(clf, splits.test, "test")
    timings["score_validation"] = {"seconds": round(t_val, 2), "reviews_per_s": round(len(splits.val) / t_val, 2)}
    timings["score_test"] = {"seconds": round(t_test, 2), "reviews_per_s": round(len(splits.test) / t_test, 2)}
    prob_raw = logits_to_prob(test_logits, 1.0)
    prob = logits_to_prob(test_logits, temperature)
    val_raw = Mx.classification_metrics(splits.val["label"].to_numpy(), logits_to_prob(val_logits, 1.0))
    val_cal = Mx.classification_metrics(splits.val["label"].to_numpy(), logits_to_prob(val_logits, temperature))
    calibration = {"temperature": temperature, "fitted_on": "validation",
                   "ece_val_before": val_raw["ece"], "ece_val_after": val_cal["ece"],
                   "ece_test_before": Mx.expected_calibration_error(splits.test["label"].to_numpy(), prob_raw),
                   "ece_test_after": Mx.expected_calibration_error(splits.test["label"].to_numpy(), prob)}
    return write_run(writer, cfg, splits, predictions_frame(splits.test, prob, facts), kind=kind,
                     timings=timings, calibration=calibration, validation=val_cal, extra=extra)


def write_run(writer: RunWriter, cfg: RunConfig, splits: Splits, preds: pd.DataFrame, *, kind: str,
              timings: dict, calibration: dict, validation: dict, extra: dict | None = None) -> Path:
    """Metrics, run.json and model card from finished predictions; then mark complete and publish."""
    overall = Mx.classification_metrics(preds["label"].to_numpy(), preds["prob_pos"].to_numpy())
    metrics = {"overall": overall, "validation": validation, "calibration": calibration,
               "slices": Mx.slice_metrics(preds),
               "reliability": Mx.reliability_table(preds["label"].to_numpy(),
                                                   preds["prob_pos"].to_numpy()).to_dict("records")}
    writer.write_predictions(preds)
    writer.write_json("metrics.json", metrics)
    run = {"name": writer.name, "kind": kind, "created": now_iso(), "config": cfg.to_dict(),
           "calibration": {"temperature": calibration.get("temperature", 1.0)},
           "data": splits.fingerprint(), "versions": versions(), "git_commit": git_commit(),
           "hardware": hardware((extra or {}).get("gpu_names")), "timings": timings, **(extra or {})}
    run.pop("gpu_names", None)
    writer.write_json("run.json", run)
    writer.write_text("README.md", model_card(run, metrics))
    out = writer.finish()
    log.info("run written to %s (test accuracy %.4f)", out, overall["accuracy"])
    return out
