"""Dynamic padding + length buckets vs fixed padding, MiniLM, same process, interleaved trials.

    python benchmarks/padding.py [--max-length 512] [--train-steps 12] [--score 2000]

Training: samples/s over ``--train-steps`` optimizer steps per trial on IMDB train reviews.
Scoring: reviews/s over ``--score`` IMDB test reviews. Trials alternate between the two modes so that load
from other processes hits both alike. Writes ``benchmarks/results/padding-<date>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np

from pipeline.classifiers.sources import load_tokenizer
from pipeline.classifiers.transformer.batching import train_dataset
from pipeline.classifiers.transformer.checkpoint import load_model
from pipeline.classifiers.transformer.classifier import TFClassifier
from pipeline.classifiers.transformer.train import compile_model
from pipeline.data import load_raw, stratified_sample
from pipeline.provenance import hardware, versions
from pipeline.tokens import Truncation, encode


def train_rate(mdl, ids, labels, batch, steps, fixed, boundaries) -> float:
    ds = train_dataset(ids, labels, batch, boundaries, seed=0, fixed_length=fixed).take(steps + 2)
    it = iter(ds)
    for _ in range(2):  # warm-up: tracing for new shapes is not throughput
        x, y = next(it)
        mdl.train_on_batch(x, y)
    n, t0 = 0, time.perf_counter()
    for x, y in it:
        mdl.train_on_batch(x, y)
        n += int(y.shape[0])
    return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-length", type=int, default=512)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--train-steps", type=int, default=12)
    ap.add_argument("--score", type=int, default=2000)
    ap.add_argument("--trials", type=int, default=2)
    ap.add_argument("--data", default=os.environ.get("IMDB_DATA", str(ROOT.parent / "shared/data/imdb")))
    a = ap.parse_args()
    import tensorflow as tf

    frames, _ = load_raw(a.data)
    tok = load_tokenizer("minilm")
    mdl = load_model("minilm")
    compile_model(mdl, tf.keras.optimizers.Adam(1e-5))
    train = stratified_sample(frames["train"], 4000, 0)
    test = stratified_sample(frames["test"], a.score, 0)
    tr = encode(train["text"], tok, Truncation(a.max_length, "head+tail", 128))
    te = encode(test["text"], tok, Truncation(a.max_length, "head+tail", 128))
    bounds = [b for b in (64, 128, 192, 256, 320, 384, 448) if b < a.max_length]
    clf = TFClassifier(mdl, tok, Truncation(a.max_length, "head+tail", 128), batch_size=32)
    res = {"train_fixed": [], "train_bucketed": [], "score_fixed": [], "score_bucketed": []}
    clf.logits_from_ids(te.ids[:64])  # trace once
    clf.logits_from_ids(te.ids[:64], fixed_length=a.max_length)
    for trial in range(a.trials):
        res["train_fixed"].append(
            train_rate(mdl, tr.ids, train["label"].to_numpy(), a.batch, a.train_steps, a.max_length, bounds)
        )
        res["train_bucketed"].append(
            train_rate(mdl, tr.ids, train["label"].to_numpy(), a.batch, a.train_steps, None, bounds)
        )
        for mode, fixed in (("score_fixed", a.max_length), ("score_bucketed", None)):
            t0 = time.perf_counter()
            clf.logits_from_ids(te.ids, fixed_length=fixed)
            res[mode].append(len(te.ids) / (time.perf_counter() - t0))
        print(trial, {k: round(v[-1], 2) for k, v in res.items()}, flush=True)
        write(a, res, te)


def write(a, res, te) -> None:
    lengths = np.array([len(x) for x in te.ids])
    out = {
        "benchmark": "padding",
        "date": str(date.today()),
        "model": "minilm (all-MiniLM-L6-v2)",
        "max_length": a.max_length,
        "batch_size_train": a.batch,
        "batch_size_score": 32,
        "train_steps_per_trial": a.train_steps,
        "score_reviews": len(te.ids),
        "trials": a.trials,
        "mean_tokens_seen_test": float(lengths.mean()),
        "share_truncated_test": float(te.truncated.mean()),
        "trials_done": len(res["score_bucketed"]),
        "samples_per_s": {k: [round(x, 2) for x in v] for k, v in res.items()},
        "median": {k: round(float(np.median(v)), 2) for k, v in res.items()},
        "speedup_train": round(float(np.median(res["train_bucketed"]) / np.median(res["train_fixed"])), 2),
        "speedup_score": round(float(np.median(res["score_bucketed"]) / np.median(res["score_fixed"])), 2),
        "note": os.environ.get("BENCH_NOTE", ""),
        "hardware": hardware(),
        "versions": versions(),
    }
    path = ROOT / "benchmarks" / "results" / f"padding-{date.today()}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps({k: out[k] for k in ("median", "speedup_train", "speedup_score")}, indent=2))


if __name__ == "__main__":
    main()
