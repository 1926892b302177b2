"""Dashboard speed and memory at 25k / 250k / 1M predictions, server-side and in Chromium.

    python -m benchmarks.dashboard_speed --source RUN_DIR --rows 25000 250000 1000000 [--label after]
        [--code DIR] [--no-browser] [--repeat 3]

For each size it builds a synthetic run itself (``RUN_DIR``'s reviews, tags and small files replicated to N
rows with new ids and jittered scores; no model folder, so the Live page is not measured) under
``--work`` (default /tmp/dashboard-speed), then measures with the code in ``--code`` (default: this checkout;
point it at a checkout of an older commit to measure "before"):

- **server-side** (Streamlit's AppTest, which runs the script as the server does for one rerun; rendering not
  included) in a fresh process: the first open of each page (the first page opened includes opening the run)
  and the median of ``--repeat`` warm opens, plus interactions (threshold, filters, search, next page); peak
  RSS of that process;
- **in Chromium** (headless, Playwright): a fresh server per size, first given a small warm-up run whose every
  page is drawn once (its first page's time is ``server_cold_start_s``: imports; the others load the app's
  JavaScript, Plotly's included, once per browser); then ``open_run_in_app_s``: the big run picked in the
  sidebar of the app showing the small run, until its overview shows its row count and chart (the run's first
  open, as a user does it); then per page, time from navigation until the script has finished and the page's
  tables/charts are drawn: first = a fresh load of the app at the page's URL (the page's first queries; the
  app's own reload is ≈ 3.5 s of it on 2 cores at any size), warm = the median of ``--repeat`` moves to it from
  another page by the sidebar link (no reload, as a user moves); the server's peak RSS (VmHWM).

The query layer's text index is cleared before each measurement, so first opens include building it.
Results: ``benchmarks/results/dashboard-speed-<label>-<date>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
PAGES = ("overview", "metrics", "errors", "behavior")
# URL paths: the overview is the app's default page, at "/" (before session 7 the benchmark opened "/overview",
# which Streamlit answers with a "Page not found" dialog over the default page)
PATHS = {"overview": "", "metrics": "metrics", "errors": "errors", "behavior": "behavior"}
NAV = {"overview": "Overview", "metrics": "Confusion matrix", "errors": "Error analysis", "behavior": "Error tags"}
TITLES = {
    "overview": "Overview",
    "metrics": "Confusion matrix & metrics",
    "errors": "Error analysis",
    "behavior": "Error tags & behavioral tests",
}
SMALL_FILES = ("run.json", "metrics.json", "README.md", "tags.json", "behavior.json", "explanations.parquet")


def build_run(source: Path, rows: int, work: Path) -> Path:
    """``work/runs-<rows>/syn-<rows>``: the source run's predictions (and tags) replicated to ``rows`` rows."""
    import numpy as np
    import pandas as pd

    run = work / f"runs-{rows}" / f"syn-{rows}"
    if (run / "COMPLETE").is_file():
        return run
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir(parents=True)
    preds = pd.read_parquet(source / "predictions.parquet")
    idx = np.resize(np.arange(len(preds)), rows)
    big = preds.iloc[idx].reset_index(drop=True)
    big["id"] = [f"syn{i:08d}" for i in range(rows)]
    rng = np.random.default_rng(0)
    prob = np.clip(big["prob_pos"].to_numpy() + rng.normal(0, 0.02, rows), 0, 1).astype("float32")
    big["prob_pos"], big["pred"] = prob, (prob >= 0.5).astype("int8")
    big["correct"] = big["pred"] == big["label"]
    big["confidence"] = np.where(big["pred"] == 1, prob, 1 - prob).astype("float32")
    big.to_parquet(run / "predictions.parquet", index=False)  # pandas defaults: one row group up to ~1M rows
    if (source / "tags.parquet").is_file():
        tags = pd.read_parquet(source / "tags.parquet").set_index("id").reindex(preds["id"])
        tags = tags.iloc[idx].reset_index(drop=True)
        tags.insert(0, "id", big["id"])
        tags.to_parquet(run / "tags.parquet", index=False)
    for name in SMALL_FILES:
        if (source / name).is_file():
            shutil.copy2(source / name, run / name)
    from pipeline.metrics import classification_metrics

    met = json.loads((run / "metrics.json").read_text())  # the overview's numbers describe these rows
    met["overall"] = classification_metrics(big["label"].to_numpy(), big["prob_pos"].to_numpy())
    (run / "metrics.json").write_text(json.dumps(met))
    (run / "COMPLETE").write_text("synthetic run for benchmarks/dashboard_speed.py\n")
    # a small second run: the browser opens it first, so the big run's first open is measured on a server
    # that is already up (its imports and the app's JavaScript are then not counted as opening the run)
    warm = run.parent / "warmup"
    shutil.rmtree(warm, ignore_errors=True)
    warm.mkdir()
    for name in SMALL_FILES + ("predictions.parquet", "COMPLETE"):
        if (source / name).is_file():
            shutil.copy2(source / name, warm / name)
    return run


# ---------------------------------------------------------------- server-side (AppTest), in a worker process


def apptest_worker(models_dir: str, run: str, code: str, repeat: int) -> dict:
    import resource

    t0 = time.perf_counter()
    import plotly.express  # noqa: F401  (imports are the server's start-up, not a page's cost)
    from streamlit.testing.v1 import AppTest

    import dashboard.state  # noqa: F401

    assert Path(dashboard.state.__file__).resolve().is_relative_to(Path(code).resolve()), dashboard.state.__file__

    imports = time.perf_counter() - t0
    os.environ["MODELS_DIR"] = models_dir
    at = AppTest.from_file(str(Path(code) / "dashboard" / "Home.py"), default_timeout=900)
    at.query_params["run"] = run

    def timed(fn) -> float:
        t = time.perf_counter()
        fn()
        assert not at.exception, [e.value for e in at.exception]
        return round(time.perf_counter() - t, 3)

    def page(p):
        def go():
            at.switch_page(f"views/{p}.py")
            at.run()

        return go

    first = {"overview (opens the run)": timed(at.run)}
    for p in PAGES[1:]:
        first[p] = timed(page(p))
    warm: dict[str, list[float]] = {}
    for _ in range(repeat):
        for p in PAGES:
            warm.setdefault(p, []).append(timed(page(p)))
    inter: dict[str, list[float]] = {}

    def step(name, fn):
        inter.setdefault(name, []).append(timed(fn))

    page("errors")()
    for i in range(repeat + 1):
        pagers = [n for n in at.number_input if str(n.label).startswith("Page")]
        if pagers:  # the old dashboard had no pages: the table held the first 2,000 rows
            step("next page of errors", lambda i=i, pager=pagers[0]: pager.set_value(2 + i % 2).run())
    page("metrics")()
    for i in range(repeat + 1):  # the first of each is a new question, the others are asked before
        step("threshold slider", lambda i=i: at.slider(key="threshold").set_value([0.3, 0.4, 0.3, 0.4][i % 4]).run())
    page("errors")()
    for i in range(repeat + 1):
        step("error type filter", lambda i=i: at.multiselect[0].set_value(["FP"] if i % 2 == 0 else ["FN"]).run())
    for i in range(repeat + 1):
        step("text search", lambda i=i: at.text_input[0].set_value(["boring", "actor"][i % 2]).run())
    for i in range(repeat + 1):
        step("confidence slider", lambda i=i: at.slider[0].set_value((0.6 + 0.05 * (i % 2), 1.0)).run())
    return {
        "imports_s": round(imports, 3),
        "first_open_s": first,
        "warm_s": {p: statistics.median(v) for p, v in warm.items()},
        "interactions_s": {k: {"first": v[0], "warm_median": statistics.median(v[1:])} for k, v in inter.items()},
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def server_side(run: Path, code: Path, repeat: int, cache: Path) -> dict:
    shutil.rmtree(cache, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(code), "IMDB_ERRORS_CACHE": str(cache)}
    # run as a script from the measured checkout: its `dashboard` and `pipeline` are imported, not this one's
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", str(run.parent), run.name, str(code)]
    out = subprocess.run(cmd + ["--repeat", str(repeat)], env=env, cwd=code, capture_output=True, text=True)
    if out.returncode:
        return {"failed": out.stderr[-3000:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- in Chromium


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def in_browser(run: Path, rows: int, code: Path, repeat: int, cache: Path) -> dict:
    from playwright.sync_api import sync_playwright

    from dashboard.browser import free_port

    shutil.rmtree(cache, ignore_errors=True)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(code), "MODELS_DIR": str(run.parent), "IMDB_ERRORS_CACHE": str(cache)}
    cmd = [sys.executable, "-m", "streamlit", "run", str(code / "dashboard" / "Home.py"), "--server.headless", "true"]
    cmd += ["--server.port", str(port), "--browser.gatherUsageStats", "false", "--server.address", "127.0.0.1"]
    log = open(cache.parent / f"server-{port}.log", "wb")
    proc = subprocess.Popen(cmd, env=env, cwd=code, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    needs = {
        "overview": ".js-plotly-plot",
        "metrics": '.js-plotly-plot, [data-testid="stDataFrame"] canvas',
        "errors": '[data-testid="stDataFrame"] canvas',
        "behavior": ".js-plotly-plot",
    }
    done = """() => { const a = document.querySelector('[data-testid="stApp"]');
        return a && a.getAttribute('data-test-script-state') === 'notRunning' && document.querySelector('h1'); }"""
    try:
        import urllib.request

        for _ in range(120):
            try:
                urllib.request.urlopen(url + "/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--no-sandbox", "--headless", "--disable-gpu"]
            )
            pg = browser.new_page(viewport={"width": 1400, "height": 1000})

            def open_page(name: str) -> float:
                t = time.perf_counter()
                pg.goto(f"{url}/{PATHS[name]}?run={run.name}", wait_until="domcontentloaded", timeout=900_000)
                pg.wait_for_function(done, timeout=900_000, polling=50)
                pg.wait_for_selector(needs[name], timeout=900_000)
                return round(time.perf_counter() - t, 3)

            def switch_to(name: str) -> float:
                """A click in the sidebar, as a user moves between pages (no reload of the app)."""
                check = done.replace(
                    "document.querySelector('h1'); }",
                    f"(document.querySelector('h1') || {{}}).innerText === {TITLES[name]!r}; }}",
                )
                t = time.perf_counter()
                pg.locator('[data-testid="stSidebarNavLink"]', has_text=NAV[name]).first.click()
                pg.wait_for_function(check, timeout=900_000, polling=50)
                pg.wait_for_selector(needs[name], timeout=900_000)
                return round(time.perf_counter() - t, 3)

            t = time.perf_counter()
            pg.goto(f"{url}/?run=warmup", wait_until="domcontentloaded", timeout=900_000)
            pg.wait_for_function(done, timeout=900_000, polling=50)
            cold_server = round(time.perf_counter() - t, 3)
            # every page of the small run, charts drawn: the browser's one-off costs (Plotly's and the data grid's
            # JavaScript parsed and cached, once per browser, whatever the run) are then not counted as opening
            # the big run. Waiting only for the script to end, as before 2026-11-27 (session 7), left Plotly's
            # first load (~2.5 s here) inside the big run's first open.
            for name in PAGES:
                pg.goto(f"{url}/{PATHS[name]}?run=warmup", wait_until="domcontentloaded", timeout=900_000)
                pg.wait_for_function(done, timeout=900_000, polling=50)
                pg.wait_for_selector(needs[name], timeout=900_000)
            # the big run's first open, as a user does it: picked in the sidebar of the app already showing the
            # small run (no reload of the app), until its overview shows its row count and its chart
            pg.goto(f"{url}/?run=warmup", wait_until="domcontentloaded", timeout=900_000)
            pg.wait_for_function(done, timeout=900_000, polling=50)
            pg.wait_for_selector(needs["overview"], timeout=900_000)
            t = time.perf_counter()
            pg.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.get_by_role("combobox").click()
            pg.get_by_role("option").filter(has_text=run.name).first.click()
            pg.get_by_text(f"{rows:,} test reviews").first.wait_for(timeout=900_000)
            pg.wait_for_function(done, timeout=900_000, polling=50)
            pg.wait_for_selector(needs["overview"], timeout=900_000)
            open_in_app = round(time.perf_counter() - t, 3)
            first = {name: open_page(name) for name in PAGES}  # then a fresh load of the app per page
            warm: dict[str, list[float]] = {}
            for _ in range(repeat):
                for name in PAGES[1:] + PAGES[:1]:
                    warm.setdefault(name, []).append(switch_to(name))
            warm = {k: statistics.median(v) for k, v in warm.items()}
            browser.close()
        return {
            "server_cold_start_s": cold_server,
            "open_run_in_app_s": open_in_app,
            "first_open_s": first,
            "warm_s": warm,
            "server_peak_rss_mb": _peak_rss_mb(proc.pid),
        }
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", type=Path, help="run folder whose reviews are replicated")
    ap.add_argument("--rows", type=int, nargs="+", default=[25_000, 250_000, 1_000_000])
    ap.add_argument("--code", type=Path, default=ROOT, help="checkout whose dashboard is measured")
    ap.add_argument("--label", default="after")
    ap.add_argument("--work", type=Path, default=Path("/tmp/dashboard-speed"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-browser", action="store_true")
    ap.add_argument("--no-server-side", action="store_true", help="only the Chromium measurements")
    ap.add_argument("--worker", nargs=3, metavar=("MODELS_DIR", "RUN", "CODE"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        print(json.dumps(apptest_worker(*a.worker, repeat=a.repeat)))
        return
    if a.source is None:
        ap.error("--source RUN_DIR is required (a run folder with predictions.parquet)")
    results = []
    for n in a.rows:
        t = time.perf_counter()
        run = build_run(a.source, n, a.work)
        entry = {"rows": n, "build_s": round(time.perf_counter() - t, 1), "load_before": os.getloadavg()[0]}
        if not a.no_server_side:
            entry["server_side"] = server_side(run, a.code.resolve(), a.repeat, a.work / "index-cache")
            print(n, "server-side", json.dumps(entry["server_side"]), flush=True)
        if not a.no_browser:
            entry["browser"] = in_browser(run, n, a.code.resolve(), a.repeat, a.work / "index-cache")
            print(n, "browser", json.dumps(entry["browser"]), flush=True)
        entry["load_after"] = os.getloadavg()[0]
        results.append(entry)
    commit = subprocess.run(["git", "-C", str(a.code), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    out = {
        "benchmark": "dashboard_speed",
        "date": str(date.today()),
        "label": a.label,
        "code_commit": commit.stdout.strip(),
        "source_run": a.source.name,
        "cores": os.cpu_count(),
        "results": results,
    }
    path = ROOT / "benchmarks" / "results" / f"dashboard-speed-{a.label}-{date.today()}.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(path)


if __name__ == "__main__":
    main()
