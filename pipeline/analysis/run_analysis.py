"""Analysis in every run: compute the error tags, behavioural tests and precomputed explanations a finished
run lacks, with the run's classifier loaded once for all three.

    python -m pipeline run / evaluate        → end with :func:`analyse_run` (``--no-analysis`` skips it)
    dashboard "Compute missing analysis"     → the same function, progress shown in ``st.status``

Each step writes its files atomically under the run lock (through ``run_tags``, ``behave_run`` and
``precompute``, as the ``tag`` / ``behave`` / ``explain`` verbs do), so the run folder stays valid whatever
happens; a step that fails is reported in :attr:`AnalysisResult.errors` and the others still run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..atomic import atomic_write_json, run_lock
from ..runs import RUN_JSON, TAGS, Run, load_run, read_run_json

log = logging.getLogger(__name__)

TAG, BEHAVE, EXPLAIN = "tag", "behave", "explain"
STEPS = (TAG, BEHAVE, EXPLAIN)
STEP_LABELS = {TAG: "error tags", BEHAVE: "behavioural tests", EXPLAIN: "explanations"}
STEP_UNITS = {TAG: "tag", BEHAVE: "test", EXPLAIN: "review"}  # what a step's progress counts

# (step, done, total): called as each step advances; the CLI draws tqdm bars, the dashboard a progress bar
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class AnalysisBudget:
    """How much analysis a run gets by default: small enough that the demo build, analysis included, stays near
    10 minutes on 2 CPU cores. Costs measured on the demo MiniLM on the idle 2-core machine (the README's run
    section has the whole split).

    - ``tag_sample`` (default 300): reviews the model-based tags score (``mixed_sentiment`` scores every
      sentence, ≈ 0.24 s per review under load: the ``tag`` verb's 2,000 took 6 min on the demo run).
    - ``behave_n`` (default 50): real test reviews per INV/DIR behavioural test (the ``behave`` verb's 100 took
      3.5 min; each distinct text is scored once).
    - ``explain_method`` (default None: the run's default, the most comprehensive method by the ERASER benchmark
      within the batch budget, ``pipeline/analysis/explain/measured.json``: IG for a transformer run, ≈ 1.4 s per
      median-length review; SHAP for the TF-IDF baseline, which has no gradients).
    - ``explain_max_evals`` (default 500): SHAP evaluations per review when the method is SHAP (Spearman 0.81 to
      the 2,000-evaluation reference in the README's table; 1,000: 0.91); ignored by the other methods.
    - ``explain_errors`` (default 6) most confident errors plus ``explain_correct`` (default 2) correct
      predictions sampled with ``seed`` (default 0). The errors are what the error page lists first; the correct
      ones give a reference. Any other review is explained on demand in the dashboard.
    """

    tag_sample: int = 300
    behave_n: int = 50
    explain_method: str | None = None
    explain_errors: int = 6
    explain_correct: int = 2
    explain_max_evals: int = 500
    seed: int = 0


DEFAULT_BUDGET = AnalysisBudget()


@dataclass
class AnalysisResult:
    """What :func:`analyse_run` did. ``timings``: per step run, ``{"seconds": …, …}`` (the form of run.json's
    timings); ``errors``: step → message for steps that failed; ``notes``: what was skipped and why."""

    timings: dict[str, dict] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary_lines(self) -> list[str]:
        lines = [f"{STEP_LABELS[s]}: {t['seconds']:.1f} s" for s, t in self.timings.items()]
        lines += [f"{STEP_LABELS[s]} failed: {msg}" for s, msg in self.errors.items()]
        return lines + self.notes


def missing_steps(run: Run, budget: AnalysisBudget = DEFAULT_BUDGET) -> list[str]:
    """The steps whose results ``run`` lacks: no tags (``tags.parquet`` + ``tags.json``), no behavioural
    tests, or reviews of the budget's explanation plan not yet explained (with its method when it names one, else
    with any)."""
    from .explain.precompute_run import unexplained

    out = []
    if not run.has(TAGS) or run.tag_stats is None:  # the file, not its rows: a million-row run stays cheap
        out.append(TAG)
    if run.behavior is None:
        out.append(BEHAVE)
    todo = unexplained(
        run.columns(["id", "correct", "confidence"]),
        run.explanations,
        budget.explain_method,  # None: explained with any method counts (a run analysed before IG became the default
        # keeps its SHAP explanations and is not offered the analysis again)
        budget.explain_errors,
        budget.explain_correct,
        budget.seed,
    )
    if len(todo):
        out.append(EXPLAIN)
    return out


def analyse_run(
    run_dir: str | Path,
    classifier=None,
    steps: Iterable[str] | None = None,
    progress: Progress | None = None,
    budget: AnalysisBudget = DEFAULT_BUDGET,
    data: str | None = None,
) -> AnalysisResult:
    """Compute what the run at ``run_dir`` lacks of tags, behavioural tests and explanations.

    ``steps``: a subset of :data:`STEPS` to compute (default: :func:`missing_steps`, so a complete run costs
    nothing). ``classifier``: the run's, when already loaded (``run`` passes the one it trained, the dashboard
    its cached one); otherwise it is loaded once here and shared by the steps. ``progress(step, done, total)``
    is called as each step advances (default: one tqdm bar per step). ``data``: the IMDB source for the
    ``duplicate`` tag's train texts (default: the run's). Tags and methods the run's classifier cannot support
    (the TF-IDF baseline: word-piece tags) are skipped with a note. Never raises for a failing step: its
    message is in ``errors`` and the run folder keeps whatever was written before.
    """
    from ..classifiers import load_classifier

    run_dir = Path(run_dir)
    run = load_run(run_dir)
    todo = [s for s in STEPS if s in (missing_steps(run, budget) if steps is None else set(steps))]
    result = AnalysisResult()
    if not todo:
        return result
    report = progress or _TqdmProgress()
    if classifier is None:
        t0 = time.perf_counter()
        classifier = load_classifier(run_dir)
        log.info("loaded the model of %s for the analysis (%.1f s)", run_dir.name, time.perf_counter() - t0)
    for step in todo:
        t0 = time.perf_counter()
        try:
            step_progress = lambda done, total, s=step: report(s, done, total)  # noqa: E731
            extra = _STEP_FUNCS[step](run_dir, classifier, step_progress, budget, data, result)
        except Exception as exc:  # noqa: BLE001 — one failing step must not cost the others (nor the run)
            log.warning(
                "analysis step %s failed on %s: %s: %s",
                step,
                run_dir.name,
                type(exc).__name__,
                exc,
                exc_info=log.isEnabledFor(logging.DEBUG),
            )
            result.errors[step] = f"{type(exc).__name__}: {exc}"
            continue
        finally:
            if isinstance(report, _TqdmProgress):
                report.close(step)
        result.timings[step] = {"seconds": round(time.perf_counter() - t0, 2), **extra}
    return result


def _tag(run_dir: Path, clf, progress, budget: AnalysisBudget, data: str | None, result: AnalysisResult) -> dict:
    from .tags import REGISTRY, run_tags

    for name, cls in REGISTRY.items():
        unmet = cls.unmet_needs(clf)
        if unmet:
            result.notes.append(
                f"tag {name} skipped: this {clf.kind} run's classifier lacks {', '.join(sorted(unmet))}"
            )
    progress(0, len(REGISTRY))
    run_tags(run_dir, sample=budget.tag_sample, seed=budget.seed, data=data, classifier=clf, progress=progress)
    return {"sample": budget.tag_sample}


def _behave(run_dir: Path, clf, progress, budget: AnalysisBudget, data: str | None, result: AnalysisResult) -> dict:
    from .behavior import N_TESTS, behave_run

    progress(0, N_TESTS)
    res = behave_run(run_dir, budget.behave_n, classifier=clf, progress=progress)
    return {"cases": sum(t["cases"] for t in res["tests"])}


def _explain(run_dir: Path, clf, progress, budget: AnalysisBudget, data: str | None, result: AnalysisResult) -> dict:
    from .explain import METHODS, default_method, methods_for
    from .explain.precompute_run import precompute, unexplained

    method = budget.explain_method or default_method(clf.capabilities)
    if method not in methods_for(clf.capabilities):
        result.notes.append(f"explanations skipped: method {method!r} does not support this {clf.kind} run")
        return {"reviews": 0}
    run = load_run(run_dir)
    n = len(
        unexplained(
            run.predictions, run.explanations, method, budget.explain_errors, budget.explain_correct, budget.seed
        )
    )
    progress(0, n)
    settings = {"max_evals": budget.explain_max_evals} if "max_evals" in METHODS[method].defaults() else {}
    precompute(
        run_dir,
        method,
        budget.explain_errors,
        budget.explain_correct,
        budget.seed,
        classifier=clf,
        progress=progress,
        **settings,
    )
    return {"reviews": n, "method": method, **settings}


_STEP_FUNCS = {TAG: _tag, BEHAVE: _behave, EXPLAIN: _explain}


class _TqdmProgress:
    """The CLI's progress: one tqdm bar per step, closed when the step ends."""

    def __init__(self):
        self.bars: dict = {}

    def __call__(self, step: str, done: int, total: int) -> None:
        from tqdm.auto import tqdm

        bar = self.bars.get(step)
        if bar is None:
            bar = self.bars[step] = tqdm(total=total, desc=STEP_LABELS[step], unit=STEP_UNITS[step])
        bar.total = total
        bar.update(done - bar.n)

    def close(self, step: str) -> None:
        bar = self.bars.pop(step, None)
        if bar is not None:
            bar.close()


def record_timings(run_dir: str | Path, timings: dict[str, dict]) -> None:
    """Add ``timings`` (step → ``{"seconds": …}``) to ``run.json``'s timings, atomically under the run lock."""
    if not timings:
        return
    with run_lock(Path(run_dir), "recording timings of"):
        run = read_run_json(run_dir)
        run.setdefault("timings", {}).update(timings)
        atomic_write_json(Path(run_dir) / RUN_JSON, run)
