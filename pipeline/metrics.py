"""Metrics from labels and probabilities only (no framework): overall, per slice, calibration."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

LENGTH_BUCKETS = [0, 128, 256, 512, 1024, 10**9]
LENGTH_LABELS = ["<128", "128-255", "256-511", "512-1023", "1024+"]


def reliability_table(y: np.ndarray, p: np.ndarray, n_bins: int = 15) -> pd.DataFrame:
    """Per confidence bin (equal width over [0.5, 1], the predicted class's probability): count, mean
    confidence, accuracy, bin edges. Empty bins are left out. The one binning behind ECE and the diagram."""
    y, p = np.asarray(y), np.asarray(p, dtype=float)
    pred = (p >= 0.5).astype(int)
    conf = np.where(pred == 1, p, 1 - p)
    bins = np.linspace(0.5, 1.0, n_bins + 1)
    idx = np.clip(np.digitize(conf, bins[1:-1], right=True), 0, n_bins - 1)
    df = pd.DataFrame({"bin": idx, "conf": conf, "correct": (pred == y).astype(float)})
    g = df.groupby("bin").agg(count=("conf", "size"), confidence=("conf", "mean"), accuracy=("correct", "mean"))
    g["bin_low"] = bins[g.index]
    g["bin_high"] = bins[g.index + 1]
    return g.reset_index(drop=True)


def ece_of_table(t: pd.DataFrame) -> float:
    """ECE from a reliability table (:func:`reliability_table`, or the query layer's): the count-weighted mean
    gap between accuracy and confidence; NaN for an empty table."""
    if t.empty:
        return float("nan")
    return float((t["count"] / t["count"].sum() * (t["accuracy"] - t["confidence"]).abs()).sum())


def expected_calibration_error(y: np.ndarray, p: np.ndarray, n_bins: int = 15) -> float:
    """ECE of the predicted class's confidence over :func:`reliability_table`'s bins (15 by default)."""
    if len(y) == 0:
        return float("nan")
    return ece_of_table(reliability_table(y, p, n_bins))


def classification_metrics(y: np.ndarray, p: np.ndarray, threshold: float = 0.5, n_bins: int = 15) -> dict:
    """Accuracy, precision, recall, F1, ROC-AUC, log loss, Brier, ECE and the confusion matrix.

    Metrics that need both classes (ROC-AUC, log loss) are ``None`` on a one-class slice.
    """
    from sklearn import metrics as skm  # imported here: the dashboard's pages need only the light functions

    y = np.asarray(y).astype(int)
    p = np.clip(np.asarray(p, dtype=float), 1e-7, 1 - 1e-7)
    pred = (p >= threshold).astype(int)
    both = len(np.unique(y)) == 2
    cm = skm.confusion_matrix(y, pred, labels=[0, 1])
    return {
        "n": int(len(y)),
        "accuracy": float(skm.accuracy_score(y, pred)) if len(y) else None,
        "precision": float(skm.precision_score(y, pred, zero_division=0)),
        "recall": float(skm.recall_score(y, pred, zero_division=0)),
        "f1": float(skm.f1_score(y, pred, zero_division=0)),
        "roc_auc": float(skm.roc_auc_score(y, p)) if both else None,
        "log_loss": float(skm.log_loss(y, p, labels=[0, 1])) if both else None,
        "brier": float(np.mean((p - y) ** 2)) if len(y) else None,
        "ece": expected_calibration_error(y, p, n_bins),
        "confusion_matrix": {"tn": int(cm[0, 0]), "fp": int(cm[0, 1]), "fn": int(cm[1, 0]), "tp": int(cm[1, 1])},
        "threshold": threshold,
    }


def confusion_metrics(cm: dict) -> dict:
    """Accuracy, precision, recall and F1 from confusion counts (``tn fp fn tp``); 0 where undefined, ``None``
    accuracy when there are no rows. Matches :func:`classification_metrics` on the same counts."""
    tp, fp, fn, tn = (int(cm[k]) for k in ("tp", "fp", "fn", "tn"))
    n = tp + fp + fn + tn
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {
        "n": n,
        "accuracy": (tp + tn) / n if n else None,
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "confusion_matrix": {"tn": tn, "fp": fp, "fn": fn, "tp": tp},
    }


def length_bucket(n_tokens: pd.Series | np.ndarray) -> pd.Categorical:
    return pd.cut(np.asarray(n_tokens), LENGTH_BUCKETS, right=False, labels=LENGTH_LABELS)


def slice_metrics(pred: pd.DataFrame) -> dict:
    """The same metrics per token-length bucket, truncated or not, and star rating."""
    out: dict[str, dict] = {}
    groups = {
        "length": length_bucket(pred["n_tokens"]),
        "truncated": pred["truncated"].map({True: "truncated", False: "complete"}),
        "rating": pred["rating"].astype(int).map(lambda r: f"{r}★" if r > 0 else "unknown"),
    }
    for name, key in groups.items():
        out[name] = {}
        for value, part in pred.groupby(key, observed=True):
            out[name][str(value)] = classification_metrics(part["label"].to_numpy(), part["prob_pos"].to_numpy())
    return out


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """Temperature T > 0 minimising validation NLL of softmax(logits / T) (Guo et al. 2017).

    A 1-D problem: golden-section search over log T in [-3, 3] is exact enough and needs no optimiser.
    """
    z = (logits[:, 1] - logits[:, 0]).astype(np.float64)
    y = np.asarray(y, dtype=np.float64)

    def nll(log_t: float) -> float:
        s = z / math.exp(log_t)
        return float(np.mean(np.logaddexp(0, s) - y * s))

    lo, hi = -3.0, 3.0
    g = (math.sqrt(5) - 1) / 2
    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    fa, fb = nll(a), nll(b)
    for _ in range(80):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - g * (hi - lo)
            fa = nll(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = nll(b)
    return float(math.exp((lo + hi) / 2))


def threshold_curves(y: np.ndarray, p: np.ndarray) -> dict[str, pd.DataFrame]:
    """ROC and precision-recall curves (for plotting)."""
    from sklearn import metrics as skm

    fpr, tpr, thr = skm.roc_curve(y, p)
    prec, rec, thr_pr = skm.precision_recall_curve(y, p)
    return {
        "roc": pd.DataFrame({"fpr": fpr, "tpr": tpr, "threshold": thr}),
        "pr": pd.DataFrame({"precision": prec[:-1], "recall": rec[:-1], "threshold": thr_pr}),
    }
