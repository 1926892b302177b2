"""Analysis in every run: ``run`` ends with tags + behavioural tests + explanations (the run's default method), ``analyse_run``
computes only what a run lacks (with one model load), failures leave the run valid, the baseline works."""

import json
import shutil
from pathlib import Path

import pipeline.classifiers
from pipeline import runs as R
from pipeline.analysis.explain import DEFAULT_METHOD, METHODS
from pipeline.analysis.explain.precompute_run import precompute, select_reviews
from pipeline.analysis.run_analysis import (
    DEFAULT_BUDGET,
    STEPS,
    AnalysisBudget,
    analyse_run,
    missing_steps,
)
from pipeline.atomic import run_lock
from pipeline.classifiers.registry import RUN_KINDS

GRADIENT_RUN = RUN_KINDS["transformer"].capabilities
ANALYSIS_FILES = (R.TAGS, R.TAG_STATS, R.BEHAVIOR, R.EXPLANATIONS)
SMALL = AnalysisBudget(tag_sample=40, behave_n=20, explain_errors=4, explain_correct=2, explain_max_evals=80)


def bare_copy(run: Path, dest: Path) -> Path:
    """A copy of a finished run without any analysis files: what `run --no-analysis` leaves."""
    return Path(shutil.copytree(run, dest, ignore=shutil.ignore_patterns(*ANALYSIS_FILES)))


def test_run_ends_with_tags_behaviour_and_explanations(imdb_run):
    """The imdb_run fixture is built by `python -m pipeline run` without --no-analysis."""
    for f in ANALYSIS_FILES:
        assert (imdb_run / f).is_file(), f
    run = R.load_run(imdb_run)
    assert missing_steps(run) == []
    timings = run.run_json["timings"]
    for step in ("challenge", *STEPS):
        assert timings[step]["seconds"] > 0, step
    ex = run.explanations
    # the run's default method (issue #16): the most comprehensive within the batch budget, IG for a transformer
    assert DEFAULT_BUDGET.explain_method is None and timings["explain"]["method"] == DEFAULT_METHOD == "ig"
    mine = ex[ex["method"] == DEFAULT_METHOD]
    plan = select_reviews(run.predictions, DEFAULT_BUDGET.explain_errors, DEFAULT_BUDGET.explain_correct)
    assert set(plan["id"]) <= set(mine["id"])
    n_err = min(DEFAULT_BUDGET.explain_errors, int((~run.predictions["correct"]).sum()))
    assert (~mine["correct"]).sum() == n_err and mine["correct"].sum() == DEFAULT_BUDGET.explain_correct
    assert timings["explain"]["reviews"] == n_err + DEFAULT_BUDGET.explain_correct
    stored = json.loads(mine["settings"].iloc[0])  # IG's defaults, plus what this review needed (its steps)
    assert METHODS["ig"].defaults(GRADIENT_RUN).items() <= stored.items()
    assert len(run.behavior["tests"]) == 8 and run.tag_stats["tags"]


def test_analyse_run_computes_what_is_missing_with_one_model_load(imdb_run, tmp_path, monkeypatch):
    run_dir = bare_copy(imdb_run, tmp_path / "bare")
    assert missing_steps(R.load_run(run_dir), SMALL) == list(STEPS)
    precompute(run_dir, "grad", errors=2, correct=0)  # explanations of another method are kept
    loads = []
    real_load = pipeline.classifiers.load_classifier

    def counting_load(path):
        loads.append(path)
        return real_load(path)

    monkeypatch.setattr(pipeline.classifiers, "load_classifier", counting_load)
    calls = []
    res = analyse_run(run_dir, progress=lambda *a: calls.append(a), budget=SMALL)
    assert res.ok and not res.errors, res.errors
    assert len(loads) == 1  # one model for the three steps
    assert list(res.timings) == list(STEPS) and all(t["seconds"] > 0 for t in res.timings.values())
    for step in STEPS:  # each step reports progress from 0 to its total
        mine = [(d, t) for s, d, t in calls if s == step]
        assert mine[0][0] == 0 and mine[-1][0] == mine[-1][1] > 0, (step, mine)
    run = R.load_run(run_dir)
    assert missing_steps(run, SMALL) == []
    ex = run.explanations
    assert (ex["method"] == "grad").sum() == 2  # kept
    mine = ex[ex["method"] == DEFAULT_METHOD]
    plan = select_reviews(run.predictions, SMALL.explain_errors, SMALL.explain_correct)
    assert list(mine["id"]) == list(plan["id"])  # the 4 most confident errors, then 2 sampled correct
    worst = run.predictions[~run.predictions["correct"]].nlargest(4, "confidence")
    assert set(mine["id"][~mine["correct"]]) == set(worst["id"])
    assert run.tags["mixed_sentiment"].notna().sum() == SMALL.tag_sample
    assert run.behavior["sample"] == SMALL.behave_n
    before = {f: (run_dir / f).stat().st_mtime_ns for f in ANALYSIS_FILES}
    again = analyse_run(run_dir, budget=SMALL)  # nothing missing: nothing loaded, nothing rewritten
    assert again.timings == {} and len(loads) == 1
    assert before == {f: (run_dir / f).stat().st_mtime_ns for f in ANALYSIS_FILES}


def test_a_run_explained_with_another_method_is_not_offered_the_analysis_again(imdb_run, tmp_path):
    """A run analysed before IG became the default keeps its SHAP explanations: they count as explanations."""
    from pipeline.analysis.run_analysis import EXPLAIN

    run_dir = bare_copy(imdb_run, tmp_path / "old")
    assert EXPLAIN in missing_steps(R.load_run(run_dir), SMALL)
    precompute(run_dir, "shap", errors=SMALL.explain_errors, correct=SMALL.explain_correct, max_evals=40)
    assert EXPLAIN not in missing_steps(R.load_run(run_dir), SMALL)
    pinned = AnalysisBudget(**{**SMALL.__dict__, "explain_method": "ig"})  # a budget naming a method wants its rows
    assert EXPLAIN in missing_steps(R.load_run(run_dir), pinned)


def test_a_failing_step_leaves_the_run_valid_and_is_reported(imdb_run, tmp_path):
    run_dir = bare_copy(imdb_run, tmp_path / "locked")
    with run_lock(run_dir, "holding for a test"):  # every step's write is refused, as with a second writer
        res = analyse_run(run_dir, budget=SMALL)
    assert set(res.errors) == set(STEPS) and not res.ok
    assert all("holding for a test" in msg for msg in res.errors.values())
    run = R.load_run(run_dir)  # still a complete, readable run
    assert run.tags is None and run.behavior is None and run.explanations is None
    assert missing_steps(run, SMALL) == list(STEPS)


def test_baseline_run_gets_what_it_supports(baseline_run, tmp_path):
    run_dir = bare_copy(baseline_run, tmp_path / "tfidf")
    res = analyse_run(run_dir, budget=SMALL)
    assert res.ok, res.errors
    assert any("truncated_verdict" in n and "tokenizer" in n for n in res.notes)  # skipped, with the reason
    run = R.load_run(run_dir)
    assert "truncated_verdict" not in run.tags and "mixed_sentiment" in run.tags
    assert set(run.explanations["method"]) == {"shap"} and len(run.explanations) == 6
    assert run.behavior["tests"]


def test_record_timings_adds_to_run_json(baseline_run, tmp_path):
    from pipeline.analysis.run_analysis import record_timings

    run_dir = bare_copy(baseline_run, tmp_path / "t")
    old = R.read_run_json(run_dir)["timings"]
    record_timings(run_dir, {"tag": {"seconds": 1.5}})
    new = R.read_run_json(run_dir)["timings"]
    assert new == {**old, "tag": {"seconds": 1.5}}
