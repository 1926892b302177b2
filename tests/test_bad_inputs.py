"""The catalogue of bad inputs: each must be refused or handled with one clear line, no traceback, nothing
half-written, nothing outside the models folder read. One test per finding (issue #14); extend it with every
new way in. Timings are measured in benchmarks/bad_inputs.py, not here; the alarms below only stop a hang."""

import io
import json
import os
import re
import shutil
import signal
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pytest

from pipeline.cli import main
from pipeline.errors import ConfigError, DataError, ModelError, RunError
from pipeline.inputs import CLI_LIMITS, UPLOAD_LIMITS, parse_reviews
from pipeline.runs import PREDICTION_COLUMNS


@contextmanager
def hang_guard(seconds: int):
    """Fail instead of hanging CI for an hour when a quadratic path comes back (not a timing assertion)."""

    def stop(*_):
        raise TimeoutError(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


# ---------------------------------------------------------------- 1. text normalisation is linear


@pytest.mark.parametrize("filler", ["\u2003", "&nbsp;", "\xa0 ", "\u2028"])
def test_long_runs_of_unicode_spaces_are_cleaned_quickly(filler):
    from pipeline.text import clean_text

    text = "good" + filler * 200_000 + "film\n\n  end"
    with hang_guard(60):  # the old regex took ~3 min on 200k em-spaces
        out = clean_text(text)
    assert out.startswith("good") and out.endswith("film\nend")


def test_live_text_area_has_a_length_limit():
    from tests.conftest import ROOT

    source = (ROOT / "dashboard" / "views" / "live.py").read_text()
    assert "max_chars=UPLOAD_LIMITS.max_text_chars" in source


# ---------------------------------------------------------------- 2. uploads: bytes, rows, decoded size, text length


def parquet_bomb(rows: int = 1000, value_mb: int = 20) -> bytes:
    """A ~1 KB Parquet file whose one dictionary value repeats: ~20 GB of text once decoded."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    big = pa.array(["x" * (value_mb * 1024 * 1024)])
    col = pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, dtype=np.int32)), big)
    buf = io.BytesIO()
    pq.write_table(pa.table({"text": col}), buf, compression="zstd", compression_level=22)
    return buf.getvalue()


@pytest.mark.parametrize("limits", [UPLOAD_LIMITS, CLI_LIMITS])
def test_parquet_decompression_bomb_is_refused_before_decoding(limits):
    raw = parquet_bomb()
    assert len(raw) < 10_000
    with hang_guard(60), pytest.raises(DataError, match="decodes to more than"):
        parse_reviews(raw, "bomb.parquet", limits)


def test_bomb_through_the_predict_command(tmp_path, capsys):
    (tmp_path / "bomb.parquet").write_bytes(parquet_bomb())
    run = tmp_path / "run"
    (run / "model").mkdir(parents=True)
    (run / "COMPLETE").write_text("x")
    rc = main(
        ["predict", "--run", str(run), "--input", str(tmp_path / "bomb.parquet"), "--output", str(tmp_path / "o.csv")]
    )
    assert rc == 2 and "decodes to more than" in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()


def test_upload_limits_on_bytes_rows_and_text_length():
    small = UPLOAD_LIMITS.__class__(max_bytes=10_000, max_rows=3, max_decoded_bytes=10_000, max_text_chars=50)
    with pytest.raises(DataError, match="limit is"):
        parse_reviews(b"text\n" + b"a,\n" * 6000, "big.csv", small)
    df = parse_reviews(b"text\none\ntwo\nthree\nfour\nfive\n", "r.csv", small)
    assert df["text"].tolist() == ["one", "two", "three"] and df.attrs["rows_dropped"]
    with pytest.raises(DataError, match="row 2 is 60 characters"):
        parse_reviews(("text\nok\n" + "y" * 60 + "\n").encode(), "r.csv", small)
    buf = io.BytesIO()
    pd.DataFrame({"text": [f"review {i}" for i in range(10)]}).to_parquet(buf)
    df = parse_reviews(buf.getvalue(), "r.parquet", small)
    assert len(df) == 3 and df.attrs["rows_dropped"]


# ---------------------------------------------------------------- 3. nothing outside the run folder is read


@pytest.fixture()
def fake_run(tmp_path):
    """A complete-looking run folder (no model) with a secret file outside it."""
    models = tmp_path / "models"
    run = models / "r1"
    run.mkdir(parents=True)
    pd.DataFrame({c: [] for c in PREDICTION_COLUMNS}).to_parquet(run / "predictions.parquet")
    (run / "metrics.json").write_text(json.dumps({"overall": {"accuracy": 0.5, "n": 0}}))
    (run / "run.json").write_text(json.dumps({"config": {}, "created": "2026"}))
    (run / "README.md").write_text("card")
    (run / "COMPLETE").write_text("x")
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET=hunter2")
    return models, run, secret


def test_symlinked_model_card_is_refused(fake_run):
    from pipeline.runs import list_runs, load_run

    models, run, secret = fake_run
    (run / "README.md").unlink()
    (run / "README.md").symlink_to("/proc/self/environ")
    [info] = list_runs(models)
    assert not info.ok and "outside the run folder" in info.reason
    with pytest.raises(RunError, match="outside the run folder"):
        load_run(run)


def test_symlinked_optional_file_and_run_folder_are_refused(fake_run, tmp_path):
    from pipeline.runs import list_runs, load_run

    models, run, secret = fake_run
    (run / "tags.json").symlink_to(secret)
    with pytest.raises(RunError, match="tags.json points outside"):
        load_run(run)
    (run / "tags.json").unlink()
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(run, elsewhere)
    (models / "linked").symlink_to(elsewhere)
    infos = {i.name: i for i in list_runs(models)}
    assert not infos["linked"].ok and "outside the models folder" in infos["linked"].reason
    assert infos["r1"].ok


def test_symlink_inside_the_model_folder_is_refused(fake_run):
    from pipeline.classifiers import load_classifier

    models, run, secret = fake_run
    (run / "model").mkdir()
    (run / "model" / "config.json").symlink_to(secret)
    with pytest.raises(RunError, match="outside the run folder"):
        load_classifier(run)


# ---------------------------------------------------------------- 4. one escaping rule for user strings


def rendered(markdown_text: str) -> str:
    from markdown_it import MarkdownIt

    return MarkdownIt("gfm-like").render(markdown_text)


@pytest.mark.parametrize(
    "evil",
    [
        "[click](http://evil.example)",
        "![x](http://evil.example/a.png)",
        "<img src=x onerror=alert(1)>",
        "http://evil.example/path",
        "**bold** `code`",
        ":red[alarm] :material/home:",
    ],
)
def test_markdown_escape_leaves_no_link_image_or_html(evil):
    from pipeline.render import md_escape

    html_out = rendered(f"Review {md_escape(evil)} is not in run")
    assert not re.search(r"<(a|img|strong|code)\b", html_out), html_out
    assert ":red[" not in md_escape(evil)


def test_tooltip_units_are_escaped():
    from pipeline.analysis.explain import Attribution
    from pipeline.render import attribution_html

    out = attribution_html(Attribution(["ok"], [0.1], 0.0, 0.6, "shap", units='x" onmouseover="alert(1)'))
    assert 'onmouseover="alert' not in out and "&quot; onmouseover=&quot;" in out


def test_dashboard_never_renders_run_fields_as_markdown():
    """Every user-controlled string in the dashboard goes through md_escape or a non-Markdown element."""
    from tests.conftest import ROOT

    overview = (ROOT / "dashboard" / "views" / "overview.py").read_text()
    errors = (ROOT / "dashboard" / "views" / "errors.py").read_text()
    assert "st.markdown(card)" not in overview and "st.code(card" in overview
    assert "Review {md(selected)}" in errors and "`{selected}`" not in errors


# ---------------------------------------------------------------- 6. configuration (one place, typed errors)


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"epochs": [1, 2]}, "epochs", "whole number"),
        ({"epochs": "abc"}, "epochs", "whole number"),
        ({"learning_rate": float("nan")}, "learning_rate", "finite"),
        ({"learning_rate": "nan"}, "learning_rate", "finite"),
        ({"max_length": 300.5}, "max_length", "whole number"),
        ({"max_length": 600}, "max_length", "between 8 and 512"),
        ({"checkpoint_every": -3}, "checkpoint_every", "≥ 0"),
        ({"train_size": "-5"}, "train_size", "positive"),
        ({"calibrate": "maybe"}, "calibrate", "true or false"),
        ({"truncation": "middle"}, "truncation", "one of"),
        ({"name": "../escape"}, "name", "letters, digits"),
        ({"bucket_boundaries": "64,32"}, "bucket_boundaries", "increasing"),
        ({"warmup_ratio": 1.5}, "warmup_ratio", "[0, 1)"),
        ({"no_such_field": 1}, "no_such_field", "unknown config field"),
    ],
)
def test_config_errors_name_the_field(overrides, field, message):
    from pipeline.config import resolve_config

    with pytest.raises(ConfigError, match=re.escape(message)) as err:
        resolve_config("demo", overrides=overrides)
    assert err.value.field == field and str(err.value).startswith(f"{field}: ")


def test_config_is_checked_after_replace_and_from_files(tmp_path):
    import dataclasses

    from pipeline.config import resolve_config

    cfg = resolve_config("demo", overrides={"train_size": "all", "calibrate": "no", "learning_rate": "3e-5"})
    assert cfg.train_size is None and cfg.calibrate is False and cfg.learning_rate == 3e-5
    with pytest.raises(ConfigError, match="epochs"):
        dataclasses.replace(cfg, epochs=0)
    bad = tmp_path / "bad.yaml"
    bad.write_text("epochs: [1, 2]\n")
    with pytest.raises(ConfigError, match="epochs: expected a whole number"):
        resolve_config("demo", str(bad))


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["run", "--set", "epochs=abc"], "error: epochs: expected a whole number, got 'abc'"),
        (["run", "--set", "calibrate=maybe"], "error: calibrate: expected true or false, got 'maybe'"),
        (
            ["run", "--set", "train_size=-5"],
            "error: train_size: must be a positive number of reviews or none (all), got -5",
        ),
    ],
)
def test_cli_reports_config_errors_in_one_line(argv, expected, tmp_path, capsys):
    assert main(argv + ["--models-dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [expected]
    assert list(tmp_path.iterdir()) == []


def test_cli_reports_os_errors_in_one_line(tmp_path, capsys):
    (tmp_path / "cfg.yaml").write_text("epochs: 1\n")
    os.chmod(tmp_path / "cfg.yaml", 0)
    if os.access(tmp_path / "cfg.yaml", os.R_OK):  # root reads anything: use a folder as the file instead
        (tmp_path / "cfg.yaml").unlink()
        (tmp_path / "cfg.yaml").mkdir()
    rc = main(["run", "--config", str(tmp_path / "cfg.yaml"), "--models-dir", str(tmp_path / "m")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and err[0].startswith("error: ") and "Traceback" not in err[0]


# ---------------------------------------------------------------- 7. a failed start leaves no folder behind


def test_bad_data_leaves_no_partial_run(tmp_path, capsys):
    for _ in range(2):  # the retry must get the same clear error, not "an interrupted run exists"
        rc = main(["run", "--name", "x", "--data", str(tmp_path / "nope"), "--models-dir", str(tmp_path / "m")])
        assert rc == 2 and "data folder not found" in capsys.readouterr().err
    assert not (tmp_path / "m" / "x.partial").exists()


# ---------------------------------------------------------------- 9. writes into a run do not reload its model


def test_model_cache_key_ignores_analysis_writes(fake_run):
    from dashboard.state import _stamp, model_stamp

    models, run, _ = fake_run
    (run / "model").mkdir()
    (run / "model" / "config.json").write_text("{}")
    before_model, before_data = model_stamp(run), _stamp(run)
    later = os.stat(run).st_mtime + 100
    (run / "explanations.parquet").write_text("x")
    os.utime(run / "explanations.parquet", (later, later))
    assert model_stamp(run) == before_model and _stamp(run) > before_data
    os.utime(run / "model" / "config.json", (later, later))
    assert model_stamp(run) > before_model


# ---------------------------------------------------------------- 10. ratings, CSV formulas, locks, remote code


def test_ratings_outside_int8_do_not_wrap(tmp_path):
    from pipeline.data import load_raw

    for split in ("train", "test"):
        pd.DataFrame({"text": ["a b c"] * 3, "label": [0, 1, 1], "rating": [200, 7, 3.5]}).to_parquet(
            tmp_path / f"{split}.parquet"
        )
    frames, _ = load_raw(str(tmp_path))
    assert frames["test"]["rating"].tolist() == [200, 7, -1]  # 3.5 is not a star rating: unknown


def test_csv_exports_defuse_formulas(tmp_path, imdb_run):
    from pipeline.render import csv_safe

    text = csv_safe(pd.DataFrame({"text": ['=HYPERLINK("http://x","y")', "+1", "fine"], "n": [1, 2, 3]}))
    cells = pd.read_csv(io.StringIO(text))["text"].tolist()
    assert cells == ['\'=HYPERLINK("http://x","y")', "'+1", "fine"]
    (tmp_path / "in.csv").write_text("text\n\"=cmd|' /C calc'!A0\"\n")
    assert (
        main(
            [
                "predict",
                "--run",
                str(imdb_run),
                "--input",
                str(tmp_path / "in.csv"),
                "--output",
                str(tmp_path / "out.csv"),
            ]
        )
        == 0
    )
    assert pd.read_csv(tmp_path / "out.csv")["text"][0].startswith("'=")


def test_two_writers_of_one_run_are_refused(tmp_path):
    import multiprocessing as mp

    from pipeline.atomic import run_lock

    with run_lock(tmp_path, "explaining"):
        ctx = mp.get_context("spawn")
        with ctx.Pool(1) as pool:
            err = pool.apply(_try_lock, (str(tmp_path),))
    assert "another process (pid" in err and "explaining" in err
    with run_lock(tmp_path, "tagging"):  # released when its holder is done
        pass


def _try_lock(folder: str) -> str:
    from pipeline.atomic import run_lock

    try:
        with run_lock(folder, "tagging"):
            return "acquired"
    except RunError as exc:
        return str(exc)


def test_checkpoint_asking_for_remote_code_is_refused_without_prompt(tmp_path, monkeypatch):
    from pipeline.classifiers.transformer.checkpoint import load_model

    (tmp_path / "config.json").write_text(
        json.dumps(
            {
                "model_type": "bert",
                "auto_map": {"AutoConfig": "evil.EvilConfig", "TFAutoModelForSequenceClassification": "evil.EvilModel"},
            }
        )
    )
    (tmp_path / "evil.py").write_text("raise SystemExit('remote code ran')\n")
    (tmp_path / "tf_model.h5").write_bytes(b"")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # a prompt would read here and fail differently
    with pytest.raises(ModelError):
        load_model(str(tmp_path))


# ---------------------------------------------------------------- 5. a second attribution method keeps the first's rows


def test_explain_with_another_method_keeps_the_stored_rows(synthetic_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(synthetic_run, run)
    base = ["explain", "--run", str(run), "--errors", "2", "--correct", "1"]
    assert main(base + ["--method", "shap", "--max-evals", "60"]) == 0
    assert main(base + ["--method", "grad"]) == 0
    assert main(base + ["--method", "grad"]) == 0  # resumable: nothing new, nothing lost
    ex = pd.read_parquet(run / "explanations.parquet")
    preds = pd.read_parquet(run / "predictions.parquet")
    expected = min(2, int((~preds["correct"]).sum())) + 1  # the model is near-perfect: maybe fewer than 2 errors
    assert ex.groupby("method")["id"].nunique().to_dict() == {"grad": expected, "shap": expected}
    assert len(ex) == 2 * expected


# ---------------------------------------------------------------- 11. files as people save them (session 23)


def test_semicolon_and_pipe_csv_files_are_read_by_their_header():
    """A spreadsheet in many locales saves ';'; the header line decides, for whole and streamed reads alike."""
    from pipeline.inputs import separator

    for sep in (";", "|", "\t"):
        raw = f"text{sep}label\nGreat, truly great{sep}1\nAwful{sep}0\n".encode()
        df = parse_reviews(raw, "x.csv")
        assert df["text"].tolist() == ["Great, truly great", "Awful"] and df["label"].tolist() == [1, 0]
    assert separator("text,label", ".csv") == "," and separator("text", ".csv") == ","
    assert separator("a,b;c", ".csv") == ","  # the suffix's own separator wins when the header has it
    assert separator("text,label", ".tsv") == "," and separator("text\tlabel", ".tsv") == "\t"


def test_streamed_semicolon_csv_matches_a_whole_read(tmp_path):
    from pipeline.inputs import iter_reviews_file

    (tmp_path / "s.csv").write_text("text;stars\nGood film;5\nBad film;1\nOk;3\n")
    chunks = [df for _, df in iter_reviews_file(tmp_path / "s.csv", chunk_rows=2)]
    assert pd.concat(chunks)["text"].tolist() == ["Good film", "Bad film", "Ok"]


def test_bad_jsonl_line_and_non_utf8_say_where_and_how_to_fix(tmp_path):
    from pipeline.inputs import iter_reviews_file

    raw = b'{"text": "fine"}\n\n{not json\n{"text": "never read"}\n'
    with pytest.raises(DataError, match=r"line 3 is not a JSON object: '\{not json'"):
        parse_reviews(raw, "x.jsonl")
    (tmp_path / "x.jsonl").write_bytes(raw)
    with pytest.raises(DataError, match="line 3 is not a JSON object"):
        list(iter_reviews_file(tmp_path / "x.jsonl"))
    with pytest.raises(DataError, match="bad byte at position 9.*save it as UTF-8"):
        parse_reviews('text\n"Caf\xe9 au lait"\n'.encode("latin-1"), "x.csv")


def test_keep_empty_gives_every_row_back_in_its_place():
    raw = b"text,n\nfirst,1\n,2\n   ,3\nlast,4\n"
    assert parse_reviews(raw, "x.csv")["n"].tolist() == [1, 4]  # scoring drops rows with no text
    kept = parse_reviews(raw, "x.csv", keep_empty=True)
    assert kept["n"].tolist() == [1, 2, 3, 4] and kept["id"].tolist() == ["0", "1", "2", "3"]
    assert kept["text"].tolist() == ["first", "", "   ", "last"]
    with pytest.raises(DataError, match="no non-empty reviews"):
        parse_reviews(b"text\n \n\n", "x.csv", keep_empty=True)


def test_upload_scoring_leaves_blank_rows_unscored_in_place(baseline_run):
    from pipeline.classifiers import load_classifier, score_texts
    from pipeline.predict import score_rows

    clf = load_classifier(baseline_run)
    df = parse_reviews(b"text,n\nA superb film.,1\n ,2\nDull and awful.,3\n", "x.csv", UPLOAD_LIMITS, keep_empty=True)
    probs = score_rows(clf, df)
    assert np.isnan(probs[1]) and not np.isnan(probs[[0, 2]]).any()
    assert np.allclose(probs[[0, 2]], score_texts(clf, ["A superb film.", "Dull and awful."], 64))


def test_tag_file_keeps_every_row_reads_partial_labels_and_refuses_its_input(imdb_run, tmp_path):
    """Rows with no text come back untagged in their place; label issues are found among the labelled rows only
    (a NaN label once crashed cleanlab and lost the whole file); the input is never overwritten."""
    from pipeline.analysis.tags.runner import tag_file

    texts = ["A wonderful, moving film.", "", "Dull, boring and far too long.", "Great acting, great story."]
    texts += ["Awful. I walked out.", "   ", "Not bad at all, I enjoyed it.", "The worst film this year."]
    src = pd.DataFrame({"text": texts, "label": [1, 1, 0, 1, 0, 0, None, "neg"], "mine": range(8)})
    src.to_csv(tmp_path / "in.csv", index=False)
    out = tag_file(imdb_run, tmp_path / "in.csv", tmp_path / "out.csv", ["label_issue", "negation"])
    back = pd.read_csv(tmp_path / "out.csv")
    assert len(out) == len(back) == 8 and back["mine"].tolist() == list(range(8))
    blank = back["tag_note"] == "empty text: not tagged"
    assert blank.tolist() == [False, True, False, False, False, True, False, False]
    assert back.loc[blank, ["negation", "label_issue"]].isna().all().all()
    assert back.loc[~blank, "negation"].notna().all()
    unlabelled = back["label_issue_note"] == "not computed: no label on this row"
    assert back.index[unlabelled].tolist() == [6]  # row 7's 'neg' is a label
    scored = ~blank & ~unlabelled
    assert back.loc[scored, "label_issue"].notna().all() and back.loc[scored, "label_issue_quality"].between(0, 1).all()
    with pytest.raises(ValueError, match="is the input file"):
        tag_file(imdb_run, tmp_path / "in.csv", tmp_path / "." / "in.csv", ["negation"])
    assert (tmp_path / "in.csv").read_text() == src.to_csv(index=False)  # the input file is untouched
