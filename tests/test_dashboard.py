"""Every dashboard page through streamlit's AppTest against fixture runs (tiny BERT + TF-IDF baseline)."""

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT, shown

HOME = str(ROOT / "dashboard" / "Home.py")


@pytest.fixture()
def app(imdb_run, baseline_run, models_dir, monkeypatch):
    monkeypatch.setenv("MODELS_DIR", str(models_dir))
    at = AppTest.from_file(HOME, default_timeout=180)
    at.run()
    assert not at.exception
    return at


def _page(at, name):
    at.switch_page(f"views/{name}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _select_run(at, name):
    at.selectbox(key="run_select").set_value(name).run()
    assert not at.exception


def test_overview_kpis_and_comparison(app):
    _select_run(app, "fixture-imdb")
    labels = [m.label for m in app.metric]
    assert labels[:7] == ["Accuracy", "F1", "ROC-AUC", "ECE", "Errors", "False positives", "False negatives"]
    assert not any(m.delta for m in app.metric)  # no comparison picked: no deltas
    app.selectbox(key="compare_select").set_value("fixture-baseline").run()
    assert not app.exception
    assert "vs fixture-baseline" in shown(app.metric[0].delta)
    assert any("Side by side" in s.value for s in app.subheader)


def test_threshold_moves_the_matrix(app):
    _select_run(app, "fixture-imdb")
    _page(app, "metrics")
    fp = lambda: int(app.metric[4].value.replace(",", ""))
    fn = lambda: int(app.metric[5].value.replace(",", ""))
    before = fp(), fn()
    app.slider(key="threshold").set_value(0.05).run()
    low = fp(), fn()
    app.slider(key="threshold").set_value(0.95).run()
    high = fp(), fn()
    assert low[0] >= before[0] >= high[0] and low[1] <= before[1] <= high[1]
    assert low != high
    assert "**FP** at threshold 0.95" in " ".join(c.value for c in app.caption)


def test_error_filters_narrow_the_table(app):
    _select_run(app, "fixture-imdb")
    _page(app, "errors")
    total = len(app.dataframe[0].value)
    assert total > 0
    app.multiselect[0].set_value(["FP"]).run()
    fp_only = app.dataframe[0].value
    assert 0 < len(fp_only) < total and set(fp_only["error_type"]) == {"FP"}
    app.text_input[0].set_value("zzzz-no-such-text").run()
    assert len(app.dataframe[0].value) == 0
    assert any(c.value.startswith("**0** of") for c in app.caption)


def test_error_permalink_opens_review_with_safe_html(app, imdb_run):
    import pandas as pd

    preds = pd.read_parquet(imdb_run / "predictions.parquet")
    wrong = preds[~preds["correct"]].iloc[0]
    _select_run(app, "fixture-imdb")
    app.query_params["review"] = wrong["id"]
    _page(app, "errors")
    assert any(wrong["id"] in shown(s.value) for s in app.subheader)
    # the attribution (gradient × input by default) is rendered as escaped HTML
    html = [h.proto.body for h in app.get("html")]
    assert any('class="attribution"' in h for h in html)


def test_live_prediction_and_bad_inputs(app):
    _select_run(app, "fixture-imdb")
    _page(app, "live")
    assert app.metric[0].value in ("positive", "negative")
    p = float(app.metric[1].value)
    assert 0 <= p <= 1
    assert len(app.dataframe) >= 1  # what-if table
    for text in [
        "",
        "   \n  ",
        "<script>alert('x')</script> great film",
        "Ein wunderbarer Film 🎬🍿 مذهل",
        "good " * 200_000,
    ]:
        app.text_area(key="review_text").set_value(text).run()
        assert not app.exception, text[:30]
        if not text.strip():
            assert any("type" in i.value.lower() for i in app.info)
        else:
            assert app.metric[0].value in ("positive", "negative")
    assert any("characters" in w.value for w in app.warning)  # the 1 MB paste is announced
    html = " ".join(h.proto.body for h in app.get("html"))
    assert "<script>alert" not in html


def test_every_page_without_runs_shows_the_create_command(tmp_path, monkeypatch):
    monkeypatch.setenv("MODELS_DIR", str(tmp_path))
    at = AppTest.from_file(HOME, default_timeout=60)
    at.run()
    for page in ("overview", "metrics", "errors", "live", "behavior", "robustness"):
        _page(at, page)
        assert any("python -m pipeline run --preset demo" in i.value for i in at.info)


def test_run_deleted_while_open(app, imdb_run, models_dir, tmp_path):
    copy = models_dir / "doomed"
    shutil.copytree(imdb_run, copy)
    at = AppTest.from_file(HOME, default_timeout=180)
    at.query_params["run"] = "doomed"  # a permalink to the run; the picker opens on it
    at.run()
    assert not at.exception and "doomed" in at.caption[0].value
    (copy / "predictions.parquet").unlink()  # files vanish while the page is open
    _page(at, "errors")
    assert any("doomed" in shown(e.value) and "missing predictions.parquet" in shown(e.value) for e in at.error)
    shutil.rmtree(copy)  # the whole folder goes
    _page(at, "metrics")
    assert any("doomed" in shown(w.value) and "deleted" in shown(w.value) for w in at.warning)
    assert [m.label for m in at.metric][:1] == ["Accuracy"]  # the page carries on with another run


def test_cell_control_lists_exactly_that_cell(app):
    _select_run(app, "fixture-imdb")
    _page(app, "metrics")
    fn = int(app.metric[5].value.replace(",", ""))
    app.button_group(key="cell_pick").set_value("FN").run()
    assert not app.exception
    assert any(c.value.startswith(f"**FN** at threshold 0.50: {fn:,} reviews") for c in app.caption)
    table = app.dataframe[0].value
    assert len(table) == min(fn, 500) and (table["label"] == 1).all() and (table["prob_pos"] < 0.5).all()


def test_compute_missing_analysis_button(imdb_run, tmp_path, monkeypatch):
    """A run without tags / behaviour / explanations: one button computes them in the background (progress in
    st.status), writes them into the run, and the page then shows the tags."""
    import time

    from pipeline import runs as R

    root = tmp_path / "models"
    run_dir = Path(
        shutil.copytree(
            imdb_run, root / "bare", ignore=shutil.ignore_patterns(R.TAGS, R.TAG_STATS, R.BEHAVIOR, R.EXPLANATIONS)
        )
    )
    monkeypatch.setenv("MODELS_DIR", str(root))
    at = AppTest.from_file(HOME, default_timeout=180)
    at.run()
    _page(at, "behavior")
    assert any("no error tags yet" in i.value for i in at.info)
    [button] = [b for b in at.button if b.label == "Compute missing analysis"]
    button.click().run()
    assert not at.exception, [e.value for e in at.exception]
    running = lambda: [s for s in at.status if s.label.startswith("Computing")]
    assert running() and running()[0].state == "running"  # progress in st.status while the page renders on
    assert {"Behavioral tests", "Try your own case"} <= {s.value for s in at.subheader}  # the rest of the page
    deadline = time.time() + 300
    while running() and time.time() < deadline:
        assert not [b for b in at.button if b.label == "Compute missing analysis"]  # one job, no second button
        time.sleep(2)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
    assert any(s.label == "Analysis computed" and s.state == "complete" for s in at.status)
    for f in (R.TAGS, R.TAG_STATS, R.BEHAVIOR, R.EXPLANATIONS):
        assert (run_dir / f).is_file(), f
    assert not any("no error tags yet" in i.value for i in at.info)
    assert any("Where the model fails" in s.value for s in at.subheader)
    shown_tags = set(at.dataframe[0].value["tag"])  # the lift table
    assert {"negation", "contrast"} <= shown_tags
    assert not [b for b in at.button if b.label == "Compute missing analysis"]  # nothing missing any more
    _page(at, "errors")  # the error page now has the tag filter instead of the hint
    assert any(m.label.startswith("Error tags") for m in at.multiselect)


def test_a_run_is_stale_once_files_are_written_after_the_page_read_it(imdb_run, tmp_path):
    """The 'Compute missing analysis' race: the page read the run, then the background job wrote its last file.
    ``is_stale`` tells the page to forget the run and rerun instead of offering the button again."""
    import os

    from dashboard import state
    from pipeline import runs as R

    run_dir = Path(shutil.copytree(imdb_run, tmp_path / "r", ignore=shutil.ignore_patterns(R.EXPLANATIONS)))
    run = R.load_run(run_dir)
    state._loaded_stamps[str(run_dir)] = state._stamp(run_dir)  # what current_run records when a page opens it
    try:
        assert not state.is_stale(run)
        later = state._stamp(run_dir) + 5
        (run_dir / R.EXPLANATIONS).write_bytes((imdb_run / R.EXPLANATIONS).read_bytes())  # the job's last write
        os.utime(run_dir / R.EXPLANATIONS, (later, later))
        assert state.is_stale(run)
        state.forget_run(run_dir)
        assert state.data_stamp(run) == 0.0  # forgotten: the rerun opens it afresh
    finally:
        state._loaded_stamps.pop(str(run_dir), None)
