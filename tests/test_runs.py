"""Run folders end to end: run/evaluate/predict/baseline through the CLI, schema, atomicity, errors."""

import json

import numpy as np
import pandas as pd
import pytest

from pipeline import runs as R
from pipeline.atomic import atomic_write_json
from pipeline.classifiers import load_classifier
from pipeline.classifiers.sources import MINILM_ALIAS, load_tokenizer
from pipeline.classifiers.transformer.batching import batches_per_epoch
from pipeline.cli import main
from pipeline.config import PRESETS, resolve_config
from pipeline.metrics import expected_calibration_error, fit_temperature
from pipeline.run_writer import RunWriter
from pipeline.tokens import encode


def test_run_folder_schema(imdb_run):
    files = {p.name for p in imdb_run.iterdir()}
    assert {"model", "predictions.parquet", "metrics.json", "run.json", "README.md", "COMPLETE"} <= files
    assert "checkpoints" not in files  # training state is dropped from a finished run
    preds = pd.read_parquet(imdb_run / "predictions.parquet")
    assert list(preds.columns) == list(R.PREDICTION_COLUMNS)
    assert len(preds) == 300 and preds["id"].is_unique
    assert ((preds["prob_pos"] >= 0.5) == (preds["pred"] == 1)).all()
    assert (preds["correct"] == (preds["pred"] == preds["label"])).all()
    assert np.allclose(preds["confidence"], np.maximum(preds["prob_pos"], 1 - preds["prob_pos"]))
    assert (preds["truncated"] == (preds["n_tokens"] > 64)).all()
    m = json.loads((imdb_run / "metrics.json").read_text())
    o = m["overall"]
    assert o["accuracy"] == pytest.approx(preds["correct"].mean())
    assert sum(o["confusion_matrix"].values()) == 300
    for k in ("precision", "recall", "f1", "roc_auc", "log_loss", "brier", "ece"):
        assert o[k] is not None
    assert set(m["slices"]) == {"length", "truncated", "rating"}
    assert m["calibration"]["temperature"] > 0
    run = json.loads((imdb_run / "run.json").read_text())
    assert run["config"]["max_length"] == 64 and run["versions"]["tensorflow"]
    assert run["data"]["test"]["rows"] == 300 and len(run["data"]["test"]["sha256"]) == 16
    assert run["best_epoch"] in (1, 2, 3) and len(run["history"]["val_accuracy"]) == 3
    assert o["accuracy"] > 0.6  # the tiny model learned something
    assert run["timings"]["train"]["samples_per_s"] > 0 and run["hardware"]["cores"] >= 1
    card = (imdb_run / "README.md").read_text()
    assert card.startswith("---\n") and "model-index:" in card and "accuracy" in card
    info = R.inspect_run(imdb_run)
    assert info.ok and info.accuracy == pytest.approx(o["accuracy"])


def test_saved_model_loads_with_auto_class_and_predicts_like_the_run(imdb_run):
    from transformers import TFAutoModelForSequenceClassification

    mdl = TFAutoModelForSequenceClassification.from_pretrained(str(imdb_run / "model"))
    assert mdl.config.id2label[1] == "positive"
    clf = load_classifier(imdb_run)
    preds = pd.read_parquet(imdb_run / "predictions.parquet").head(20)
    np.testing.assert_allclose(clf.prob_positive(preds["text"].tolist()), preds["prob_pos"], atol=2e-4)


def test_crash_never_leaves_a_run_that_looks_whole(tmp_path):
    w = RunWriter(tmp_path, "half")
    w.write_json("run.json", {"config": {}})
    with pytest.raises(R.RunError, match="missing"):
        w.finish()
    assert not (tmp_path / "half").exists()
    [info] = R.list_runs(tmp_path)
    assert not info.ok and "incomplete" in info.reason
    with pytest.raises(R.RunError, match="--resume"):
        RunWriter(tmp_path, "half")
    with pytest.raises(R.RunError, match="incomplete"):
        R.load_run(tmp_path / "half.partial")


def test_broken_runs_are_listed_with_reasons(tmp_path, imdb_run):
    import shutil

    shutil.copytree(imdb_run, tmp_path / "gone", ignore=shutil.ignore_patterns("model"))
    (tmp_path / "gone" / "metrics.json").unlink()
    shutil.copytree(imdb_run, tmp_path / "garbled", ignore=shutil.ignore_patterns("model"))
    (tmp_path / "garbled" / "run.json").write_text("{not json")
    shutil.copytree(imdb_run, tmp_path / "good", ignore=shutil.ignore_patterns("model"))
    infos = {i.name: i for i in R.list_runs(tmp_path)}
    assert infos["good"].ok
    assert "missing metrics.json" in infos["gone"].reason
    assert "unreadable" in infos["garbled"].reason
    assert list(infos)[0] == "good"  # usable runs first


def test_atomic_write_leaves_old_file_on_failure(tmp_path):
    p = tmp_path / "x.json"
    atomic_write_json(p, {"a": 1})
    with pytest.raises(TypeError):
        atomic_write_json(p, {"a": object()})
    assert json.loads(p.read_text()) == {"a": 1}
    assert [f.name for f in tmp_path.iterdir()] == ["x.json"]


def test_evaluate_existing_model_folder(imdb_run, imdb_dir, models_dir):
    rc = main(
        [
            "evaluate",
            "--model",
            str(imdb_run / "model"),
            "--data",
            str(imdb_dir),
            "--test-size",
            "200",
            "--train-size",
            "400",
            "--max-length",
            "64",
            "--name",
            "eval-fixture",
            "--models-dir",
            str(models_dir),
            "--no-analysis",
        ]
    )
    assert rc == 0
    run = R.load_run(models_dir / "eval-fixture")
    assert run.run_json["kind"] == "evaluated" and len(run.predictions) == 200
    assert run.metrics["overall"]["n"] == 200
    # --no-analysis: no tags, behavioural tests or explanations, no analysis timings
    assert run.tags is None and run.tag_stats is None and run.behavior is None and run.explanations is None
    assert not {"tag", "behave", "explain"} & set(run.run_json["timings"])


def test_predict_scores_a_file(imdb_run, tmp_path, capsys):
    src = tmp_path / "in.csv"
    pd.DataFrame({"review": ["Loved it, superb!", "Awful. Boring.", "  "], "who": ["a", "b", "c"]}).to_csv(
        src, index=False
    )
    out = tmp_path / "out.parquet"
    assert main(["predict", "--run", str(imdb_run), "--input", str(src), "--output", str(out)]) == 0
    df = pd.read_parquet(out)
    assert len(df) == 2 and set(df.columns) >= {"id", "review", "who", "prob_pos", "pred", "pred_label"}
    assert "text" not in df and df["review"].tolist() == ["Loved it, superb!", "Awful. Boring."]  # the file's name
    assert df["prob_pos"].between(0, 1).all()
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe\x00bad")
    assert main(["predict", "--run", str(imdb_run), "--input", str(bad), "--output", str(out)]) == 2
    assert "error:" in capsys.readouterr().err


def test_baseline_run(baseline_run):
    run = R.load_run(baseline_run)
    assert run.run_json["kind"] == "baseline" and (baseline_run / "baseline" / "model.skops").is_file()
    assert run.metrics["overall"]["accuracy"] > 0.7  # 1,800 training reviews are enough for TF-IDF
    clf = load_classifier(baseline_run)
    p = clf.prob_positive(["An absolutely wonderful, moving film. Superb acting.", "Awful, boring, a waste of time."])
    assert p[0] > 0.5 > p[1]


def test_cli_errors_are_one_line(capsys, tmp_path):
    assert main(["run", "--data", str(tmp_path / "missing"), "--models-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: data folder not found") and "Traceback" not in err
    assert main(["run", "--set", "nonsense=1", "--models-dir", str(tmp_path)]) == 2
    assert "unknown config field" in capsys.readouterr().err
    assert main(["run", "--max-length", "4000", "--models-dir", str(tmp_path)]) == 2
    assert "max_length" in capsys.readouterr().err


def test_config_layers(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("epochs: 2\nlearning_rate: 3.0e-5\n")
    cfg = resolve_config("seed", str(f), {"batch_size": "4", "truncation": None})
    assert (cfg.model, cfg.max_length, cfg.truncation) == ("bert-base-uncased", 128, "head")
    assert (cfg.epochs, cfg.learning_rate, cfg.batch_size) == (2, 3e-5, 4)
    t = tmp_path / "c.toml"
    t.write_text('truncation = "tail"\n')
    assert resolve_config("best", str(t)).truncation == "tail"
    assert PRESETS["best"]["max_length"] == 512


def test_temperature_scaling_reduces_ece():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 5000)
    true_margin = np.where(y == 1, 1.0, -1.0) + rng.normal(0, 1.2, 5000)
    logits = np.stack([np.zeros(5000), true_margin * 4], 1)  # overconfident by 4x
    t = fit_temperature(logits, y)
    # Bayes-optimal log-odds are 2m/σ² = 1.39 m, so the right temperature is 4 / 1.39 = 2.88
    assert abs(t - 4 * 1.2**2 / 2) < 0.25
    p_raw = 1 / (1 + np.exp(-logits[:, 1]))
    p_cal = 1 / (1 + np.exp(-logits[:, 1] / t))
    assert expected_calibration_error(y, p_cal) < expected_calibration_error(y, p_raw) / 3


def tiny_training(imdb_dir, **overrides):
    """A tiny random BERT on 200 IMDB reviews, 32 tokens: fast enough to interrupt and resume."""
    from pipeline.data import load_splits

    cfg = resolve_config(
        "demo",
        overrides={
            "model": "tiny-random",
            "train_size": 200,
            "test_size": 50,
            "max_length": 32,
            "learning_rate": 1e-3,
            **overrides,
        },
    )
    return cfg, load_splits(str(imdb_dir), 200, 50, 0.1, cfg.seed)


@pytest.mark.slow
def test_interrupted_training_resumes_from_checkpoint(imdb_dir, tmp_path):
    """Ctrl-C in epoch 2 keeps the epoch-1 checkpoint; --resume trains only what is left."""
    import tensorflow as tf

    from pipeline.classifiers.transformer.train import fine_tune

    cfg, splits = tiny_training(imdb_dir, epochs=2, checkpoint_every=0)

    class Interrupt(tf.keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fine_tune(cfg, splits, tmp_path, extra_callbacks=[Interrupt()])
    assert any((tmp_path / "checkpoints" / "backup").iterdir())
    _, info = fine_tune(cfg, splits, tmp_path, resume=True)
    assert len(info["history"]["loss"]) == 1  # only epoch 2 was left to train
    _, fresh = fine_tune(cfg, splits, tmp_path / "fresh")
    assert len(fresh["history"]["loss"]) == 2 and fresh["resumed_from_checkpoint"] is False


@pytest.mark.slow
def test_training_resumes_from_the_middle_of_an_epoch(imdb_dir, tmp_path):
    """A crash between step checkpoints: --resume skips the batches already trained in that epoch."""
    import tensorflow as tf

    from pipeline.classifiers.transformer.train import fine_tune

    cfg, splits = tiny_training(imdb_dir, epochs=1, batch_size=16, checkpoint_every=4)

    class Crash(tf.keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            if batch == 9:
                raise KeyboardInterrupt

    class CountBatches(tf.keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.n = 0

        def on_train_batch_end(self, batch, logs=None):
            self.n += 1

    with pytest.raises(KeyboardInterrupt):
        fine_tune(cfg, splits, tmp_path, extra_callbacks=[Crash()])
    counter = CountBatches()
    _, info = fine_tune(cfg, splits, tmp_path, resume=True, extra_callbacks=[counter])
    total = batches_per_epoch(
        encode(splits.train["text"], load_tokenizer(MINILM_ALIAS), cfg.truncation_spec).ids, 16, cfg.bucket_boundaries
    )
    assert counter.n == total - 8  # the last checkpoint was after batch 8; the rest of the epoch ran
    assert info["resumed_from_checkpoint"] is True
    assert info["train"]["samples"] == counter.n * 16 < len(splits.train)  # only what this process trained
    assert len(info["history"]["loss"]) == 1


@pytest.mark.slow
def test_train_then_evaluate(imdb_dir, tmp_path):
    out = tmp_path / "m"
    assert (
        main(
            [
                "train",
                "--model",
                "tiny-random",
                "--data",
                str(imdb_dir),
                "--train-size",
                "200",
                "--max-length",
                "32",
                "--output",
                str(out),
                "--set",
                "checkpoint_every=0",
            ]
        )
        == 0
    )
    stored = json.loads((out / "training.json").read_text())
    assert stored["config"]["max_length"] == 32 and (out / "tf_model.h5").is_file()
    assert (
        main(
            [
                "evaluate",
                "--model",
                str(out),
                "--data",
                str(imdb_dir),
                "--test-size",
                "60",
                "--train-size",
                "200",
                "--name",
                "ev",
                "--models-dir",
                str(tmp_path),
                "--no-analysis",
            ]
        )
        == 0
    )
    run = R.load_run(tmp_path / "ev")
    assert run.config["max_length"] == 32  # input settings come from training.json
    assert len(run.predictions) == 60


@pytest.mark.slow
def test_seed_preset_runs_on_a_bert_base_shaped_checkpoint(imdb_dir, tmp_path):
    """The `seed` preset (bert-base-uncased, 128 tokens, Adam 5e-5, batch 8) end to end but for the download:
    a randomly initialised model of bert-base's exact shape, saved as the hub would serve it (tf_model.h5 + the
    uncased vocab), trained for a few steps, scored and published."""
    import shutil

    from transformers import BertConfig, TFBertForSequenceClassification

    from pipeline.classifiers.sources import packaged_minilm_dir

    ckpt = tmp_path / "bert-base-uncased"
    model = TFBertForSequenceClassification(BertConfig())  # bert-base defaults: 12 layers, 768 hidden, 30,522 vocab
    model(model.dummy_inputs)
    model.save_pretrained(str(ckpt))
    for f in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(packaged_minilm_dir() / f, ckpt / f)
    assert (ckpt / "tf_model.h5").is_file() and model.count_params() > 100_000_000
    rc = main(
        [
            "run",
            "--preset",
            "seed",
            "--model",
            str(ckpt),
            "--data",
            str(imdb_dir),
            "--train-size",
            "48",
            "--test-size",
            "16",
            "--epochs",
            "1",
            "--name",
            "seed-smoke",
            "--models-dir",
            str(tmp_path / "m"),
            "--set",
            "int8_copy=false",  # converting bert-base to int8 alone takes ~95 s; the int8 path is tested on MiniLM
            "--no-challenge",  # ~7k challenge texts through bert-base would add minutes; tested on the tiny model
            "--no-analysis",  # SHAP through bert-base would add minutes; tested on the tiny model
        ]
    )
    assert rc == 0
    run = R.load_run(tmp_path / "m" / "seed-smoke")
    cfg = run.config
    assert (cfg["preset"], cfg["max_length"], cfg["truncation"], cfg["optimizer"], cfg["batch_size"]) == (
        "seed",
        128,
        "head",
        "adam",
        8,
    )
    assert run.run_json["model_facts"]["layers"] == 12 and run.run_json["model_facts"]["hidden"] == 768
    assert len(run.predictions) == 16 and run.predictions["truncated"].any()  # 128 tokens truncate IMDB reviews
    assert not (tmp_path / "m" / "seed-smoke" / "model" / "int8.tflite").exists()
    clf = load_classifier(tmp_path / "m" / "seed-smoke")
    assert clf.prob_positive(["a fine film"]).shape == (1,)
