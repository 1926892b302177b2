"""Challenge sets (#12): loaders on tiny files with each set's real schema, statistics against hand-computed
values, the runner's files (atomic, under the run lock, missing sets skipped with a note), the CLI on the
baseline and tiny-BERT runs, and one small slice of the real shared data."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.analysis.challenge import SETS, cad_pairs, parse_sets, proportion, run_challenge, score_frame
from pipeline.analysis.challenge.score import checklist_stats
from pipeline.analysis.tags.lift import wilson
from pipeline.atomic import run_lock
from pipeline.errors import PipelineError, RunError
from pipeline.runs import CHALLENGE, CHALLENGE_STATS, load_run
from tests.conftest import ROOT

REAL = ROOT.parent / "shared" / "data" / "challenge"

# P(positive) for every text of the tiny sets below, chosen so each statistic has a known value.
P = {
    # CAD: pair a flips correctly, b stays put (original right), c flips the wrong way
    "a orig": 0.9, "a cf": 0.2,
    "b orig": 0.3, "b cf": 0.4,
    "c orig": 0.4, "c cf": 0.6,
    "dev orig": 0.9, "dev cf": 0.1,
    # CheckList
    "good flight": 0.8, "bad flight": 0.6, "neutral flight": 0.5,
    "not bad": 0.4, "not awful": 0.7,
    "inv0": 0.8, "inv0 a": 0.7, "inv0 b": 0.3, "inv1": 0.2, "inv1 a": 0.1,
    "dir0": 0.5, "dir0 +": 0.45, "dir1": 0.5, "dir1 +": 0.35, "dir2": 0.2, "dir2 +": 0.9,
    "used0": 0.3, "used0 +": 0.1,
    # iSarcasmEval: pairs 0 and 2 agree, 1 does not
    "s0": 0.2, "r0": 0.1, "s1": 0.8, "r1": 0.3, "s2": 0.6, "r2": 0.9,
    # AdvGLUE and UCI
    "adv0": 0.9, "adv1": 0.9, "adv2": 0.1, "adv3": 0.6,
    "amz0": 0.7, "amz1": 0.2, "yelp0": 0.1, "yelp1": 0.4, "yelp2": 0.55,
}  # fmt: skip


class TableClassifier:
    """A classifier that knows the answer for each text of the tiny sets (the Classifier protocol, no model):
    the statistics under test then have hand-computable values."""

    kind = "table"
    temperature = 1.0
    capabilities: frozenset[str] = frozenset()

    def __init__(self, table: dict[str, float]):
        self.table = table
        self.calls: list[str] = []

    def prob_positive(self, texts, *, precision: str = "float32") -> np.ndarray:
        self.calls += list(texts)
        return np.array([self.table[t] for t in texts], dtype=np.float32)


def write_sets(root: Path, only: tuple[str, ...] | None = None) -> Path:
    """Tiny copies of the five folders with the columns and dtypes of the real files."""

    def want(folder):
        return only is None or folder in only

    if want("cad_kaushik2020"):
        rows = []
        for pid, split, lo, lc in [("a", "test", 1, 0), ("b", "test", 0, 1), ("c", "test", 1, 0), ("dev", "dev", 1, 0)]:
            for variant, lab, suffix in (("original", lo, "orig"), ("counterfactual", lc, "cf")):
                rows.append(
                    {"pair_id": f"{split}-{pid}", "split": split, "variant": variant, "text": f"{pid} {suffix}",
                     "label": lab, "batch_id": 1, "source_imdb_id": "train/pos/1_9", "source_match": "exact"}
                )  # fmt: skip
        d = root / "cad_kaushik2020"
        d.mkdir(parents=True)
        pd.DataFrame(rows).astype({"label": "int8"}).to_parquet(d / "pairs.parquet")
    if want("checklist_sentiment_ribeiro2020"):
        cases = [
            # test, capability, type, case, variant, text, label3, expectation
            ("mft", "Negation", "MFT", 0, 0, "good flight", 2, "label"),
            ("mft", "Negation", "MFT", 1, 0, "bad flight", 0, "label"),
            ("mft", "Negation", "MFT", 2, 0, "neutral flight", 1, "label"),  # neutral: dropped
            ("neutral only", "Vocabulary", "MFT", 0, 0, "neutral flight", 1, "label"),  # whole test dropped
            ("not negative", "Negation", "MFT", 0, 0, "not bad", -1, "not_negative"),
            ("not negative", "Negation", "MFT", 1, 0, "not awful", -1, "not_negative"),
            ("inv", "Robustness", "INV", 0, 0, "inv0", -1, "invariant_prediction"),
            ("inv", "Robustness", "INV", 0, 1, "inv0 a", -1, "invariant_prediction"),
            ("inv", "Robustness", "INV", 0, 2, "inv0 b", -1, "invariant_prediction"),
            ("inv", "Robustness", "INV", 1, 0, "inv1", -1, "invariant_prediction"),
            ("inv", "Robustness", "INV", 1, 1, "inv1 a", -1, "invariant_prediction"),
            ("dir", "Vocabulary", "DIR", 0, 0, "dir0", -1, "p_positive_not_down (tol 0.1)"),
            ("dir", "Vocabulary", "DIR", 0, 1, "dir0 +", -1, "p_positive_not_down (tol 0.1)"),
            ("dir", "Vocabulary", "DIR", 1, 0, "dir1", -1, "p_positive_not_down (tol 0.1)"),
            ("dir", "Vocabulary", "DIR", 1, 1, "dir1 +", -1, "p_positive_not_down (tol 0.1)"),
            ("dir", "Vocabulary", "DIR", 2, 0, "dir2", -1, "p_positive_not_down (tol 0.1)"),
            ("dir", "Vocabulary", "DIR", 2, 1, "dir2 +", -1, "p_positive_not_down (tol 0.1)"),
            ("used to", "Vocabulary", "DIR", 0, 0, "used0", -1, "confidence_not_up (tol 0.1)"),
            ("used to", "Vocabulary", "DIR", 0, 1, "used0 +", -1, "confidence_not_up (tol 0.1)"),
        ]
        cols = ["test_name", "capability", "test_type", "case_id", "variant", "text", "label3", "expectation"]
        d = root / "checklist_sentiment_ribeiro2020"
        d.mkdir(parents=True)
        df = pd.DataFrame(cases, columns=cols).astype({"case_id": "int32", "variant": "int16", "label3": "int8"})
        df.to_parquet(d / "cases.parquet")
    if want("isarcasmeval2022"):
        d = root / "isarcasmeval2022"
        d.mkdir(parents=True)
        pd.DataFrame(
            {"pair_id": ["train-0", "train-1", "test-2"], "split": ["train", "train", "test_taskC"],
             "sarcastic_text": ["s0", "s1", "s2"], "rephrase": ["r0", "r1", "r2"], "sarcasm": [1.0, 0.0, np.nan]}
        ).to_parquet(d / "sarcastic_rephrase_pairs.parquet")  # fmt: skip
    if want("advglue_sst2_wang2021"):
        d = root / "advglue_sst2_wang2021"
        d.mkdir(parents=True)
        pd.DataFrame({"idx": [0, 1, 2, 3], "text": ["adv0", "adv1", "adv2", "adv3"], "label": [1, 0, 0, 0]}).astype(
            {"label": "int8"}
        ).to_parquet(d / "sst2_dev.parquet")
    if want("uci_sentences_kotzias2015"):
        d = root / "uci_sentences_kotzias2015"
        d.mkdir(parents=True)
        pd.DataFrame(
            {"domain": ["amazon", "amazon", "yelp", "yelp", "yelp", "imdb"], "line": [0, 1, 0, 1, 2, 0],
             "text": ["amz0", "amz1", "yelp0", "yelp1", "yelp2", "from imdb test"], "label": [1, 1, 0, 1, 0, 1]}
        ).astype({"label": "int8"}).to_parquet(d / "sentences.parquet")  # fmt: skip
    return root


@pytest.fixture()
def tiny_sets(tmp_path) -> Path:
    return write_sets(tmp_path / "challenge")


def _load(name: str, root: Path, **kw) -> pd.DataFrame:
    return SETS[name](root, **kw).load()


def _stat(rows: list[dict], test: str, metric: str | None = None) -> dict:
    return next(r for r in rows if r["test"] == test and (metric is None or r["metric"] == metric))


def _check(row: dict, k: int, n: int) -> None:
    assert (row["k"], row["n"]) == (k, n)
    assert row["value"] == pytest.approx(k / n)
    assert (row["lo"], row["hi"]) == pytest.approx(wilson(k, n))


# ---------------------------------------------------------------- statistics on hand-computed inputs


def test_cad_pair_statistics(tiny_sets):
    frame = _load("cad", tiny_sets)
    assert len(frame) == 6 and set(frame["pair_id"]) == {"test-a", "test-b", "test-c"}  # test split by default
    from pipeline.analysis.challenge.score import cad_stats

    scored, stats = cad_stats(score_frame(TableClassifier(P), frame))
    rows = stats["tests"]
    _check(_stat(rows, "cad test", "accuracy (counterfactual)"), 1, 3)
    _check(_stat(rows, "cad test", "pair consistency"), 1, 3)
    _check(_stat(rows, "cad test", "flipped with the label"), 1, 3)
    _check(_stat(rows, "cad test", "P(pos) moved with the label"), 2, 3)  # a: −0.7 ↓, b: +0.1 ↑; c moved up, label down
    _check(_stat(rows, "cad test", "accuracy (original, seen in training)"), 2, 3)
    assert stats["summary"]["mean_abs_delta"] == pytest.approx((0.7 + 0.1 + 0.2) / 3, abs=1e-6)
    assert stats["summary"]["pairs_text_identical"] == 0
    pairs = cad_pairs(scored).set_index("pair_id")
    assert pairs.loc["test-a", "outcome"] == "flipped correctly"
    assert pairs.loc["test-b", "outcome"] == "not flipped (original right)"
    assert pairs.loc["test-c", "outcome"] == "flipped the wrong way"
    assert list(_load("cad", tiny_sets, split="dev")["pair_id"].unique()) == ["dev-dev"]


def test_checklist_rules_and_capabilities(tiny_sets):
    frame = _load("checklist", tiny_sets)
    assert "neutral flight" not in set(frame["text"]) and "neutral only" not in set(frame["test"])
    assert frame.loc[frame["test"] == "not negative", "label"].eq(1).all()  # not negative → positive
    scored, stats = checklist_stats(score_frame(TableClassifier(P), frame))
    rows = stats["tests"]
    _check(_stat(rows, "mft"), 1, 2)  # "bad flight" at 0.6 fails
    _check(_stat(rows, "not negative"), 1, 2)  # 0.4 fails
    _check(_stat(rows, "inv"), 1, 2)  # case 0: one variant crosses 0.5
    _check(_stat(rows, "dir"), 1, 3)  # only dir1 falls by more than 0.1
    _check(_stat(rows, "used to"), 1, 1)  # confidence in "negative" rises 0.7 → 0.9
    caps = {r["capability"]: r for r in stats["capabilities"]}
    _check(caps["Negation"], 2, 4)
    _check(caps["Robustness"], 1, 2)
    _check(caps["Vocabulary"], 2, 4)
    assert caps["Vocabulary"]["mean_test_rate"] == pytest.approx((1 / 3 + 1) / 2)
    # a case's verdict is on each of its rows; its unperturbed row carries its worst badness
    inv0 = scored[scored["pair_id"] == "inv#0"].set_index("variant")
    assert not inv0["passed"].any() and inv0.loc["0", "badness"] == pytest.approx(0.5)


def test_checklist_subsample_is_seeded_and_bounded(tiny_sets):
    a = _load("checklist", tiny_sets, max_per_test=1, seed=3)
    b = _load("checklist", tiny_sets, max_per_test=1, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert a.groupby("test")["pair_id"].nunique().max() == 1
    assert len(a[a["test"] == "inv"]) in (2, 3)  # a sampled INV case keeps all its variants


def test_sarcasm_and_accuracy_sets(tiny_sets):
    from pipeline.analysis.challenge.score import accuracy_stats, sarcasm_stats

    clf = TableClassifier(P)
    _, sarc = sarcasm_stats(score_frame(clf, _load("isarcasm", tiny_sets)))
    _check(_stat(sarc["tests"], "sarcastic vs rephrase"), 2, 3)
    _check(_stat(sarc["tests"], "rephrase read as negative"), 2, 3)
    _, adv = accuracy_stats(score_frame(clf, _load("advglue", tiny_sets)))
    _check(_stat(adv["tests"], "sst2 dev"), 2, 4)
    sentences = _load("uci", tiny_sets)
    assert set(sentences["test"]) == {"amazon", "yelp"}  # IMDB sentences come from IMDB test: left out
    _, uci = accuracy_stats(score_frame(clf, sentences))
    _check(_stat(uci["tests"], "amazon"), 1, 2)
    _check(_stat(uci["tests"], "yelp"), 1, 3)  # 0.55 on a negative sentence is wrong too


def test_each_distinct_text_is_scored_once():
    frame = pd.DataFrame({"text": ["b", "a", "b", "b", "a"], "x": range(5)})
    clf = TableClassifier({"a": 0.25, "b": 0.75})
    out = score_frame(clf, frame)
    assert sorted(clf.calls) == ["a", "b"]
    assert out["prob_pos"].tolist() == [0.75, 0.25, 0.75, 0.75, 0.25] and out["pred"].tolist() == [1, 0, 1, 1, 0]
    assert proportion(0, 0)["value"] is None


def test_set_names_are_checked():
    assert parse_sets(None) == list(SETS) == ["cad", "checklist", "isarcasm", "advglue", "uci"]
    assert parse_sets(" uci, cad ") == ["uci", "cad"]
    with pytest.raises(PipelineError, match="unknown challenge set.*imdb"):
        parse_sets("cad,imdb")


# ---------------------------------------------------------------- the runner on real run folders


@pytest.fixture()
def baseline_copy(baseline_run, tmp_path) -> Path:
    """A private copy: the session's fixture run is shared with the dashboard tests."""
    return Path(shutil.copytree(baseline_run, tmp_path / "runs" / "baseline-copy"))


def test_runner_writes_both_files_atomically(baseline_copy, tiny_sets):
    stats = run_challenge(baseline_copy, data_dir=tiny_sets, classifier=TableClassifier(P), progress=False)
    assert {s["status"] for s in stats["sets"].values()} == {"ok"}
    assert not [p.name for p in baseline_copy.iterdir() if p.name.endswith(".tmp")]
    on_disk = json.loads((baseline_copy / CHALLENGE_STATS).read_text())
    assert on_disk["sets"]["cad"]["tests"][0]["k"] == 1 and "IMDB train" in on_disk["sets"]["cad"]["note"]
    assert re.search(r"This run trained on \d+ IMDB train reviews", on_disk["sets"]["cad"]["leakage"])
    df = pd.read_parquet(baseline_copy / CHALLENGE)
    assert {"set", "test", "pair_id", "variant", "label", "prob_pos", "pred", "passed"} <= set(df.columns)
    assert df.groupby("set").size().to_dict() == {"advglue": 4, "cad": 6, "checklist": 17, "isarcasm": 6, "uci": 5}
    run = load_run(baseline_copy)  # the Run dataclass carries both
    assert run.challenge is not None and run.challenge_stats["run"] == "baseline-copy"
    with run_lock(baseline_copy, "testing"), pytest.raises(RunError, match="another process"):
        run_challenge(baseline_copy, data_dir=tiny_sets, classifier=TableClassifier(P), progress=False)


def test_missing_set_is_skipped_with_a_note_and_subsets_keep_other_results(baseline_copy, tmp_path):
    only_uci = write_sets(tmp_path / "partial", only=("uci_sentences_kotzias2015",))
    stats = run_challenge(baseline_copy, data_dir=only_uci, classifier=TableClassifier(P), progress=False)
    assert stats["sets"]["uci"]["status"] == "ok"
    for name in ("cad", "checklist", "isarcasm", "advglue"):
        assert stats["sets"][name]["status"] == "skipped" and "not found" in stats["sets"][name]["reason"]
    full = write_sets(tmp_path / "full")
    run_challenge(baseline_copy, ["advglue"], data_dir=full, classifier=TableClassifier(P), progress=False)
    after = json.loads((baseline_copy / CHALLENGE_STATS).read_text())["sets"]
    assert after["uci"]["status"] == "ok" and after["advglue"]["status"] == "ok"  # uci kept from the first call
    assert set(pd.read_parquet(baseline_copy / CHALLENGE)["set"]) == {"uci", "advglue"}
    with pytest.raises(PipelineError, match="no challenge data"):
        run_challenge(baseline_copy, data_dir=tmp_path / "nowhere", progress=False)


def test_cli_on_the_baseline_and_tiny_bert(baseline_copy, imdb_run, tmp_path, tiny_sets, capsys):
    """The real classifiers end to end through ``python -m pipeline challenge`` (texts they have never seen)."""
    from pipeline.cli import main

    bert = Path(shutil.copytree(imdb_run, tmp_path / "runs" / "bert-copy"))
    for run in (baseline_copy, bert):
        rc = main(["challenge", "--run", str(run), "--data-dir", str(tiny_sets), "--sets", "cad,checklist,uci"])
        assert rc == 0
        df = pd.read_parquet(run / CHALLENGE)
        df = df[df["set"].isin(["cad", "checklist", "uci"])]  # sets scored earlier (the run's own) are kept
        assert df["prob_pos"].between(0, 1).all() and set(df["text"]) <= set(P)
        out = capsys.readouterr().out
        assert "pair consistency" in out and "skipped" not in out
    assert main(["challenge", "--run", str(bert), "--sets", "nope"]) == 2
    assert "unknown challenge set" in capsys.readouterr().err


@pytest.mark.skipif(not (REAL / "cad_kaushik2020" / "pairs.parquet").is_file(), reason="shared challenge data absent")
def test_run_scores_the_challenge_sets_at_the_end(imdb_run):
    """``python -m pipeline run`` (the fixture) ends with the challenge sets when their data is beside the repo."""
    stats = json.loads((imdb_run / CHALLENGE_STATS).read_text())
    assert {k: v["status"] for k, v in stats["sets"].items()} == dict.fromkeys(SETS, "ok")
    assert stats["sets"]["checklist"]["settings"]["max_per_test"] == 25
    assert len(pd.read_parquet(imdb_run / CHALLENGE)) == sum(s["n_texts"] for s in stats["sets"].values())


@pytest.mark.skipif(not (REAL / "cad_kaushik2020" / "pairs.parquet").is_file(), reason="shared challenge data absent")
def test_real_shared_data_small_slice(baseline_copy):
    """The real files load with their real schema; CheckList at 3 cases per test, scored by the baseline."""
    stats = run_challenge(baseline_copy, ["checklist", "advglue", "cad"], data_dir=REAL, max_per_test=3, progress=False)
    cl = stats["sets"]["checklist"]
    assert cl["status"] == "ok" and len(cl["tests"]) == 31  # 38 tests minus the 7 neutral-only ones
    assert all(r["n"] <= 3 for r in cl["tests"]) and cl["settings"]["max_per_test"] == 3
    assert {r["capability"] for r in cl["capabilities"]} == {
        "Fairness", "NER", "Negation", "Robustness", "SRL", "Temporal", "Vocabulary"
    }  # fmt: skip
    assert stats["sets"]["advglue"]["tests"][0]["n"] == 148
    cad = stats["sets"]["cad"]["summary"]  # SOURCE.md: 488 test pairs, all flip the label, one left unchanged
    assert (cad["pairs"], cad["pairs_label_flipped"], cad["pairs_text_identical"]) == (488, 488, 1)


# ---------------------------------------------------------------- the Robustness page


def test_robustness_page(imdb_run, baseline_run, tmp_path, tiny_sets, monkeypatch):
    """Chart, table, comparison, CheckList worst cases and the CAD pair viewer (escaped word diff, attributions
    on both sides) on two real runs; a run without results shows the command."""
    from streamlit.testing.v1 import AppTest

    from tests.conftest import shown

    cad = tiny_sets / "cad_kaushik2020" / "pairs.parquet"
    pairs = pd.read_parquet(cad)
    evil = (pairs["pair_id"] == "test-c") & (pairs["variant"] == "counterfactual")
    pairs.loc[evil, "text"] = "c cf <script>alert(1)</script>"
    pairs.to_parquet(cad)
    models = tmp_path / "models"
    for src, name in ((imdb_run, "bert"), (baseline_run, "tfidf"), (baseline_run, "bare")):
        shutil.copytree(src, models / name)
    for name in ("bert", "tfidf"):
        run_challenge(models / name, data_dir=tiny_sets, progress=False)
    monkeypatch.setenv("MODELS_DIR", str(models))
    at = AppTest.from_file(str(ROOT / "dashboard" / "Home.py"), default_timeout=180)
    at.query_params["run"] = "bare"
    at.run()
    at.switch_page("views/robustness.py").run()
    assert not at.exception
    assert any("python -m pipeline challenge --run bare" in c.value for c in at.code)

    at.selectbox(key="run_select").set_value("bert").run()
    at.selectbox(key="compare_select").set_value("tfidf").run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.get("plotly_chart")) == 2  # accuracy-like sets, CheckList capabilities
    table = at.dataframe[0].value
    assert {"value", "lo", "hi", "value (cmp)", "Δ"} <= set(table.columns)
    row = table[(table["set"] == "cad") & (table["metric"] == "pair consistency")].iloc[0]
    stats = json.loads((models / "bert" / CHALLENGE_STATS).read_text())
    assert row["value"] == pytest.approx(_stat(stats["sets"]["cad"]["tests"], "cad test", "pair consistency")["value"])
    assert any("IMDB train" in shown(w.value) for w in at.warning)  # the leakage caveat
    # the worst cases of the failing CheckList test picked by default
    assert at.selectbox(key="checklist_test").value in {r["test"] for r in stats["sets"]["checklist"]["tests"]}
    # the pair viewer: escaped diff with highlighted words, both predictions, attributions on both sides
    at.selectbox(key="cad_pair").set_value("test-c").run()
    assert not at.exception
    bodies = [h.proto.body for h in at.get("html")]
    diff = [b for b in bodies if "word-diff" in b]
    assert len(diff) == 2 and 'class="del"' in diff[0] and 'class="ins"' in diff[1]
    assert "&lt;script&gt;" in diff[1] and "<script>" not in " ".join(bodies)
    assert sum('class="attribution"' in b for b in bodies) == 2
    assert sum("P(positive)" in shown(c.value) for c in at.caption) >= 2
    n_all = len(at.selectbox(key="cad_pair").options)
    at.selectbox(key="cad_consistency").set_value("a side wrong").run()
    assert not at.exception
    left = [s for s in at.selectbox if s.key == "cad_pair"]
    assert (left and len(left[0].options) <= n_all) or any("No pair matches" in i.value for i in at.info)


def test_the_cli_default_needs_no_pandas():
    """The parser reads ``--max-per-test``'s default without loading pandas (a bad flag is answered fast)."""
    import subprocess
    import sys

    code = (
        "import sys\nimport pipeline.analysis.challenge as c\n"
        "from pipeline.analysis.challenge.defaults import DEFAULT_MAX_PER_TEST\n"
        "print('pandas' in sys.modules, DEFAULT_MAX_PER_TEST == c.DEFAULT_MAX_PER_TEST)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.split() == ["False", "True"]
