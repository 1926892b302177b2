"""Error-tag detectors on hand-written examples (with near misses), registry, lift, behavioural runner."""

import json

import pandas as pd
import pytest

from pipeline.analysis import tags as T
from pipeline.analysis.behavior import run_behavior, swap_names, typo


def frame(texts, **cols) -> pd.DataFrame:
    n = len(texts)
    base = {
        "id": [f"r{i}" for i in range(n)],
        "text": texts,
        "label": [1] * n,
        "rating": [8] * n,
        "prob_pos": [0.9] * n,
        "pred": [1] * n,
        "correct": [True] * n,
        "confidence": [0.9] * n,
        "n_tokens": [50] * n,
        "truncated": [False] * n,
    }
    base.update(cols)
    return pd.DataFrame(base)


def detect(name, texts, **kw):
    ctx = T.TagContext(frame(texts), **kw)
    return T.REGISTRY[name]().detect(ctx)[name].tolist()


def test_registry_has_every_required_tag_with_docs():
    need = {
        "sarcasm_cues",
        "negation",
        "contrast",
        "mixed_sentiment",
        "truncated_verdict",
        "suspected_label_noise",
        "duplicate",
        "short",
        "long",
        "mild_rating",
        "extreme_rating",
    }
    assert need <= set(T.REGISTRY)
    for cls in T.REGISTRY.values():
        assert cls.description and cls.rule and cls.name


def test_sarcasm_cues():
    hits = [
        "Oh great, another remake. Yeah right, best film ever.",
        "The 'brilliant' script had me checking my watch. Terrible, awful, boring, dreadful.",
        "Who thought this was a good idea?!? Bravo, Hollywood.",
    ]
    misses = [
        "A great film with a brilliant script.",  # sincere praise
        "I loved it. Right from the start it was gripping.",  # 'right' without 'yeah'
        "Why does the hero leave? The film answers it in a great final scene.",
    ]  # one genuine question
    assert detect("sarcasm_cues", hits) == [True, True, True]
    assert detect("sarcasm_cues", misses) == [False, False, False]


def test_negation():
    assert detect(
        "negation",
        ["This was not good.", "It is never boring.", "Hardly worth the ticket.", "I wasn't bored for a second."],
    ) == [True, True, True, True]
    assert detect("negation", ["Not a single scene was shot indoors.", "Good, never mind the budget.", "No."]) == [
        False,
        False,
        False,
    ]


def test_contrast():
    assert detect(
        "contrast",
        [
            "The acting is superb, but the plot is boring and dull.",
            "Although the script is weak, the cast is wonderful.",
        ],
    ) == [True, True]
    assert detect(
        "contrast",
        [
            "The acting is superb, but the music is also wonderful.",  # same polarity
            "But then the credits rolled.",
        ],
    ) == [False, False]


def test_rating_length_and_label_noise_tags():
    df = frame(
        ["a", "b", "c", "d"],
        rating=[1, 4, 7, 10],
        n_tokens=[20, 120, 300, 900],
        label=[0, 0, 1, 1],
        pred=[0, 1, 1, 0],
        prob_pos=[0.1, 0.99, 0.9, 0.4],
        correct=[True, False, True, False],
    )
    ctx = T.TagContext(df, max_length=256)
    assert T.REGISTRY["mild_rating"]().detect(ctx)["mild_rating"].tolist() == [False, True, True, False]
    assert T.REGISTRY["extreme_rating"]().detect(ctx)["extreme_rating"].tolist() == [True, False, False, True]
    assert T.REGISTRY["short"]().detect(ctx)["short"].tolist() == [True, False, False, False]
    assert T.REGISTRY["long"]().detect(ctx)["long"].tolist() == [False, False, True, True]
    # per-class thresholds: t1 = mean P(pos | label 1) = 0.81, t0 = mean P(neg | label 0) = 0.715
    noisy = frame(
        list("abcdefgh"), label=[0, 0, 1, 1, 0, 0, 1, 1], prob_pos=[0.05, 0.99, 0.95, 0.4, 0.05, 0.05, 0.95, 0.95]
    )
    noisy["pred"] = (noisy["prob_pos"] >= 0.5).astype(int)
    got = T.REGISTRY["suspected_label_noise"]().detect(T.TagContext(noisy))["suspected_label_noise"].tolist()
    assert got == [False, True, False, False, False, False, False, False]  # 0.99 against label: yes; 0.6: no


def test_duplicates_against_train_and_test():
    test = ["A fine film.", "a FINE film!!", "Unique review here.", "Seen in train<br />."]
    got = detect("duplicate", test, train_texts=pd.Series(["seen in train", "other"]))
    assert got == [True, True, False, True]


def test_lift_with_confidence_interval():
    tags = pd.DataFrame({"id": range(200), "negation": [True] * 50 + [False] * 150})
    correct = pd.Series([False] * 20 + [True] * 30 + [False] * 10 + [True] * 140)
    [row] = T.lift_table(tags, correct)
    assert row["support"] == 50 and row["error_rate"] == pytest.approx(0.4)
    assert row["base_error_rate"] == pytest.approx(30 / 200)
    assert row["lift"] == pytest.approx(0.4 / 0.15)
    assert row["lift_lo"] < row["lift"] < row["lift_hi"]
    lo, hi = T.wilson(20, 50)
    assert lo == pytest.approx(0.2760, abs=1e-3) and hi == pytest.approx(0.5381, abs=1e-3)


def test_run_tags_end_to_end(imdb_run, imdb_dir):
    from pipeline.runs import load_run

    tags = T.run_tags(imdb_run, sample=60, data=str(imdb_dir))
    run = load_run(imdb_run)
    assert len(tags) == len(run.predictions) and set(T.REGISTRY) <= set(tags.columns)
    assert tags["mixed_sentiment"].notna().sum() == 60  # model-based tags only on the sample
    assert run.tag_stats and {r["tag"] for r in run.tag_stats["tags"]} >= {"negation", "long"}
    long_row = next(r for r in run.tag_stats["tags"] if r["tag"] == "long")
    assert long_row["support"] == int(run.predictions["truncated"].sum())


def test_behavior_runner_on_trained_model(synthetic_run):
    from pipeline.classifiers import load_classifier
    from tests.conftest import synthetic_reviews

    clf = load_classifier(synthetic_run)
    res = run_behavior(clf, synthetic_reviews(40, 5), n=40)
    by = {t["name"]: t for t in res["tests"]}
    assert set(by) == {
        "clear_sentiment",
        "negated_sentiment",
        "swap_names",
        "typos",
        "punctuation",
        "neutral_sentence",
        "append_positive",
        "append_negative",
    }
    for t in res["tests"]:
        assert t["cases"] > 0 and 0 <= t["failure_rate"] <= 1 and len(t["examples"]) <= 5
        assert t["failures"] == round(t["failure_rate"] * t["cases"])
    # the toy model keys on sentiment words, so it passes clear cases and fails negation often
    assert by["clear_sentiment"]["failure_rate"] < 0.3
    assert by["negated_sentiment"]["failure_rate"] > by["clear_sentiment"]["failure_rate"]
    json.dumps(res)  # serialisable as behavior.json


def test_perturbations():
    import random

    assert swap_names("John met Mary.") == "Ahmed met Mei."
    assert swap_names("Nobody here.") is None
    t = typo("wonderful performance overall", random.Random(1), rate=1.0)
    assert t != "wonderful performance overall" and sorted(t) == sorted("wonderful performance overall")
