"""What one model evaluation costs, the floor under SHAP's latency (issue #16's "SHAP ≤ 2 s").

    python -m benchmarks.int8_throughput --run RUN [--repeat 5]

Scores random token rows of several widths with the run's int8 copy (TFLite + XNNPACK, as SHAP does), the same
copy without XNNPACK, and the float32 TF model, and reports milliseconds per row and per token, plus rows per
call (does batching help?). Then a SHAP budget: how many full-length evaluations of a median review fit in
2 s. Writes ``benchmarks/results/int8-throughput-<date>.json`` with the CPU flags and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import warnings
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")


def _timed(fn, repeat: int) -> float:
    fn()  # first call: allocation, tracing
    return statistics.median(_once(fn) for _ in range(repeat))


def _once(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def _tflite_ms_per_row(blob: bytes, rows: int, width: int, repeat: int, xnnpack: bool) -> float:
    import tensorflow as tf

    kw = (
        {}
        if xnnpack
        else {"experimental_op_resolver_type": tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        interp = tf.lite.Interpreter(model_content=blob, num_threads=len(os.sched_getaffinity(0)), **kw)
    inputs = {d["name"]: d["index"] for d in interp.get_input_details()}
    for i in inputs.values():
        interp.resize_tensor_input(i, (rows, width))
    interp.allocate_tensors()
    ids = np.random.default_rng(0).integers(1000, 20000, size=(rows, width)).astype(np.int32)
    for name, i in inputs.items():
        interp.set_tensor(i, ids if "input_ids" in name else np.ones_like(ids))
    return 1000 * _timed(interp.invoke, repeat) / rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()

    from pipeline.classifiers import load_classifier
    from pipeline.runs import load_run

    run = load_run(a.run)
    clf = load_classifier(a.run)
    blob = clf.int8_scorer()._blob
    median_tokens = int(run.query.summary()["median_tokens"])
    rows = []
    for width in (32, 64, 128, 256):
        for per_call in (1, 8):
            ms = _tflite_ms_per_row(blob, per_call, width, a.repeat, xnnpack=True)
            rows.append(
                {"engine": "int8 tflite + xnnpack", "width": width, "rows_per_call": per_call, "ms_per_row": ms}
            )
        ms = _tflite_ms_per_row(blob, 1, width, 1, xnnpack=False)
        rows.append({"engine": "int8 tflite, no xnnpack", "width": width, "rows_per_call": 1, "ms_per_row": ms})
        ids = [np.random.default_rng(1).integers(1000, 20000, width).astype(np.int32) for _ in range(16)]
        ms = 1000 * _timed(lambda ids=ids: clf.logits_from_ids(ids), a.repeat) / 16
        rows.append({"engine": "float32 tf", "width": width, "rows_per_call": 16, "ms_per_row": ms})
    for r in rows:
        r["ms_per_row"] = round(r["ms_per_row"], 2)
        r["us_per_token"] = round(1000 * r["ms_per_row"] / r["width"], 1)
    best = min(
        (r for r in rows if r["engine"] == "int8 tflite + xnnpack" and r["width"] >= median_tokens),
        key=lambda r: r["width"],
        default=None,
    )
    flags = Path("/proc/cpuinfo").read_text().split("flags")[1].split("\n")[0] if Path("/proc/cpuinfo").exists() else ""
    out = {
        "benchmark": "int8_throughput",
        "date": str(date.today()),
        "run": run.info.name,
        "median_tokens": median_tokens,
        "cpu_threads": len(os.sched_getaffinity(0)),
        "cpu_vector_flags": sorted({f for f in flags.split() if f.startswith(("avx", "amx")) or "vnni" in f}),
        "loadavg": [round(v, 2) for v in os.getloadavg()],
        "rows": rows,
        "full_length_evaluations_in_2_s": None if best is None else int(2000 // best["ms_per_row"]),
    }
    path = ROOT / "benchmarks" / "results" / f"int8-throughput-{date.today()}.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    print(path)


if __name__ == "__main__":
    main()
