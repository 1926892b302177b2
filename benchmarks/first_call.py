"""First-call latency of each attribution method as the Live page pays it.

    python benchmarks/first_call.py --run RUN [--methods grad ig shap] [--out FILE]

Per method, in a fresh process (so nothing is traced or imported yet): load the run's classifier and warm it as
``dashboard.state.classifier`` does (one forward, then ``warm_up_methods``: gradient tracing, int8 copy, shap's numba
code) — or, ``cold``, only the forward (the dashboard before issue #16) — then build ``Explainer(clf, method)`` as
``dashboard.explain_ui`` does and time its first and second call on the review of median length.
Writes ``benchmarks/results/first-call-<date>.json`` with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")


def one(run: str, method: str, warm: bool) -> dict:
    from pipeline.analysis.explain import Explainer, warm_up_methods
    from pipeline.classifiers import load_classifier
    from pipeline.runs import load_run

    preds = load_run(run).predictions
    text = preds.iloc[(preds["n_tokens"] - preds["n_tokens"].median()).abs().argsort()[:1]]["text"].iloc[0]
    t0 = time.perf_counter()
    clf = load_classifier(run)
    clf.prob_positive(["warm-up: trace the forward pass once, so no user waits for it"])
    warm_up = warm_up_methods(clf) if warm else {}
    load_seconds = time.perf_counter() - t0
    ex = Explainer(clf, method)
    first = ex([text])[0].seconds
    second = ex([text])[0].seconds
    return {
        "model_load_and_warm_up_seconds": round(load_seconds, 3),
        "warm_up_seconds": warm_up,
        "first_call_seconds": first,
        "second_call_seconds": second,
        "loadavg": [round(v, 2) for v in os.getloadavg()],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True)
    ap.add_argument("--methods", nargs="+", default=["grad", "ig", "shap"])
    ap.add_argument("--cold", nargs="*", default=["grad", "ig", "shap"], help="methods also timed without warm-up")
    ap.add_argument("--out", type=Path, help="results file (default benchmarks/results/first-call-<date>.json)")
    ap.add_argument("--one", nargs=2, metavar=("METHOD", "WARM"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        print(json.dumps(one(a.run, a.one[0], a.one[1] == "warm")))
        return
    path = a.out or ROOT / "benchmarks" / "results" / f"first-call-{date.today()}.json"
    # a later run of some methods adds to the day's file: the methods it did not time keep their rows
    out = json.loads(path.read_text()) if path.is_file() else {}
    if out.get("run") not in (None, a.run):
        raise SystemExit(f"{path} is for run {out['run']}; move it aside to time another run")
    out |= {"benchmark": "first-call", "date": str(date.today()), "run": a.run, "cpu_threads": os.cpu_count()}
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    out.setdefault("uptime_at_start", uptime)
    out.setdefault("later_runs", []).append({"methods": a.methods, "cold": a.cold, "uptime_at_start": uptime})
    for mode, methods in (("warm", a.methods), ("cold", a.cold)):
        for m in methods:
            res = subprocess.run(
                [sys.executable, __file__, "--run", a.run, "--one", m, mode], capture_output=True, text=True, check=True
            )
            out.setdefault(mode, {})[m] = json.loads(res.stdout.strip().splitlines()[-1])
            print(mode, m, out[mode][m], flush=True)
    path.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
