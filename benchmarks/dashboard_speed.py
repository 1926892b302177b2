"""Server time of dashboard interactions on a run with a full 25k-row predictions.parquet.

    python benchmarks/dashboard_speed.py --run NAME [--models-dir models] [--repeat 5]

Uses streamlit's AppTest, whose ``run()`` executes the script exactly as the server does for one rerun
(browser rendering not included). Cold = first run in a fresh process (imports, parquet read, caches empty);
warm = the same interaction again. Also measures live-inference latency p50 inside the app when the run
has a model. Writes ``benchmarks/results/dashboard-<date>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True)
    ap.add_argument("--models-dir", default=str(ROOT / "models"))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--live", type=int, default=20, help="live predictions for the latency p50")
    a = ap.parse_args()
    os.environ["MODELS_DIR"] = a.models_dir
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "dashboard" / "Home.py"), default_timeout=600)
    at.query_params["run"] = a.run
    res: dict[str, list[float]] = {}
    cold_start = timed(at.run)
    assert not at.exception, [e.value for e in at.exception]

    def step(name, fn):
        res.setdefault(name, []).append(timed(fn))
        assert not at.exception, (name, [e.value for e in at.exception])

    def page(p):
        def go():
            at.switch_page(f"views/{p}.py")
            at.run()

        return go

    cold_pages = {}
    for p in ("metrics", "errors", "behavior", "overview"):
        cold_pages[p] = timed(page(p))
    for i in range(a.repeat):
        for p in ("overview", "metrics", "errors", "behavior"):
            step(f"open {p}", page(p))
        page("metrics")()
        step("threshold slider", lambda i=i: at.slider(key="threshold").set_value(0.3 + 0.1 * (i % 4)).run())
        page("errors")()
        step("error type filter", lambda i=i: at.multiselect[0].set_value(["FP"] if i % 2 else ["FN"]).run())
        step("text search", lambda i=i: at.text_input[0].set_value(["plot", "actor", "boring", "great"][i % 4]).run())
        step("confidence slider", lambda i=i: at.slider[0].set_value((0.5 + 0.05 * (i % 4), 1.0)).run())
    live = {}
    info = json.loads((Path(a.models_dir) / a.run / "run.json").read_text())
    at.switch_page("views/live.py")
    live["first_open_s"] = timed(at.run)  # includes model load + tracing
    lat = []
    # real reviews of median length from the run itself, so the latency is that of a typical review
    import pandas as pd

    preds = pd.read_parquet(Path(a.models_dir) / a.run / "predictions.parquet", columns=["text", "n_tokens"])
    med = preds["n_tokens"].median()
    texts = preds.iloc[(preds["n_tokens"] - med).abs().argsort()[: a.live]]["text"].tolist()
    live["review_tokens_median"] = float(med)
    for i in range(a.live):
        at.text_area(key="review_text").set_value(texts[i % len(texts)]).run()
        lat.append(float(at.metric[3].value.split()[0]))
    live["latency_ms_p50"] = statistics.median(lat)
    live["latency_ms"] = lat
    out = {
        "benchmark": "dashboard",
        "date": str(date.today()),
        "run": a.run,
        "kind": info.get("kind"),
        "rows": int(info["data"]["test"]["rows"]),
        "cold_start_s": round(cold_start, 3),
        "cold_first_open_s": {k: round(v, 3) for k, v in cold_pages.items()},
        "warm_s": {
            k: {"median": round(statistics.median(v), 3), "max": round(max(v), 3), "n": len(v)} for k, v in res.items()
        },
        "live": live,
        "note": os.environ.get("BENCH_NOTE", ""),
    }
    path = ROOT / "benchmarks" / "results" / f"dashboard-{a.run}-{date.today()}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps({k: out[k] for k in ("cold_start_s", "cold_first_open_s", "warm_s")}, indent=2))
    print("live p50 ms", live["latency_ms_p50"])


if __name__ == "__main__":
    main()
