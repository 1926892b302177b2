"""Many browser sessions on one dashboard server: live inference + SHAP, for minutes, in headless Chromium.

    python benchmarks/load_test.py --models-dir DIR --run RUN [--sessions 8] [--minutes 5]
        →  benchmarks/results/load-<run>-<date>.json

Each session (its own browser context = its own Streamlit session) loops: type a different real test review
into the Live page, wait for the prediction, pick SHAP, wait for the attribution. Reported: interactions,
errors (exception boxes, timeouts), p50/p95/max latency per kind, server RSS over time, and how many times the
server loaded a model (the goal is one: the model is shared by all sessions).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import time
from datetime import date
from pathlib import Path

from dashboard.browser import CHROMIUM, CHROMIUM_ARGS, streamlit_server

ROOT = Path(__file__).resolve().parent.parent
IDLE_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    const status = document.querySelector('[data-testid="stStatusWidget"]');
    return app && app.getAttribute('data-test-script-state') !== 'running'
        && !(status && /Running|Stop/.test(status.innerText));
}"""


async def idle(page, timeout_ms: int) -> None:
    await page.wait_for_timeout(300)  # let the rerun start
    await page.wait_for_function(IDLE_JS, timeout=timeout_ms)


async def session(n: int, browser, url: str, texts: list[str], deadline: float, log: dict) -> None:
    rng = random.Random(n)
    ctx = await browser.new_context(viewport={"width": 1300, "height": 1100})
    page = await ctx.new_page()
    page.set_default_timeout(300_000)  # 8 sessions share 2 cores: a step may wait minutes in the queue
    try:
        await page.goto(f"{url}/live", timeout=300_000)
        await idle(page, 300_000)
        while time.time() < deadline:
            text = rng.choice(texts)
            try:
                box = page.get_by_label("Review", exact=True)
                t0 = time.perf_counter()
                await box.fill(text)
                await box.press("Control+Enter")
                await idle(page, 300_000)
                log["predict"].append(time.perf_counter() - t0)
                t1 = time.perf_counter()
                await page.get_by_text("SHAP partition").first.click()
                await idle(page, 300_000)
                log["shap"].append(time.perf_counter() - t1)
                await page.get_by_text("gradient × input").first.click()  # back, so the next review asks anew
                await idle(page, 300_000)
            except Exception as exc:  # noqa: BLE001 — a timeout is an error of the run, counted
                log["errors"].append(f"session {n}: {type(exc).__name__}: {str(exc)[:120]}")
            boxes = await page.query_selector_all('[data-testid="stException"]')
            for b in boxes:
                log["errors"].append(f"session {n}: exception box: {(await b.inner_text())[:160]}")
    finally:
        await ctx.close()


def rss_mb(pid: int) -> float:
    total = 0.0
    for p in [pid] + [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            pass
    return total


async def run_load(url: str, server_pid: int, texts: list[str], sessions: int, minutes: float) -> dict:
    from playwright.async_api import async_playwright

    log: dict = {"predict": [], "shap": [], "errors": [], "rss_mb": []}
    deadline = time.time() + minutes * 60
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        async def sample_rss():
            while time.time() < deadline:
                log["rss_mb"].append(round(rss_mb(server_pid), 1))
                await asyncio.sleep(10)

        await asyncio.gather(sample_rss(), *[session(i, browser, url, texts, deadline, log) for i in range(sessions)])
        await browser.close()
    return log


def pct(xs: list[float], q: float) -> float | None:
    return round(float(statistics.quantiles(xs, n=100)[q - 1]), 2) if len(xs) >= 2 else (xs[0] if xs else None)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models-dir", required=True)
    ap.add_argument("--run", required=True)
    ap.add_argument("--sessions", type=int, default=8)
    ap.add_argument("--minutes", type=float, default=5)
    a = ap.parse_args()
    import pandas as pd

    preds = pd.read_parquet(Path(a.models_dir) / a.run / "predictions.parquet")
    texts = preds.loc[preds["n_tokens"].between(100, 300), "text"].sample(200, random_state=0).tolist()
    with streamlit_server(Path(a.models_dir)) as server:
        t0 = time.time()
        log = asyncio.run(run_load(server.url, server.pid, texts, a.sessions, a.minutes))
        wall = time.time() - t0
    server_out = server.log()
    loads = server_out.count("[dashboard] loading the model of")
    out = {
        "benchmark": "load_test",
        "date": str(date.today()),
        "run": a.run,
        "sessions": a.sessions,
        "minutes": a.minutes,
        "wall_s": round(wall, 1),
        "cpu_threads": os.cpu_count(),
        "interactions": {k: len(log[k]) for k in ("predict", "shap")},
        "latency_s": {
            k: {"p50": pct(log[k], 50), "p95": pct(log[k], 95), "max": round(max(log[k]), 2) if log[k] else None}
            for k in ("predict", "shap")
        },
        "errors": len(log["errors"]),
        "error_examples": log["errors"][:10],
        "model_loads": loads,
        "server_rss_mb": {"max": max(log["rss_mb"], default=None), "samples": log["rss_mb"]},
        "server_tracebacks": server_out.count("Traceback"),
    }
    path = ROOT / "benchmarks" / "results" / f"load-{a.run}-{date.today()}.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps({k: v for k, v in out.items() if k != "server_rss_mb"}, indent=2))
    print(path)


if __name__ == "__main__":
    main()
