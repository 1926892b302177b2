"""Shared dashboard state: the run picker and cached access to runs (through ``pipeline.runs`` only).

An opened run is cached per (folder, modification time) with ``st.cache_resource`` and its predictions are
never loaded: pages ask questions through :func:`ask` (DuckDB queries over the parquet, results cached with
``st.cache_data``), so a page costs the same at 25,000 and at 1,000,000 reviews. Models are cached once per
process with ``st.cache_resource`` and are thread-safe.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import streamlit as st

from pipeline import runs
from pipeline.analysis.explain import warm_up_methods
from pipeline.classifiers import load_classifier
from pipeline.render import md_escape as md

ROOT = Path(__file__).resolve().parent.parent

CREATE_RUN_CMD = "python -m pipeline run --preset demo"


def models_dir() -> Path:
    return Path(os.environ.get("MODELS_DIR", ROOT / "models"))


def _stamp(path: Path) -> float:
    """Changes when the run folder is rewritten or extended (explanations, tags): the key of its data."""
    try:
        return max([path.stat().st_mtime] + [p.lstat().st_mtime for p in path.iterdir()])
    except (OSError, ValueError):
        return 0.0


def model_stamp(path: Path) -> float:
    """Changes only when the run's *model* changes (its files or its calibration in run.json), not when
    explanations or tags are written: the cached model and explainers survive analysis writes."""
    paths = [path / runs.RUN_JSON, path / "model", path / "baseline"]
    try:
        return max(
            [p.stat().st_mtime for p in paths if p.exists()]
            + [f.stat().st_mtime for d in paths[1:] if d.is_dir() for f in d.iterdir()]
        )
    except (OSError, ValueError):
        return 0.0


@st.cache_data(ttl=30, show_spinner=False)
def list_runs_cached(root: str, dir_mtime: float) -> list[runs.RunInfo]:
    """Keyed by the folder's mtime: a run added, published or deleted shows up at the next rerun."""
    return runs.list_runs(Path(root))


def _dir_mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


@st.cache_resource(show_spinner="Opening run…", max_entries=8)
def _load(path: str, stamp: float) -> runs.Run:
    """One opened run per (folder, data stamp), shared by every session: opening reads the small files only;
    the predictions are queried in place through ``run.query`` (never copied per rerun)."""
    run = runs.load_run(path)
    run.query  # noqa: B018 — open the query layer now (starts the text index on a run's first open)
    return run


def forget_run(path: str | Path) -> None:
    """Drop the cached data of the run at ``path`` (after files were written into it), so the next read shows
    them. The model cache is keyed on the model's files only and stays."""
    stamp = _loaded_stamps.pop(str(path), None)
    if stamp is None:
        _load.clear()
        _ask.clear()
    else:
        _load.clear(str(path), stamp)


_loaded_stamps: dict[str, float] = {}  # run folder → stamp of its data last read through load()


def load(info: runs.RunInfo) -> runs.Run | None:
    """The run, or ``None`` after showing why it cannot be read (e.g. deleted while the app was open)."""
    try:
        stamp = _stamp(info.path)
        run = _load(str(info.path), stamp)
        _loaded_stamps[str(info.path)] = stamp
        return run
    except (runs.RunError, OSError) as exc:
        st.error(
            f"Cannot read run **{md(info.name)}**: {md(exc)}. Pick another run in the sidebar, or recreate it "
            f"with `{CREATE_RUN_CMD}`."
        )
        return None


@st.cache_data(show_spinner=False, max_entries=512)
def _ask(path: str, stamp: float, question: str, args: tuple, _run: runs.Run):
    return getattr(_run.query, question)(*args)


def data_stamp(run: runs.Run) -> float:
    """The stamp the run's data was opened with (a cache key: changes when files are written into it)."""
    return _loaded_stamps.get(str(run.path), 0.0)


def is_stale(run: runs.Run) -> bool:
    """True when files were written into the run folder after this page opened its data (a background analysis
    that finished while the script ran): the page should forget the run and rerun."""
    return data_stamp(run) != _stamp(run.path)


def ask(run: runs.Run, question: str, *args):
    """``run.query.<question>(*args)`` (see :class:`pipeline.run_query.RunQuery`), cached per run data: a
    rerun asking the same question again (the same page, filter or threshold) costs nothing."""
    return _ask(str(run.path), data_stamp(run), question, args, run)


@st.cache_data(show_spinner=False, max_entries=32)
def _compare(path: str, stamp: float, other_path: str, other_stamp: float, _run: runs.Run, _other: runs.Run):
    return _run.query.compare(_other.query)


def compare(run: runs.Run, other: runs.Run) -> dict | None:
    """Both wrong / only one wrong on the reviews two runs share, cached on both runs' data."""
    return _compare(str(run.path), data_stamp(run), str(other.path), data_stamp(other), run, other)


@st.cache_resource(show_spinner="Loading model (once per server)…", max_entries=4)
def classifier(path: str, stamp: float):
    # one line per model load: the load benchmark counts them (one model per run and server)
    print(f"[dashboard] loading the model of {path}", flush=True)
    clf = load_classifier(path)
    clf.prob_positive(["warm-up: trace the forward pass once, so no user waits for it"])
    # and every attribution method's one-off cost (gradient tracing was 5.8 s on the first Live call, issue #16)
    print(f"[dashboard] attribution warm-up seconds {warm_up_methods(clf)}", flush=True)
    return clf


def get_classifier(run: runs.Run):
    try:
        return classifier(str(run.path), model_stamp(run.path))
    except Exception as exc:  # a missing/corrupt model folder must not break the page
        st.error(f"Cannot load the model of run **{md(run.info.name)}**: {md(exc)}")
        return None


def sidebar_picker() -> None:
    """Runs listed newest first with model, preset, accuracy and date; broken ones with their reason."""
    infos = list_runs_cached(str(models_dir()), _dir_mtime(models_dir()))
    good = [i for i in infos if i.ok]
    bad = [i for i in infos if not i.ok]
    st.session_state["runs_ok"] = good
    with st.sidebar:
        if not good:
            st.session_state["run"] = st.session_state["compare"] = None
        else:
            names = [i.name for i in good]
            wanted = st.query_params.get("run")
            current = st.session_state.get("run_name")
            if current and current not in names:
                why = next((i.reason for i in bad if i.name == current), "deleted")
                st.warning(f"Run **{md(current)}** is no longer available ({md(why)}); showing another run.")
                st.session_state.pop("run_select", None)
            default = names.index(wanted) if wanted in names else (names.index(current) if current in names else 0)
            choice = st.selectbox(
                "Run", names, index=default, format_func=lambda n: good[names.index(n)].label, key="run_select"
            )
            st.session_state["run_name"] = choice
            st.session_state["run"] = good[names.index(choice)]
            others = ["(none)"] + [n for n in names if n != choice]
            cmp_choice = st.selectbox(
                "Compare with",
                others,
                key="compare_select",
                format_func=lambda n: n if n == "(none)" else good[names.index(n)].label,
            )
            st.session_state["compare"] = None if cmp_choice == "(none)" else good[names.index(cmp_choice)]
        if bad:
            with st.expander(f"{len(bad)} unusable run folder(s)"):
                for i in bad:
                    st.caption(f"**{md(i.name)}** — {md(i.reason)}")
        st.caption(f"Runs folder: `{models_dir()}`")


def current_run() -> runs.Run | None:
    """The picked run, or ``None`` after telling the user how to create one."""
    info = st.session_state.get("run")
    if info is None:
        st.info(
            f"No complete run in `{models_dir()}` yet. Create one (a few minutes on a laptop):\n\n"
            f"```\n{CREATE_RUN_CMD}\n```"
        )
        return None
    if not info.path.exists():
        st.error(f"Run **{md(info.name)}** was deleted. Pick another run, or recreate one with `{CREATE_RUN_CMD}`.")
        return None
    return load(info)


def compare_run() -> runs.Run | None:
    info = st.session_state.get("compare")
    if info is None or not info.path.exists():
        return None
    return load(info)


def fmt_pct(x) -> str:
    return "n/a" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{100 * x:.2f} %"
