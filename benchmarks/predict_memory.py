"""Peak memory and speed of ``predict`` on 100k and 1M short reviews (issue #13 item 3), and of the Ray Data
engine on the same input (item 4).

    python benchmarks/predict_memory.py --run RUN [--sizes 100000,1000000] [--ray-size 100000]
        [--old-code DIR]   →  benchmarks/results/predict-memory-<date>.json

Short reviews are synthesised from IMDB train sentences (1–3 random sentences each, seeded) into Parquet
files in a temporary folder. Each measurement is a fresh ``python -m pipeline predict`` process under
``/usr/bin/time`` (peak RSS of the process; Ray's worker processes are reported separately, as their sum of
peaks is not one process's memory). ``--old-code DIR``: also measure a checkout of the code before streaming
(``git archive <commit> | tar -x -C DIR``), for the comparison. The point is flatness, so a fast model is
fine: use a TF-IDF baseline run (``python -m pipeline baseline``) unless you have hours.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
IMDB = Path(os.environ.get("IMDB_DATA", ROOT.parent / "shared" / "data" / "imdb"))


def short_reviews(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` reviews of 1–3 sentences drawn from IMDB train reviews (ids ``r<i>``)."""
    texts = pd.read_parquet(IMDB / "train.parquet", columns=["text"])["text"]
    sentences = np.array(
        [s.strip() for t in texts.head(5000) for s in re.split(r"(?<=[.!?])\s+", t.replace("<br />", " "))]
    )
    sentences = sentences[
        (np.char.str_len(sentences.astype(str)) > 20) & (np.char.str_len(sentences.astype(str)) < 200)
    ]
    rng = np.random.default_rng(seed)
    k = rng.integers(1, 4, n)
    picks = rng.integers(0, len(sentences), (n, 3))
    out = [" ".join(sentences[picks[i, : k[i]]]) for i in range(n)]
    return pd.DataFrame({"id": [f"r{i}" for i in range(n)], "text": out})


def measure(argv: list[str], env: dict) -> dict:
    """Wall time and peak RSS of one ``python -m pipeline …`` process."""
    t0 = time.perf_counter()
    p = subprocess.run(
        ["/usr/bin/time", "-f", "MAXRSS_KB %M", sys.executable, "-m", "pipeline", *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=env.get("PIPELINE_CWD", ROOT),
    )
    seconds = time.perf_counter() - t0
    rss = re.findall(r"MAXRSS_KB (\d+)", p.stderr)
    if p.returncode != 0:
        raise SystemExit(f"failed ({p.returncode}): {' '.join(argv)}\n{p.stderr[-2000:]}")
    return {"seconds": round(seconds, 1), "peak_rss_mb": round(int(rss[-1]) / 1024, 1)}


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _model_facts(run: Path) -> dict:
    """What model scored (the run path is a local one): its kind and training size, from run.json."""
    conf = json.loads((run / "run.json").read_text())
    return {"kind": conf["kind"], "model": conf["config"]["model"], "train_size": conf["config"]["train_size"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True, help="run folder to score with (a baseline run: minutes for 1M)")
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--ray-size", type=int, default=100_000, help="rows for the Ray Data run (0: skip)")
    ap.add_argument("--old-code", help="a checkout of the code before streaming, measured too")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / f"predict-memory-{date.today()}.json"))
    a = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PIPELINE_CWD": str(ROOT)}
    sizes = [int(s) for s in a.sizes.split(",") if s]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            src = Path(tmp) / f"short-{n}.parquet"
            short_reviews(n).to_parquet(src, row_group_size=50_000)
            mb = src.stat().st_size / 2**20
            res = measure(["predict", "--run", a.run, "--input", str(src), "--output", f"{tmp}/out-{n}.parquet"], env)
            rows.append({"engine": "local (streamed)", "rows": n, "input_mb": round(mb, 1), **res, "load": load()})
            print(rows[-1], flush=True)
            if a.old_code:
                old_env = {**env, "PYTHONPATH": a.old_code, "PIPELINE_CWD": a.old_code}
                res = measure(
                    ["predict", "--run", a.run, "--input", str(src), "--output", f"{tmp}/old-{n}.parquet"], old_env
                )
                rows.append(
                    {"engine": "local (before: whole file)", "rows": n, "input_mb": round(mb, 1), **res, "load": load()}
                )
                print(rows[-1], flush=True)
            for r in rows[-2 if a.old_code else -1 :]:
                r["rows_per_s"] = round(n / r["seconds"], 1)
        if a.ray_size:
            n = a.ray_size
            src = Path(tmp) / f"short-{n}.parquet"
            if not src.exists():
                short_reviews(n).to_parquet(src, row_group_size=50_000)
            argv = ["predict", "--engine", "ray", "--run", a.run, "--input", str(src), "--output", f"{tmp}/ray-{n}"]
            res = measure(argv, {**env, "RAY_DISABLE_USAGE_STATS": "1"})
            rows.append(
                {
                    "engine": "ray data (local)",
                    "rows": n,
                    **res,
                    "rows_per_s": round(n / res["seconds"], 1),
                    "load": load(),
                    "note": "peak RSS is the driver only; seconds include starting a local Ray (interpreter start included)",
                }
            )
            print(rows[-1], flush=True)
    result = {
        "benchmark": "predict_memory",
        "date": str(date.today()),
        "cpu_threads": os.cpu_count(),
        "run": a.run,
        "model": _model_facts(Path(a.run)),
        "command": " ".join(["python", "benchmarks/predict_memory.py", *sys.argv[1:]]),
        "input": "synthetic short reviews: 1–3 IMDB train sentences each (benchmarks/predict_memory.py:short_reviews)",
        "chunk_rows": 20_000,
        "measurements": rows,
    }
    Path(a.out).write_text(json.dumps(result, indent=1) + "\n")
    print(a.out)


if __name__ == "__main__":
    main()
