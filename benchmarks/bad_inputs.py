"""How fast each bad input of the catalogue (tests/test_bad_inputs.py) is refused or handled.

    python benchmarks/bad_inputs.py [--run RUN]     →  benchmarks/results/bad-inputs-<date>.json

Goal (issue #14): every case in ≤ 2 s (plus model load where a model is needed), one line, no traceback.
CLI cases are timed as a user sees them: a fresh ``python -m pipeline`` process, interpreter start included.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent


def timed(fn):
    t0 = time.perf_counter()
    try:
        out = fn()
        return time.perf_counter() - t0, "handled", str(out)[:120]
    except Exception as exc:  # noqa: BLE001 — the refusal is the measured outcome
        return time.perf_counter() - t0, "refused", f"{type(exc).__name__}: {str(exc)[:160]}"


def cli(*args: str) -> tuple[float, str, str]:
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "pipeline", *args], capture_output=True, text=True, cwd=ROOT)
    lines = p.stderr.strip().splitlines()
    last = lines[-1] if lines else ""
    traceback = any("Traceback" in ln for ln in lines)
    return time.perf_counter() - t0, f"exit {p.returncode}{' TRACEBACK' if traceback else ''}", last[:200]


def bomb() -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    col = pa.DictionaryArray.from_arrays(pa.array(np.zeros(1000, dtype=np.int32)), pa.array(["x" * (20 << 20)]))
    buf = io.BytesIO()
    pq.write_table(pa.table({"text": col}), buf, compression="zstd", compression_level=22)
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", help="a complete run (for the cases that need a model)")
    a = ap.parse_args()
    from pipeline.inputs import CLI_LIMITS, UPLOAD_LIMITS, parse_reviews
    from pipeline.render import md_escape
    from pipeline.runs import list_runs, load_run
    from pipeline.text import clean_text

    tmp = Path(tempfile.mkdtemp())
    raw = bomb()
    (tmp / "bomb.parquet").write_bytes(raw)
    cases = {
        "clean_text: 1M em-spaces": timed(lambda: len(clean_text("a" + "\u2003" * 1_000_000 + "b"))),
        "clean_text: 200k &nbsp;": timed(lambda: len(clean_text("a" + "&nbsp;" * 200_000 + "b"))),
        f"upload: {len(raw)}-byte parquet bomb (~20 GB decoded)": timed(
            lambda: parse_reviews(raw, "b.parquet", UPLOAD_LIMITS)
        ),
        "parse: same bomb, CLI limits": timed(lambda: parse_reviews(raw, "b.parquet", CLI_LIMITS)),
        "markdown: crafted ?review=": timed(lambda: md_escape("![x](http://evil/a.png)[l](http://e)" * 100)),
    }
    models = tmp / "models"
    if a.run:
        from pipeline.runs import resolve_run_dir

        src = resolve_run_dir(a.run)
        shutil.copytree(src, models / "evil", ignore=shutil.ignore_patterns("model"))
        (models / "evil" / "README.md").unlink()
        (models / "evil" / "README.md").symlink_to("/proc/self/environ")
        cases["run listing: README.md → /proc/self/environ"] = timed(
            lambda: [i.reason for i in list_runs(models) if not i.ok]
        )
        cases["load_run: same run"] = timed(lambda: load_run(models / "evil"))
        (tmp / "in.csv").write_text('text\n"=HYPERLINK(""http://x"",""y"")"\n')
        cases["predict: CSV with a formula (model load included)"] = cli(
            "predict", "--run", str(src), "--input", str(tmp / "in.csv"), "--output", str(tmp / "out.csv")
        )
    cases["cli: --set epochs=abc"] = cli("run", "--set", "epochs=abc", "--models-dir", str(models))
    cases["cli: --set calibrate=maybe"] = cli("run", "--set", "calibrate=maybe", "--models-dir", str(models))
    (tmp / "c.yaml").write_text("epochs: [1, 2]\n")
    cases["cli: config file epochs: [1, 2]"] = cli("run", "--config", str(tmp / "c.yaml"), "--models-dir", str(models))
    cases["cli: run --data /nope"] = cli("run", "--name", "x", "--data", "/nope", "--models-dir", str(models))
    cases["cli: predict a 20 GB parquet bomb"] = cli(
        "predict", "--run", str(models / "evil"), "--input", str(tmp / "bomb.parquet"), "--output", str(tmp / "o.csv")
    )
    assert not (models / "x.partial").exists()
    shutil.rmtree(tmp, ignore_errors=True)
    rows = [{"case": k, "seconds": round(v[0], 3), "outcome": v[1], "message": v[2]} for k, v in cases.items()]
    for r in rows:
        print(f"{r['seconds']:7.2f} s  {r['outcome']:10}  {r['case']}: {r['message'][:110]}")
    out = {
        "benchmark": "bad_inputs",
        "date": str(date.today()),
        "cpu_threads": os.cpu_count(),
        "run": a.run,
        "cases": rows,
        "max_seconds": max(r["seconds"] for r in rows),
    }
    path = ROOT / "benchmarks" / "results" / f"bad-inputs-{date.today()}.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(path)


if __name__ == "__main__":
    pd.set_option("display.width", 200)
    main()
