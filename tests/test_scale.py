"""Scoring at scale (issue #13, items 3–4): chunked, resumable ``predict``; the same scores on Ray Data;
the training strategy TF_CONFIG selects. Memory and speed are measured in benchmarks/predict_memory.py."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipeline.errors import DataError, PipelineError
from pipeline.inputs import iter_reviews_file, read_reviews_file


def reviews_frame(n: int = 60) -> pd.DataFrame:
    """IMDB-like short reviews with blanks among them (dropped, and ids must still follow the kept rows)."""
    words = ["great", "awful", "dull", "superb", "fine", "boring", "moving"]
    texts = [f"Review {i}: the film was {words[i % 7]} and {words[(i * 3) % 7]}." for i in range(n)]
    for i in (i for i in (4, 5, 31) if i < n):
        texts[i] = "   "
    return pd.DataFrame({"review": texts, "stars": [i % 10 + 1 for i in range(n)]})


# ---------------------------------------------------------------- chunked reading: same rows, same messages


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl", ".txt"])
def test_chunks_give_the_rows_and_ids_of_a_whole_read(tmp_path, suffix):
    df = reviews_frame()
    path = tmp_path / f"in{suffix}"
    if suffix == ".csv":
        df.to_csv(path, index=False)
    elif suffix == ".parquet":
        df.to_parquet(path)
    elif suffix == ".jsonl":
        df.to_json(path, orient="records", lines=True)
    else:
        path.write_text("\n".join(df["review"]) + "\n")
    whole = read_reviews_file(path)
    chunks = list(iter_reviews_file(path, chunk_rows=7))
    streamed = pd.concat([c for _, c in chunks], ignore_index=True)
    assert len(chunks) > 5
    pd.testing.assert_frame_equal(streamed, whole, check_dtype=False)
    file_rows = sum(n for n, _ in chunks)
    assert file_rows == (57 if suffix == ".txt" else 60)  # TXT drops blank lines before any chunking


def test_bad_rows_deep_in_a_file_are_refused_with_their_row(tmp_path):
    df = reviews_frame(50)
    df.loc[37, "review"] = "x" * 1_000_001
    df.to_csv(tmp_path / "long.csv", index=False)
    with pytest.raises(DataError, match=r"long.csv: row 38 is 1,000,001 characters"):
        list(iter_reviews_file(tmp_path / "long.csv", chunk_rows=10))
    raw = reviews_frame(50).to_csv(index=False).encode() + b"caf\xe9 review\n"
    (tmp_path / "latin1.csv").write_bytes(raw)
    with pytest.raises(DataError, match=rf"not UTF-8 text \(bad byte at position {len(raw) - 9}\)"):
        next(iter_reviews_file(tmp_path / "latin1.csv", chunk_rows=10))  # refused before the first chunk
    (tmp_path / "blank.csv").write_text("text\n \n\n  \n")
    with pytest.raises(DataError, match="no non-empty reviews"):
        list(iter_reviews_file(tmp_path / "blank.csv", chunk_rows=2))


# ---------------------------------------------------------------- predict: chunked output, resume, bad chunks


class StopsAfter:
    """A real classifier that raises KeyboardInterrupt (Ctrl-C) on its ``calls``-th call; counts texts scored."""

    def __init__(self, clf, calls: int | None):
        self.clf, self.calls, self.scored = clf, calls, 0
        self.kind, self.temperature, self.capabilities = clf.kind, clf.temperature, clf.capabilities

    def prob_positive(self, texts, **kw):
        if self.calls is not None:
            self.calls -= 1
            if self.calls == 0:
                raise KeyboardInterrupt
        self.scored += len(texts)
        return self.clf.prob_positive(texts, **kw)


def test_predict_streams_resumes_and_matches_a_whole_read(baseline_run, tmp_path):
    from pipeline.classifiers import load_classifier, score_texts
    from pipeline.predict import parts_dir, predict_file

    clf = load_classifier(baseline_run)
    src = tmp_path / "in.csv"
    reviews_frame(60).to_csv(src, index=False)
    out = tmp_path / "out.parquet"
    model = {"run": "fixture-baseline"}
    with pytest.raises(KeyboardInterrupt):  # Ctrl-C during the third chunk (one batch per chunk)
        predict_file(StopsAfter(clf, calls=3), src, out, model_id=model, batch=64, chunk_rows=10)
    assert not out.exists() and len(list(parts_dir(out).glob("part-*.parquet"))) == 2
    with pytest.raises(PipelineError, match="another input, model or --chunk-rows"):
        predict_file(clf, src, out, model_id=model, batch=64, chunk_rows=20)
    resumed = StopsAfter(clf, calls=None)
    res = predict_file(resumed, src, out, model_id=model, batch=64, chunk_rows=10)
    assert (res.chunks, res.resumed_chunks, res.reviews, res.blank_rows) == (6, 2, 57, 3)
    assert resumed.scored == 57 - 18  # chunks 1–2 held 20 rows, two of them blank: not scored again
    assert not parts_dir(out).exists() and pq.ParquetFile(out).metadata.num_row_groups == 6

    whole = read_reviews_file(src)
    got = pd.read_parquet(out)
    assert got["id"].tolist() == whole["id"].tolist() and got["review"].tolist() == whole["text"].tolist()
    assert "text" not in got  # the rows come back under the file's own column name
    assert got["stars"].tolist() == whole["stars"].tolist()
    np.testing.assert_allclose(got["prob_pos"], score_texts(clf, whole["text"].tolist()), atol=1e-6)
    assert (got["pred"] == (got["prob_pos"] >= 0.5)).all()
    assert set(got["pred_label"]) <= {"positive", "negative"}

    csv_out = tmp_path / "out.csv"
    predict_file(clf, src, csv_out, model_id=model, chunk_rows=10)
    pd.testing.assert_frame_equal(
        pd.read_csv(csv_out)[["id", "prob_pos"]], got[["id", "prob_pos"]].astype({"id": "int64"}), check_dtype=False
    )


def test_a_column_changing_type_in_a_later_chunk_is_named(baseline_run, tmp_path):
    from pipeline.classifiers import load_classifier
    from pipeline.predict import parts_dir, predict_file

    df = reviews_frame(30)
    df["stars"] = df["stars"].astype(object)
    df.loc[25, "stars"] = "ten"
    df.to_csv(tmp_path / "in.csv", index=False)
    out = tmp_path / "out.parquet"
    with pytest.raises(
        DataError, match=r"in.csv: column types change after review 18: 'stars' \(int64 → (large_)?string\)"
    ):
        predict_file(load_classifier(baseline_run), tmp_path / "in.csv", out, model_id={}, chunk_rows=10)
    assert not out.exists() and len(list(parts_dir(out).glob("part-*"))) == 2  # what was scored is kept
    manifest = json.loads((parts_dir(out) / "manifest.json").read_text())
    assert manifest["chunk_rows"] == 10 and manifest["input"]["name"] == "in.csv"


# ---------------------------------------------------------------- Ray Data: the same scores, on an engine


@pytest.fixture(scope="module")
def ray_local():
    """One local Ray for this module's Ray tests (starting one costs tens of seconds): the engine uses the
    session it finds and leaves it running."""
    pytest.importorskip("ray.data", reason="Ray Data is the optional extra: pip install -e '.[ray]'")
    from pipeline.distributed import ray_session

    with ray_session():
        yield


def test_ray_engine_scores_like_the_local_predict(imdb_run, tmp_path, ray_local):
    from pipeline.cli import main

    df = reviews_frame(60).rename(columns={"review": "text"})
    df.insert(0, "id", [f"r{i}" for i in range(len(df))])
    df.to_parquet(tmp_path / "in.parquet")
    argv = ["predict", "--run", str(imdb_run), "--input", str(tmp_path / "in.parquet")]
    assert main([*argv, "--output", str(tmp_path / "local.parquet")]) == 0
    assert main([*argv, "--output", str(tmp_path / "ray"), "--engine", "ray", "--workers", "1"]) == 0
    local = pd.read_parquet(tmp_path / "local.parquet")
    on_ray = pd.read_parquet(tmp_path / "ray")  # a folder of Parquet files, rows in input order
    assert on_ray["id"].tolist() == local["id"].tolist() and len(local) == 57
    assert on_ray["stars"].tolist() == local["stars"].tolist()
    np.testing.assert_allclose(on_ray["prob_pos"], local["prob_pos"], atol=1e-5)
    assert on_ray["pred_label"].tolist() == local["pred_label"].tolist()
    assert not (tmp_path / "ray.partial").exists()


def test_ray_explain_matches_the_local_explain(imdb_run, tmp_path, ray_local):
    """``explain --engine ray``: the rows of the local ``explain --input`` (same tokens, scores, settings), from
    actors that build the run's Explainer once; SHAP kept cheap (40 evaluations on short reviews)."""
    from pipeline.analysis.explain.rows import FILE_COLUMNS
    from pipeline.cli import main
    from pipeline.runs import load_run

    df = reviews_frame(8).rename(columns={"review": "text"})  # rows 4 and 5 are blank: dropped by both
    df.insert(0, "id", [f"r{i}" for i in range(len(df))])
    df.to_parquet(tmp_path / "in.parquet")
    argv = ["explain", "--run", str(imdb_run), "--input", str(tmp_path / "in.parquet"), "--method", "shap"]
    argv += ["--max-evals", "40"]
    assert main([*argv, "--output", str(tmp_path / "local.parquet"), "--chunk-rows", "4"]) == 0
    assert (
        main([*argv, "--output", str(tmp_path / "ray"), "--engine", "ray", "--workers", "1", "--ray-batch", "4"]) == 0
    )
    local = pd.read_parquet(tmp_path / "local.parquet")
    on_ray = pd.read_parquet(tmp_path / "ray")
    assert list(local.columns) == list(on_ray.columns) == list(FILE_COLUMNS)
    assert set(FILE_COLUMNS) - {"id"} <= set(load_run(imdb_run).explanations.columns)  # the run's own format
    assert on_ray["id"].tolist() == local["id"].tolist() == [f"r{i}" for i in (0, 1, 2, 3, 6, 7)]
    for mine, theirs in zip(local.itertuples(), on_ray.itertuples()):
        assert list(theirs.tokens) == list(mine.tokens) and len(mine.tokens) > 5
        np.testing.assert_allclose(theirs.scores, mine.scores, atol=1e-6)
        assert (theirs.method, theirs.settings, theirs.units, theirs.pred) == (
            mine.method,
            mine.settings,
            mine.units,
            mine.pred,
        )
        assert json.loads(mine.settings)["max_evals"] == 40 and mine.method == "shap"
    np.testing.assert_allclose(on_ray["prob_pos"], local["prob_pos"], atol=1e-6)
    np.testing.assert_allclose(on_ray["base_value"], local["base_value"], atol=1e-6)
    assert not (tmp_path / "ray.partial").exists() and not (tmp_path / "local.parquet.parts").exists()


def test_ray_engine_refuses_bad_input_in_one_line(imdb_run, baseline_run, tmp_path, capsys):
    pytest.importorskip("ray.data", reason="Ray Data is the optional extra: pip install -e '.[ray]'")
    from pipeline.cli import main

    reviews_frame(10).to_parquet(tmp_path / "no-id.parquet")
    out = ["--engine", "ray", "--output", str(tmp_path / "o")]
    for command in (["predict", "--run", str(imdb_run), *out], ["explain", "--run", str(imdb_run), *out]):
        assert main([*command, "--input", str(tmp_path / "no-id.parquet")]) == 2
        assert "needs an 'id' column" in capsys.readouterr().err.strip().splitlines()[-1]
        assert main([*command, "--input", str(tmp_path / "missing.parquet")]) == 2
        assert "input file not found" in capsys.readouterr().err
    assert main(["explain", "--run", str(imdb_run), "--engine", "ray"]) == 2  # it explains files, not the run
    assert "give --input and --output" in capsys.readouterr().err
    with_id = tmp_path / "with-id.parquet"
    reviews_frame(10).rename(columns={"review": "text"}).assign(id=range(10)).to_parquet(with_id)
    ig_on_baseline = ["explain", "--run", str(baseline_run), "--input", str(with_id), "--method", "ig", *out]
    assert main(ig_on_baseline) == 2  # refused on the driver, before Ray starts or a model loads
    assert "needs a transformer run" in capsys.readouterr().err
    assert main(["explain", "--run", str(imdb_run), "--input", str(with_id), "--output", str(tmp_path / "x.csv")]) == 2
    assert "explanations are written as Parquet" in capsys.readouterr().err


# ---------------------------------------------------------------- training on several machines: TF_CONFIG


def test_training_strategy_follows_tf_config():
    from pipeline.classifiers.transformer.distribution import DEFAULT, MIRRORED, MULTI_WORKER, worker_role
    from pipeline.errors import ConfigError

    cluster = {"worker": ["host-a:2222", "host-b:2222"]}
    as_worker = lambda i: json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}})
    assert worker_role(0, "").strategy == DEFAULT  # TF_CONFIG unset or empty: the single-machine path
    assert worker_role(2, "").strategy == MIRRORED  # several local GPUs, no cluster
    first, second = worker_role(0, as_worker(0)), worker_role(0, as_worker(1))
    assert (first.strategy, first.workers, first.is_chief) == (MULTI_WORKER, 2, True)
    assert (second.strategy, second.is_chief) == (MULTI_WORKER, False)
    with_chief = {"chief": ["host-c:2222"], **cluster}
    role = worker_role(0, json.dumps({"cluster": with_chief, "task": {"type": "worker", "index": 0}}))
    assert role.workers == 3 and not role.is_chief  # with a chief task, worker 0 is not the chief
    one = json.dumps({"cluster": {"worker": ["localhost:2222"]}, "task": {"type": "worker", "index": 0}})
    assert worker_role(0, one).strategy == DEFAULT  # a one-task TF_CONFIG trains as on one machine
    with pytest.raises(ConfigError, match="TF_CONFIG is not valid"):
        worker_role(0, "{not json")
    with pytest.raises(ConfigError, match="not one of its cluster"):
        worker_role(0, json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 5}}))


def test_evaluate_writes_test_predictions_chunk_by_chunk(imdb_run, tmp_path):
    from pipeline.classifiers import load_classifier
    from pipeline.evaluate import METRIC_COLUMNS, score_to_parquet
    from pipeline.runs import PREDICTION_COLUMNS, load_run

    clf = load_classifier(imdb_run)
    test = load_run(imdb_run).predictions.head(250)[["id", "text", "label", "rating"]]
    out = tmp_path / "predictions.parquet"
    scored = score_to_parquet(clf, test, clf.temperature, out, "test", chunk_rows=100)
    logits, small = scored.logits, scored.metric_columns
    assert (scored.chunks, scored.resumed_chunks) == (3, 0) and not (tmp_path / "predictions.parquet.parts").exists()
    written = pq.ParquetFile(out)
    assert written.metadata.num_row_groups == 3 and written.schema_arrow.names == list(PREDICTION_COLUMNS)
    got = pd.read_parquet(out)
    assert got["id"].tolist() == test["id"].tolist() and list(small.columns) == METRIC_COLUMNS
    np.testing.assert_allclose(got["prob_pos"], clf.prob_positive(test["text"].tolist()), atol=1e-5)
    np.testing.assert_allclose(small["prob_pos"], got["prob_pos"])
    assert logits.shape == (250, 2)


def test_an_interrupted_evaluate_resumes_at_the_first_chunk_not_written(imdb_run, imdb_dir, tmp_path, monkeypatch):
    """Ctrl-C in the real model during the third of four test chunks; ``evaluate --resume`` scores only the
    last two, and the run equals one that was never interrupted."""
    from pipeline.classifiers.transformer.classifier import TFClassifier
    from pipeline.cli import main
    from pipeline.runs import load_run

    real, calls = TFClassifier.logits_from_ids, []

    def counted(self, ids, *args, **kwargs):  # the real model; Ctrl-C arrives on the call named `stop`
        calls.append(len(ids))
        if len(calls) == stop:
            raise KeyboardInterrupt
        return real(self, ids, *args, **kwargs)

    monkeypatch.setattr(TFClassifier, "logits_from_ids", counted)
    models = tmp_path / "models"
    argv = [
        "evaluate", "--model", str(imdb_run / "model"), "--data", str(imdb_dir), "--train-size", "300",
        "--test-size", "200", "--max-length", "64", "--models-dir", str(models), "--no-analysis",
        "--set", "score_chunk_rows=50", "--set", "int8_copy=false",
    ]  # fmt: skip
    stop = 4  # validation, test chunks 1 and 2, then Ctrl-C in chunk 3
    assert main([*argv, "--name", "cut"]) == 130
    parts = models / "cut.partial" / "predictions.parquet.parts"
    assert sorted(p.name for p in parts.glob("part-*")) == ["part-000000.parquet", "part-000001.parquet"]
    manifest = json.loads((parts / "manifest.json").read_text())
    assert manifest["chunk_rows"] == 50 and manifest["test"]["rows"] == 200

    calls.clear()
    stop = None
    assert main([*argv, "--name", "cut", "--resume"]) == 0
    assert calls == [calls[0], 50, 50]  # validation, then only chunks 3 and 4
    resumed = load_run(models / "cut")
    timing = resumed.run_json["timings"]["score_test"]
    assert (timing["chunks"], timing["resumed_chunks"]) == (4, 2)
    assert not parts.exists() and not (models / "cut" / "predictions.parquet.parts").exists()

    assert main([*argv, "--name", "whole"]) == 0
    whole = load_run(models / "whole")
    assert (models / "cut" / "predictions.parquet").read_bytes() == (
        models / "whole" / "predictions.parquet"
    ).read_bytes()
    pd.testing.assert_frame_equal(resumed.predictions, whole.predictions)
    assert resumed.metrics["overall"] == whole.metrics["overall"]
    assert resumed.metrics["calibration"] == whole.metrics["calibration"]
    assert pq.ParquetFile(models / "whole" / "predictions.parquet").metadata.num_row_groups == 4
