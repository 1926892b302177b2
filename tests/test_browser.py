"""Real browser: `streamlit run dashboard/Home.py` on 127.0.0.1, each page in headless Chromium."""

import shutil
from pathlib import Path

import pytest

from dashboard.browser import CHROMIUM, PAGES, shoot_pages, streamlit_server


@pytest.mark.skipif(
    not Path(CHROMIUM).exists() or shutil.which("chromium") is None,
    reason="Debian chromium not installed (.ci/run installs it)",
)
def test_every_page_renders_without_exception(imdb_run, baseline_run, models_dir, tmp_path):
    out = tmp_path / "screens"
    with streamlit_server(models_dir) as server:
        found = shoot_pages(server.url, out, run="fixture-imdb")
    assert "Traceback" not in server.log()
    assert set(found) == set(PAGES)
    assert all(v == [] for v in found.values()), found
    for page in PAGES:
        png = out / f"{page}.png"
        assert png.is_file() and png.stat().st_size > 20_000  # a real rendering, not a blank page
