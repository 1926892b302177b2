"""The "Compute missing analysis" button: on a run that lacks error tags, behavioural tests or precomputed
explanations, compute them in the background with the model the dashboard already holds.

The analysis (:func:`pipeline.analysis.run_analysis.analyse_run`) runs in a thread, one job per run per server,
so the page stays usable while it works; a fragment polls the job and shows its progress in ``st.status``. The
files are written atomically into the run under the run lock; when the job ends, the run's cached data is
cleared and the page reruns with the results.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import streamlit as st

from dashboard import state
from pipeline.analysis.run_analysis import STEP_LABELS, STEP_UNITS, AnalysisResult, analyse_run, missing_steps
from pipeline.render import md_escape as md

POLL_SECONDS = 1.0
SHOW_DONE_SECONDS = 600  # how long a finished job's summary stays on the pages


@dataclass
class Job:
    """One background analysis of a run; its fields are written by the worker thread, read by the pages."""

    run_path: str
    steps: list[str]
    started: float = field(default_factory=time.time)
    step: str | None = None
    done: int = 0
    total: int = 0
    result: AnalysisResult | None = None
    failure: str | None = None
    finished: bool = False
    finished_at: float = 0.0

    def progress(self, step: str, done: int, total: int) -> None:
        self.step, self.done, self.total = step, done, total


@st.cache_resource(show_spinner=False)
def _jobs() -> tuple[dict[str, Job], threading.Lock]:
    """Jobs by run folder, shared by every session of this server."""
    return {}, threading.Lock()


def _work(job: Job, clf) -> None:
    try:
        job.result = analyse_run(job.run_path, classifier=clf, steps=job.steps, progress=job.progress)
    except Exception as exc:  # noqa: BLE001 — reported on the page; the run folder is left valid
        job.failure = f"{type(exc).__name__}: {exc}"
    finally:
        job.finished_at = time.time()
        job.finished = True


def _start(run, steps: list[str]) -> None:
    clf = state.get_classifier(run)  # the shared model cache: loaded once per server, also used by the pages
    if clf is None:
        return
    jobs, lock = _jobs()
    with lock:
        job = jobs.get(str(run.path))
        if job is not None and not job.finished:
            return  # another session started it a moment ago
        job = jobs[str(run.path)] = Job(str(run.path), steps)
    threading.Thread(target=_work, args=(job, clf), name=f"analysis-{run.info.name}", daemon=True).start()


def _describe(steps: list[str]) -> str:
    return ", ".join(STEP_LABELS[s] for s in steps)


@st.cache_data(show_spinner=False, max_entries=32)
def _missing(path: str, stamp: float, _run) -> list[str]:
    return missing_steps(_run)  # reads three columns of the predictions: once per run data, not per rerun


def offer_missing_analysis(run, key: str) -> None:
    """One button computing every missing part of the run's analysis, or the progress of the job doing it."""
    job = _jobs()[0].get(str(run.path))
    if job is not None and not job.finished:
        _running(str(run.path))
        return
    if job is not None:
        if state.is_stale(run):  # the job ended after this rerun read the run: what it wrote is not in `run` yet
            state.forget_run(run.path)
            st.rerun()
        _finished(job)
    missing = _missing(str(run.path), state.data_stamp(run), run)
    if not missing:
        return
    with st.container(border=True):
        st.write(f"This run has no {md(_describe(missing))} yet.")
        st.caption(
            "They are computed with the run's model and written into the run folder (a few minutes for the demo "
            "run; the page stays usable meanwhile)."
        )
        if st.button("Compute missing analysis", key=f"{key}_compute_analysis", icon=":material/play_arrow:"):
            _start(run, missing)
            st.rerun()


@st.fragment(run_every=POLL_SECONDS)
def _running(run_path: str) -> None:
    """Progress of the running job, refreshed every second on its own; the whole page reruns when it ends."""
    job = _jobs()[0].get(run_path)
    if job is None or job.finished:
        state.forget_run(run_path)  # the new files: read them now, not at the next change
        st.rerun()
    # (not a `with` block: leaving one would mark the status complete)
    box = st.status(f"Computing {md(_describe(job.steps))}…", expanded=True, state="running")
    if job.step is not None:
        frac = job.done / job.total if job.total else 0.0
        box.progress(min(frac, 1.0), text=f"{STEP_LABELS[job.step]}: {job.done} of {job.total} {STEP_UNITS[job.step]}s")
    box.caption(f"started {time.time() - job.started:.0f} s ago; you can keep using the dashboard")


def _finished(job: Job) -> None:
    """A failure until the analysis is retried; a success for a few minutes after it."""
    res = job.result
    if job.failure or (res is not None and res.errors):
        with st.status("The analysis failed", state="error", expanded=True):
            st.write(md(job.failure or "; ".join(f"{STEP_LABELS[s]}: {m}" for s, m in res.errors.items())))
            st.caption("What was written before the failure is kept; the button below retries what is missing.")
    elif res is not None and time.time() - job.finished_at < SHOW_DONE_SECONDS:
        with st.status("Analysis computed", state="complete", expanded=False):
            for line in res.summary_lines():
                st.caption(md(line))
