"""Start the dashboard with ``streamlit run`` and drive it in headless Chromium (Playwright).

Used by the browser test, the load benchmark and ``python -m dashboard.browser OUT_DIR`` (README screenshots).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]
PAGES = ["overview", "metrics", "errors", "live", "behavior", "robustness"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    pid: int
    log_path: Path  # the server's stdout and stderr

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def streamlit_server(models_dir: Path, timeout: float = 90):
    """``streamlit run dashboard/Home.py`` on a free local port; yields a :class:`Server` once it is healthy.
    Its output goes to a file (a pipe nobody reads would block a long-running server)."""
    import tempfile
    import urllib.request

    port = free_port()
    env = {**os.environ, "MODELS_DIR": str(models_dir)}
    log_path = Path(tempfile.mkstemp(prefix="streamlit-", suffix=".log")[1])
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(ROOT / "dashboard" / "Home.py"),
                "--server.headless",
                "true",
                "--server.address",
                "127.0.0.1",
                "--server.port",
                str(port),
                "--browser.gatherUsageStats",
                "false",
            ],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    server = Server(f"http://127.0.0.1:{port}", proc.pid, log_path)
    try:
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                urllib.request.urlopen(server.url + "/_stcore/health", timeout=2)
                break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError("streamlit exited: " + server.log()[-2000:]) from None
                time.sleep(0.5)
        else:
            raise RuntimeError("streamlit did not start in time")
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def wait_idle(page, timeout_ms: int = 120_000) -> None:
    """Wait until Streamlit has finished running the script (no 'Running…' status widget)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    page.wait_for_timeout(1500)
    # Streamlit marks the app element with its script state, and shows "Stop" while a rerun is going on
    page.wait_for_function(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            const status = document.querySelector('[data-testid="stStatusWidget"]');
            return app && app.getAttribute('data-test-script-state') !== 'running'
                && !(status && /Running|Stop/.test(status.innerText));
        }""",
        timeout=timeout_ms,
    )
    page.wait_for_timeout(1000)
    # data grids and lazy widgets draw after the script ends
    try:
        page.wait_for_selector(
            '[data-testid="stDataFrameResizable"] canvas, [data-testid="stDataFrame"] canvas', timeout=5000
        )
    except Exception:
        pass
    page.wait_for_timeout(2500)


def shoot_pages(url: str, out_dir: Path, pages=PAGES, run: str | None = None) -> dict[str, list[str]]:
    """Open each page, save ``<page>.png``; return the texts of any exception boxes per page."""
    from playwright.sync_api import sync_playwright

    out_dir.mkdir(parents=True, exist_ok=True)
    found: dict[str, list[str]] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        for name in pages:
            q = f"?run={run}" if run else ""
            page.goto(f"{url}/{'' if name == PAGES[0] else name}{q}")
            wait_idle(page)
            found[name] = [e.inner_text() for e in page.query_selector_all('[data-testid="stException"]')]
            page.screenshot(path=str(out_dir / f"{name}.png"), full_page=True)
        browser.close()
    return found


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
    models = Path(os.environ.get("MODELS_DIR", ROOT / "models"))
    with streamlit_server(models) as server:
        u = server.url
        print(shoot_pages(u, out, run=os.environ.get("RUN")))
        if os.environ.get("REVIEW"):  # one error opened by permalink, for the README
            from playwright.sync_api import sync_playwright

            with sync_playwright() as pw:
                b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                pg = b.new_page(viewport={"width": 1400, "height": 2300})  # the app scrolls inside itself
                pg.goto(f"{u}/errors?run={os.environ.get('RUN')}&review={os.environ['REVIEW']}")
                wait_idle(pg)
                pg.screenshot(path=str(out / "errors-detail.png"), full_page=True)
                b.close()
