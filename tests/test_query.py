"""The query layer (DuckDB over predictions.parquet + the text sidecar) answers exactly what pandas computes
on the loaded frame, for any parquet layout, with and without its sidecar index."""

from __future__ import annotations

import io
import os

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from pipeline import metrics
from pipeline.run_query import ErrorFilter, RunQuery
from pipeline.text_index import ERROR_TEXTS, index_folder

WORDS = ["plot", "acting", "Boring", "BORING", "boring", "great", "café", "naïve", "(sic)", "a.b", "so-so", "<br />"]


def predictions(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    texts = [" ".join(rng.choice(WORDS, rng.integers(3, 12))) for _ in range(n)]
    texts[5] = '=HYPERLINK("http://x") boring'  # a formula: must be defused in CSV exports
    label = rng.integers(0, 2, n).astype("int8")
    prob = rng.random(n).astype("float32")
    label[5], prob[5] = 0, 0.95  # the formula review is a confident false positive
    pred = (prob >= 0.5).astype("int8")
    return pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(n)],
            "text": texts,
            "label": label,
            "rating": np.where(label == 1, rng.integers(7, 11, n), rng.integers(1, 5, n)).astype("int16"),
            "prob_pos": prob,
            "pred": pred,
            "correct": pred == label,
            "confidence": np.where(pred == 1, prob, 1 - prob).astype("float32"),
            "n_tokens": rng.integers(5, 900, n).astype("int32"),
            "truncated": rng.random(n) < 0.3,
        }
    )


@pytest.fixture()
def run(tmp_path) -> tuple[pd.DataFrame, object]:
    df = predictions()
    folder = tmp_path / "run"
    folder.mkdir()
    df.to_parquet(folder / "predictions.parquet", row_group_size=700)  # several row groups
    tags = pd.DataFrame(
        {
            "id": df["id"],
            "negation": df.index % 3 == 0,
            "irony": pd.array([True if i % 5 == 0 else (None if i % 5 == 1 else False) for i in range(len(df))]),
            "label_issue": df.index % 97 == 0,
            "label_issue_quality": np.linspace(0, 1, len(df)),
        }
    )
    tags.to_parquet(folder / "tags.parquet")
    return df, folder


def query(folder, tmp_path, **kw) -> RunQuery:
    q = RunQuery(folder / "predictions.parquet", folder / "tags.parquet", index_root=tmp_path / "index", **kw)
    assert q.wait_for_index(60)
    return q


def expected_errors(df: pd.DataFrame, f: ErrorFilter) -> pd.DataFrame:
    e = df[~df["correct"]].copy()
    e["error_type"] = np.where(e["pred"] == 1, "FP", "FN")
    e = e[e["error_type"].isin(f.kinds) & e["confidence"].between(*f.confidence)]
    if f.tokens:
        e = e[e["n_tokens"].between(*f.tokens)]
    if f.truncated is not None:
        e = e[e["truncated"] == f.truncated]
    if f.ratings:
        e = e[e["rating"].isin(f.ratings)]
    if f.search:
        e = e[e["text"].str.lower().str.contains(f.search.lower(), regex=False)]
    e["row"] = e.index
    return e.sort_values(["confidence", "row"], ascending=[False, True])


def test_counts_and_confusion_match_the_metrics_module(run, tmp_path):
    df, folder = run
    q = query(folder, tmp_path)
    s = q.summary()
    assert (s["n"], s["positives"]) == (len(df), int(df["label"].sum()))
    assert s["errors"] == int((~df["correct"]).sum()) == s["fp"] + s["fn"]
    assert s["max_tokens"] == df["n_tokens"].max() and s["ratings"] == sorted(df["rating"].unique().tolist())
    for thr in (0.01, 0.3, 0.5, 0.77, 0.99):
        want = metrics.classification_metrics(df["label"], df["prob_pos"], threshold=thr)
        cm = q.confusion(thr)
        assert cm == want["confusion_matrix"]
        got = metrics.confusion_metrics(cm)
        for k in ("accuracy", "precision", "recall", "f1"):
            assert got[k] == pytest.approx(want[k], abs=1e-12), k


def test_curves_and_reliability_from_binned_scores(run, tmp_path):
    df, folder = run
    q = query(folder, tmp_path)
    y, p = df["label"].to_numpy(), df["prob_pos"].to_numpy().astype(float)
    c = q.curves(1000)
    roc = c["roc"]
    assert len(roc) == 1001 and len(c["pr"]) <= 1000  # a thousand points whatever the number of rows
    for k in (100, 300, 500, 870):  # the point at threshold k/1000 is exact
        at = p >= k / 1000
        row = roc.iloc[k]
        assert row["tpr"] == pytest.approx((at & (y == 1)).sum() / (y == 1).sum())
        assert row["fpr"] == pytest.approx((at & (y == 0)).sum() / (y == 0).sum())
    auc = -np.trapezoid(roc["tpr"], roc["fpr"])
    assert auc == pytest.approx(roc_auc_score(y, p), abs=2e-3)
    want = metrics.reliability_table(y, p)
    got = q.reliability()
    assert got["count"].tolist() == want["count"].tolist()
    for col in ("confidence", "accuracy", "bin_low", "bin_high"):
        assert np.allclose(got[col], want[col], atol=1e-6), col
    assert q.expected_calibration_error() == pytest.approx(metrics.expected_calibration_error(y, p), abs=1e-6)
    hist = q.length_histogram(1500, 25)
    assert hist["count"].sum() == len(df)
    assert hist.loc[~hist["correct"], "count"].sum() == (~df["correct"]).sum()


FILTERS = [
    ErrorFilter(),
    ErrorFilter(kinds=("FP",), confidence=(0.6, 0.9)),
    ErrorFilter(kinds=("FN",), tokens=(100, 400), truncated=True),
    ErrorFilter(ratings=(1, 2, 10), truncated=False),
    ErrorFilter(search="boring"),
    ErrorFilter(search="CAFÉ", kinds=("FN",)),
    ErrorFilter(search="(sic)"),  # regex characters are plain text
    ErrorFilter(search="a.b"),
    ErrorFilter(kinds=()),
]


@pytest.mark.parametrize("with_index", [True, False], ids=["sidecar", "parquet-only"])
def test_error_filters_pages_and_search_match_pandas(run, tmp_path, with_index):
    df, folder = run
    if with_index:
        q = query(folder, tmp_path)
    else:  # the cache folder cannot be created: every answer comes from the parquet, the same answers
        blocker = tmp_path / "not-a-folder"
        blocker.write_text("")
        q = RunQuery(folder / "predictions.parquet", folder / "tags.parquet", index_root=blocker / "index")
        assert not q.wait_for_index(60) and q.index_error
    for f in FILTERS:
        want = expected_errors(df, f)
        assert q.error_count(f) == len(want), f
        pages = [q.errors(f, limit=50, offset=o) for o in range(0, len(want) + 50, 50)]
        got = pd.concat(pages)
        assert got["id"].tolist() == want["id"].tolist(), f
        assert got["error_type"].tolist() == want["error_type"].tolist()
        assert got["snippet"].tolist() == [t.replace("<br />", " ")[:220] for t in want["text"]]
    assert q.texts([7, 0, 2999]) == [df.loc[7, "text"], df.loc[0, "text"], df.loc[2999, "text"]]


def test_tag_filters_ignore_untagged_reviews(run, tmp_path):
    df, folder = run
    q = query(folder, tmp_path)
    assert set(q.tag_columns) == {"negation", "irony", "label_issue"}
    got = q.errors(ErrorFilter(tags=("negation", "irony")), limit=10_000)
    want = expected_errors(df, ErrorFilter())
    want = want[(want.index % 3 == 0) & (want.index % 5 == 0)]  # irony null (i % 5 == 1) never matches
    assert got["id"].tolist() == want["id"].tolist()
    assert got["negation"].all() and got["irony"].all()
    assert q.tags_of("r15") == ["negation", "irony"] and q.tags_of("r1") == [] and q.tags_of("nope") == []
    with pytest.raises(ValueError, match="unknown tag"):
        q.error_count(ErrorFilter(tags=("no_such_tag",)))
    issues, total = q.label_issues()
    assert total == len(range(0, len(df), 97))
    assert issues["id"].tolist() == [f"r{i}" for i in range(0, len(df), 97)]  # lowest quality first
    assert q.label_issues(limit=3)[0]["id"].tolist() == ["r0", "r97", "r194"]
    assert issues["label_quality"].is_monotonic_increasing


def test_export_streams_every_matching_error_with_formulas_defused(run, tmp_path):
    df, folder = run
    q = query(folder, tmp_path)
    f = ErrorFilter(search="boring")
    pieces = list(q.export_errors_csv(f, chunk=40))
    assert len(pieces) > 3  # written chunk by chunk
    got = pd.read_csv(io.StringIO("".join(pieces)), keep_default_na=False)
    want = expected_errors(df, f)
    assert got["id"].tolist() == want["id"].tolist()
    texts = dict(zip(want["id"], want["text"]))
    for rid, text in zip(got["id"], got["text"]):
        assert text == ("'" + texts[rid] if texts[rid].startswith("=") else texts[rid])
    assert "r5" in set(got["id"]) and "'=HYPERLINK" in "".join(pieces)


def test_cells_reviews_and_comparison(run, tmp_path):
    df, folder = run
    q = query(folder, tmp_path)
    for cell, thr in (("TP", 0.4), ("TN", 0.4), ("FP", 0.62), ("FN", 0.62)):
        page, total = q.cell(cell, thr, limit=30, offset=10)
        at = df["prob_pos"] >= thr
        mask = {"TP": at & (df.label == 1), "TN": ~at & (df.label == 0), "FP": at & (df.label == 0)}.get(
            cell, ~at & (df.label == 1)
        )
        want = (
            df[mask].assign(row=df[mask].index).sort_values(["prob_pos", "row"], ascending=[cell in ("FN", "TN"), True])
        )
        assert total == int(mask.sum())
        assert page["id"].tolist() == want["id"].iloc[10:40].tolist()
    r = q.review("r5")
    assert r["text"] == df.loc[5, "text"] and r["label"] == df.loc[5, "label"] and r["row"] == 5
    assert q.review("missing") is None
    other = tmp_path / "other"
    other.mkdir()
    flipped = df.assign(correct=df["correct"].where(df.index % 2 == 0, ~df["correct"])).iloc[::-1]
    flipped.to_parquet(other / "predictions.parquet")
    both = q.compare(other / "predictions.parquet")
    a, b = df["correct"], flipped.sort_index()["correct"]
    assert both == {
        "shared": len(df),
        "both_wrong": int((~a & ~b).sum()),
        "only_this": int((~a & b).sum()),
        "only_other": int((a & ~b).sum()),
    }


def test_sidecar_is_built_once_and_rebuilt_when_the_parquet_changes(run, tmp_path):
    df, folder = run
    q = query(folder, tmp_path)
    first = index_folder(q.parquet, tmp_path / "index")
    assert (first / ERROR_TEXTS).is_file()
    again = RunQuery(folder / "predictions.parquet", index_root=tmp_path / "index")
    assert again.index_ready  # opened, not rebuilt: the folder is reused
    changed = df.assign(text=df["text"].str.upper())
    changed.to_parquet(folder / "predictions.parquet")
    os.utime(folder / "predictions.parquet", ns=(1, 1))  # a different stamp even within the same second
    q2 = query(folder, tmp_path)
    assert q2.texts([3]) == [changed.loc[3, "text"]]
    assert not first.exists()  # the older version of the same file is removed
    assert q2.error_count(ErrorFilter(search="boring")) == q.error_count(ErrorFilter(search="boring"))


def test_a_parquet_written_by_another_tool_opens(run, tmp_path):
    df, folder = run
    other = tmp_path / "duck"
    other.mkdir()
    con = duckdb.connect()
    con.register("df", df.assign(label=df["label"].astype("int64"), extra="x"))
    con.execute(
        f"COPY (SELECT * FROM df) TO '{other / 'predictions.parquet'}' (FORMAT parquet, ROW_GROUP_SIZE 1000, COMPRESSION zstd)"
    )
    q = query(other, tmp_path)
    assert q.confusion(0.5) == metrics.classification_metrics(df["label"], df["prob_pos"])["confusion_matrix"]
    f = ErrorFilter(search="boring", kinds=("FP",))
    assert q.errors(f, limit=5000)["id"].tolist() == expected_errors(df, f)["id"].tolist()
    assert q.tag_columns == []


def test_slice_metrics_match_the_metrics_module(run, tmp_path):
    df, folder = run
    df.loc[df.index % 11 == 0, "rating"] = 0  # no star rating: the "unknown" slice
    df.to_parquet(folder / "predictions.parquet", row_group_size=700)
    got = query(folder, tmp_path).slices()
    want = metrics.slice_metrics(df)
    assert set(got) == set(want) == {"length", "truncated", "rating"}
    for name, table in got.items():
        assert sorted(table["slice"]) == sorted(want[name]), name
        assert table["n"].sum() == len(df)
        for r in table.itertuples(index=False):
            w = want[name][r.slice]
            assert (r.n, r.errors) == (w["n"], w["confusion_matrix"]["fp"] + w["confusion_matrix"]["fn"])
            assert r.accuracy == pytest.approx(w["accuracy"], abs=1e-12)
            assert r.f1 == pytest.approx(w["f1"], abs=1e-12)
            assert r.ece == pytest.approx(w["ece"], abs=1e-9)
            if w["roc_auc"] is None:  # a one-class slice (here: every 1★ review is negative)
                assert pd.isna(r.roc_auc)
            else:
                assert r.roc_auc == pytest.approx(w["roc_auc"], abs=2e-3)
    assert list(got["length"]["slice"]) == [s for s in metrics.LENGTH_LABELS if s in want["length"]]
    assert got["rating"]["slice"].iloc[-1] == "unknown" and got["rating"]["slice"].iloc[0] == "1★"


def test_slices_leave_out_groupings_whose_column_is_missing(tmp_path):
    df = predictions(400).drop(columns=["rating", "truncated"])
    folder = tmp_path / "run"
    folder.mkdir()
    df.to_parquet(folder / "predictions.parquet")
    got = RunQuery(folder / "predictions.parquet", index_root=tmp_path / "index").slices()
    assert list(got) == ["length"] and got["length"]["n"].sum() == 400
