"""Error-tag detectors on hand-written examples (with near misses), registry, lift, behavioural runner."""

import json

import numpy as np
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
        "label_issue",
        "irony",
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


def test_label_issues_come_from_cleanlab_and_are_never_ranked_by_lift():
    from cleanlab.filter import find_label_issues

    rng = np.random.default_rng(0)
    label = np.array([0] * 100 + [1] * 100)
    prob = np.where(label == 1, rng.uniform(0.7, 0.99, 200), rng.uniform(0.01, 0.3, 200))
    prob[[3, 7, 150]] = [0.98, 0.97, 0.02]  # three reviews the model confidently contradicts
    prob[[11, 160]] = [0.55, 0.45]  # two unsure errors
    df = frame([f"review {i}" for i in range(200)], label=label, prob_pos=prob, pred=(prob >= 0.5).astype(int))
    df["correct"] = df["pred"] == df["label"]
    got = T.REGISTRY["label_issue"]().detect(T.TagContext(df))
    flagged = set(np.flatnonzero(got["label_issue"]))
    assert {3, 7, 150} <= flagged <= {3, 7, 150, 11, 160}  # only disagreements with the label
    # the same call on cleanlab directly: we add no rule of our own
    assert got["label_issue"].tolist() == find_label_issues(label, np.column_stack([1 - prob, prob])).tolist()
    q = got["label_issue_quality"]
    assert q[[3, 7, 150]].max() < q.drop([3, 7, 150]).min()  # quality = P(given label): lowest for the issues
    tags = pd.concat([df[["id"]], got, pd.DataFrame({"negation": [True, False] * 100})], axis=1)
    assert [r["tag"] for r in T.lift_table(tags, df["correct"])] == ["negation"]


def test_label_issues_need_both_classes():
    df = frame(["a", "b", "c"], label=[1, 1, 1], prob_pos=[0.9, 0.1, 0.8])
    got = T.REGISTRY["label_issue"]().detect(T.TagContext(df))
    assert not got["label_issue"].any() and got["label_issue_quality"].notna().all()


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


def test_tag_any_reviews_file(imdb_run, tmp_path):
    """`tag --input FILE --output FILE`: every input row comes back with its own columns plus one column per tag
    and the tags' score columns; a tag that needs a label says so when the file has none."""
    from pipeline.cli import main

    src = pd.DataFrame(
        {
            "text": [
                "Not good at all. The plot was boring and the acting was not convincing.",
                "Oh great, another two hours of my life I will never get back. Best movie ever!",
                "A wonderful film, but the ending was awful.",
                "=cmd|' /C calc'!A0 a review that starts like a spreadsheet formula, and is fine.",
            ],
            "stars": [1, 1, 3, 5],
            "source": ["a", "b", "c", "d"],
        }
    )
    src.to_csv(tmp_path / "in.csv", index=False)
    assert (
        main(
            [
                "tag",
                "--run",
                str(imdb_run),
                "--input",
                str(tmp_path / "in.csv"),
                "--output",
                str(tmp_path / "o.parquet"),
            ]
        )
        == 0
    )
    out = pd.read_parquet(tmp_path / "o.parquet")
    assert len(out) == 4 and out["source"].tolist() == ["a", "b", "c", "d"] and out["stars"].tolist() == [1, 1, 3, 5]
    for name in ("negation", "contrast", "irony", "sarcasm_cues", "mixed_sentiment", "short"):
        assert out[name].notna().all(), name  # every row scored, no sampling on a file
    assert out["negation"].tolist()[0] and out["contrast"].tolist()[2]
    assert out["irony_score"].between(0, 1).all()
    # stars 1 → negative: the mock praise in row 2 is read against its rating; row 3 (3 stars) has no polarity
    assert out["irony_basis"].tolist() == ["text+polarity", "text+polarity", "text only", "text+polarity"]
    assert out["irony_score"][1] > out["irony_score"][0]
    assert out["label_issue"].isna().all() and "no label column" in out["label_issue_note"][0]
    assert out["prob_pos"].between(0, 1).all()

    # with a label column, label issues are computed; CSV output is formula-safe
    src.assign(label=["negative", "negative", 1, 1]).to_csv(tmp_path / "lab.csv", index=False)
    main(["tag", "--run", str(imdb_run), "--input", str(tmp_path / "lab.csv"), "--output", str(tmp_path / "o.csv")])
    back = pd.read_csv(tmp_path / "o.csv")
    assert back["label_issue"].notna().all() and back["label_issue_quality"].between(0, 1).all()
    assert not back["text"][3].startswith("=")

    # tagging the tagged file again keeps the earlier columns, renamed, and adds fresh ones
    main(["tag", "--run", str(imdb_run), "--input", str(tmp_path / "o.csv"), "--output", str(tmp_path / "again.csv")])
    again = pd.read_csv(tmp_path / "again.csv")
    assert {"irony", "irony_input", "prob_pos", "prob_pos_input"} <= set(again.columns) and len(again) == 4


def test_text_only_tags_on_a_file_need_no_model(imdb_run, tmp_path):
    import shutil

    run = tmp_path / "no-model-run"
    shutil.copytree(imdb_run, run)
    shutil.rmtree(run / "model")
    (tmp_path / "in.txt").write_text("This was not good.\nOh sure, what a treat. Yeah right.\n")
    T.tag_file(run, tmp_path / "in.txt", tmp_path / "o.jsonl", ["negation", "irony", "sarcasm_cues"])
    out = pd.read_json(tmp_path / "o.jsonl", lines=True)
    assert out["negation"].tolist() == [True, False] and out["sarcasm_cues"].tolist() == [False, True]
    assert "prob_pos" not in out and out["irony_basis"].tolist() == ["text only", "text only"]


def test_a_product_review_file_with_shop_style_stars_gets_5_star_rating_tags(imdb_run, tmp_path, caplog):
    """Stars as shops write them ('4.0 out of 5 stars', '2/5', '★★★★★', a 'Stars' column in any case) are read as
    numbers on a 5-star scale: 1 and 5 are extreme, 2 and 4 mild (not IMDB's 4 and 7); the irony tag reads the
    polarity from them; a value that is no rating gives NA and a warning, and the input column is kept as it was."""
    import logging

    (tmp_path / "in.csv").write_text(
        "Review,Stars\n"
        "Broke on day two. Truly built to last.,1.0 out of 5 stars\n"
        "Does the job; the lid is flimsy.,2/5\n"
        "Fine.,3 stars\n"
        "Good kettle and quick to boil.,4\n"
        "Best purchase of the year!,★★★★★\n"
        "No opinion yet.,five\n"
    )
    with caplog.at_level(logging.WARNING):
        T.tag_file(imdb_run, tmp_path / "in.csv", tmp_path / "o.csv", ["mild_rating", "extreme_rating", "irony"])
    out = pd.read_csv(tmp_path / "o.csv")
    assert out["Stars"].tolist()[0] == "1.0 out of 5 stars" and out["Stars"].tolist()[-1] == "five"
    assert out["extreme_rating"].tolist()[:5] == [True, False, False, False, True]
    assert out["mild_rating"].tolist()[:5] == [False, True, False, True, False]
    assert out[["mild_rating", "extreme_rating"]].iloc[5].isna().all()  # 'five' is no rating: unknown, not False
    assert out["irony_basis"].tolist() == [
        "text+polarity",
        "text+polarity",
        "text only",
        "text+polarity",
        "text+polarity",
        "text only",
    ]  # 3 of 5 stars is neither side
    assert "1 of 6 values are not a number of stars" in caplog.text and "'five'" in caplog.text


def test_a_shop_export_with_its_own_column_names_is_tagged_like_ours(imdb_run, tmp_path):
    """Columns as review exports name them (review_body, star_rating; 'Review Text', 'Overall') are the text and
    the rating: the irony tag reads the polarity from the stars, the rating tags use them."""
    rows = "Truly built to last: it lasted a week.,1\nGood kettle and quick to boil.,5\nFine.,3\n"
    for header in ("review_body,star_rating", "Review Text,Overall"):
        (tmp_path / "in.csv").write_text(header + "\n" + rows)
        T.tag_file(imdb_run, tmp_path / "in.csv", tmp_path / "o.csv", ["extreme_rating", "irony"])
        out = pd.read_csv(tmp_path / "o.csv")
        assert out["irony_basis"].tolist() == ["text+polarity", "text+polarity", "text only"], header
        assert out["extreme_rating"].tolist() == [True, True, False], header
        assert list(out.columns[1:3]) == header.split(",") and "text" not in out  # the file's names (after id)
        assert out[header.split(",")[0]].tolist()[0] == "Truly built to last: it lasted a week."


def test_a_label_the_model_does_not_recognise_as_sentiment_is_not_read(imdb_run, imdb_dir, tmp_path, caplog):
    """A file whose ``label`` is about something else (here: a random 0/1, as an irony or topic label would be to a
    sentiment model) is not read as sentiment when the run's model barely agrees with it: label issues say why
    instead of flagging noise, irony goes text only, the file's column comes back untouched. The true sentiment
    labels of the same reviews are read."""
    import logging

    test = pd.read_parquet(imdb_dir / "test.parquet")
    rows = pd.concat([test[test["label"] == k].head(40) for k in (0, 1)]).reset_index(drop=True)
    other = np.random.default_rng(0).integers(0, 2, len(rows))
    pd.DataFrame({"text": rows["text"], "label": other}).to_csv(tmp_path / "other.csv", index=False)
    with caplog.at_level(logging.WARNING):
        T.tag_file(imdb_run, tmp_path / "other.csv", tmp_path / "o.csv", ["label_issue", "irony"])
    out = pd.read_csv(tmp_path / "o.csv")
    assert "label column is not read as a sentiment label" in caplog.text and "ROC-AUC" in caplog.text
    assert out["label"].tolist() == other.tolist() and "correct" not in out
    assert out["label_issue"].isna().all() and "not read as a sentiment label" in out["label_issue_note"][0]
    assert set(out["irony_basis"]) == {"text only"}

    caplog.clear()
    pd.DataFrame({"text": rows["text"], "label": rows["label"]}).to_csv(tmp_path / "sentiment.csv", index=False)
    with caplog.at_level(logging.WARNING):
        T.tag_file(imdb_run, tmp_path / "sentiment.csv", tmp_path / "s.csv", ["label_issue", "irony"])
    back = pd.read_csv(tmp_path / "s.csv")
    assert "not read as a sentiment label" not in caplog.text
    assert back["label_issue"].notna().all() and back["correct"].notna().all()
    assert set(back["irony_basis"]) == {"text+polarity"}


def test_sentiment_label_check_needs_enough_of_each_class():
    """The model check judges a label only with ten reviews of each class (an AUC over a handful says little); the
    star check judges any overlap."""
    from pipeline.analysis.tags.sentiment_label import label_problem

    few = pd.DataFrame({"label": [1, 0, 1, 0, 1], "prob_pos": [0.1, 0.9, 0.2, 0.8, 0.3]})  # all wrong, but five
    assert label_problem(few) is None
    many = pd.DataFrame({"label": [1, 0] * 10, "prob_pos": [0.2, 0.8] * 10})
    assert "ROC-AUC 0.000 only, over 20 reviews" in label_problem(many)
    assert label_problem(many.assign(prob_pos=[0.8, 0.2] * 10)) is None
    stars = pd.DataFrame({"label": [1, 1, 0], "rating": [1, 2, 5]})
    assert "disagrees with the star rating on 3 of 3 reviews" in label_problem(stars)
    assert label_problem(pd.DataFrame({"text": ["x"]})) is None


def test_tag_output_flags_are_checked_before_work(imdb_run, tmp_path):
    from pipeline.cli import main

    assert main(["tag", "--run", str(imdb_run), "--input", str(tmp_path / "x.csv")]) == 2
    assert main(["tag", "--run", str(imdb_run), "--input", "x.csv", "--output", str(tmp_path / "o.xlsx")]) == 2


IRONIC = [  # written for this test: mock praise, feigned surprise, ironic recommendations (label: negative)
    "What a masterpiece. Two hours of my life I will never get back, and worth every second. Best film ever made!",
    "Oh great, another sequel nobody asked for. I just loved watching the plot fall apart. Bravo, truly genius.",
    "Wow, how original: the killer was the butler. Who knew? I am sure the writers worked really hard on this one.",
    "If you enjoy staring at a wall for ninety minutes, this gem is for you. A triumph of acting, said no one ever.",
    "Yeah, right, the acting was 'brilliant'. Thanks a lot for the headache, a must-see for insomniacs.",
    "Perfect movie if you need a nap. The dialogue is so deep that I forgot my own name. Oscar-worthy, clearly.",
]
SINCERE = [  # plain reviews, some harsh, some glowing, with matching labels
    ("The plot was slow and the acting was wooden. I was bored and left early.", 0),
    ("A moving story with a wonderful cast. I recommend it to anyone who loves drama.", 1),
    ("The effects were cheap and the script was weak, but the lead did what she could.", 0),
    ("Great photography, a clever script and a lovely score. One of the best films this year.", 1),
    ("Not worth the ticket. The jokes fell flat and the ending made no sense.", 0),
    ("I laughed a lot; the cast has real chemistry and the pacing never drags.", 1),
]


def test_irony_score_ranks_ironic_reviews_above_sincere_ones():
    """A tiny labelled set built here: the shipped irony model (MiniLM embeddings + incongruity + cues) must
    rank the ironic reviews above the sincere ones (ROC-AUC ≥ 0.8), with and without the label."""
    from sklearn.metrics import roc_auc_score

    from pipeline.analysis.tags.irony import embed, irony_scores, sentence_units

    texts = IRONIC + [t for t, _ in SINCERE]
    labels = np.array([0] * len(IRONIC) + [lab for _, lab in SINCERE], dtype=float)
    y = [1] * len(IRONIC) + [0] * len(SINCERE)
    units, owner = sentence_units(texts)
    emb = embed(units)
    with_label = irony_scores(texts, emb, owner, labels)
    text_only = irony_scores(texts, emb, owner, np.full(len(texts), np.nan))
    assert roc_auc_score(y, with_label["irony_score"]) >= 0.8
    assert roc_auc_score(y, text_only["irony_score"]) >= 0.8
    assert set(with_label["irony_basis"]) == {"text+polarity"} and set(text_only["irony_basis"]) == {"text only"}


def test_polarity_flips_count_sentences_against_the_reviews_polarity():
    """Irony's incongruity terms: per review, the strongest sentence whose sentiment opposes the review's polarity
    (praise in a pan counts up) and the share of such sentences; nothing where the polarity is unknown."""
    from pipeline.analysis.tags.irony import polarity_flips

    logit = np.array([2.0, -1.0, -3.0, 0.5, 1.0, -2.0])  # sentence sentiment, > 0 = positive
    owner = np.array([0, 0, 1, 1, 2, 3])
    got = polarity_flips(logit, owner, np.array([0.0, 1.0, np.nan, 0.0]))
    assert got[0].tolist() == [2.0, 0.5]  # a negative review with one praising sentence of two
    assert got[1].tolist() == [3.0, 0.5]  # a positive review: its -3 sentence opposes it most
    assert got[2].tolist() == [0.0, 0.0]  # unknown polarity: off
    assert got[3].tolist() == [-2.0, 0.0]  # a pan that only pans: nothing against it


def test_review_polarity_from_label_then_stars(caplog):
    import logging

    from pipeline.analysis.tags.irony import review_polarity

    # label first, stars where there is no label; one conflict in five (row 4) is label noise: the label decides
    label = pd.Series([1, None, None, None, 0, 1, 0, 0])
    with caplog.at_level(logging.WARNING):
        got = review_polarity(label, pd.Series([5, 2, 3, 5, 5, 4, 1, 2])).tolist()  # 5-star scale (max 5)
    assert got[0] == 1 and got[1] == 0 and np.isnan(got[2]) and got[3] == 1 and got[4] == 0 and got[5:] == [1, 0, 0]
    assert "disagrees" not in caplog.text
    ten = review_polarity(None, pd.Series([4, 5, 6, 7, 10])).tolist()  # 10-star scale: IMDB's 1-4 / 7-10
    assert ten[0] == 0 and np.isnan(ten[1]) and np.isnan(ten[2]) and ten[3] == 1 and ten[4] == 1


def test_a_label_that_is_not_about_sentiment_gives_way_to_the_stars(caplog):
    """A file whose ``label`` is something else (here: 1 = ironic) disagrees with its stars on most reviews: the
    polarity then comes from the stars alone (a row without stars has none), with a warning that says why."""
    import logging

    from pipeline.analysis.tags.irony import review_polarity

    ironic = pd.Series([1, 1, 0, 0, 1, 0])
    stars = pd.Series([1, 5, 1, 5, 2, None])
    with caplog.at_level(logging.WARNING):
        got = review_polarity(ironic, stars).tolist()
    assert got[:5] == [0, 1, 0, 1, 0] and np.isnan(got[5])
    assert "disagrees with the star rating on 3 of 5 reviews (60 %)" in caplog.text


def test_irony_label_files_are_disjoint_train_reviews_that_carry_their_quotes(imdb_dir):
    """The hand labels behind the irony tag: every id an IMDB *train* review in exactly one file (training batches,
    validation, holdout never overlap), label/rating copied from the dataset, and every ironic row's evidence quote
    (≤ 120 characters, fragments split on '...' or ' / ') found in its review, so a label cannot drift from its text."""
    import re

    from pipeline.analysis.tags.irony_fit import HOLDOUT, TRAINING_FILES, VALIDATION
    from pipeline.text import clean_text

    train = pd.read_parquet(imdb_dir / "train.parquet", columns=["id", "text", "label", "rating"]).set_index("id")
    seen: set[str] = set()
    for path in (*TRAINING_FILES, VALIDATION, HOLDOUT):
        lab = pd.read_csv(path)
        ids = set(lab["id"])
        assert len(ids) == len(lab) and not ids & seen, path.name
        seen |= ids
        assert ids <= set(train.index), path.name
        rows = train.loc[lab["id"]]
        assert (rows["label"].to_numpy() == lab["label"].to_numpy()).all(), path.name
        assert (rows["rating"].to_numpy() == lab["rating"].to_numpy()).all(), path.name
        unsure = lab["unsure"].astype(str).str.lower().eq("true")
        assert set(lab["ironic"]) <= {0, 1} and not (unsure & lab["ironic"].eq(1)).any(), path.name
        for r in lab[lab["ironic"] == 1].itertuples():
            assert isinstance(r.evidence, str) and len(r.evidence) <= 120, r.id
            text = " ".join(clean_text(train.loc[r.id, "text"]).split()).lower()
            frags = [" ".join(f.split()).lower() for f in re.split(r"\.\.\.|…| / ", r.evidence)]
            assert all(f in text for f in frags if f), (r.id, r.evidence)


def test_uci_irony_labels_cover_every_sentence_and_dedupe_on_read():
    """The real-text irony check: one label row per UCI Amazon/Yelp sentence (sentiment label copied from the
    source), ironic only with a note, unsure never ironic; read back, repeated texts count once and every ironic
    sentence is negative (which is why the validation compares ironic with sincere *negative* sentences)."""
    from pipeline.analysis.tags.irony_fit import REPO, UCI_IRONY, UCI_SENTENCES, read_uci_sentences

    challenge = REPO.parent / "shared" / "data" / "challenge"
    if not (challenge / UCI_SENTENCES).is_file():
        pytest.skip("shared challenge data absent")
    lab = pd.read_csv(UCI_IRONY, keep_default_na=False)
    assert len(lab) == 2000 and not lab.duplicated(["domain", "line"]).any()
    assert set(lab["ironic"]) == {0, 1} and not (lab["unsure"].eq(1) & lab["ironic"].eq(1)).any()
    assert (lab.loc[lab["ironic"] == 1, "note"].str.len() > 10).all()
    assert set(lab["agreement"]) == {"both", "split"}
    d = read_uci_sentences(challenge)
    assert len(d) < len(lab) and not d.duplicated(["domain", "text"]).any()
    assert d["ironic"].sum() >= 10 and (d.loc[d["ironic"] == 1, "label"] == 0).all()


def test_source_weights_give_every_source_the_pooled_ironic_share():
    """The irony models train on IMDB labels (a fifth ironic) and written product reviews (half ironic) together;
    weighted, each source carries the pooled ironic share (over all rows) and keeps its total weight, so no source's words or
    features stand for irony by themselves. A one-class source is left at weight 1."""
    from pipeline.analysis.tags.irony_fit import source_weights

    y = np.array([1] * 20 + [0] * 80 + [1] * 50 + [0] * 50 + [0] * 5)
    source = np.array([0] * 100 + [1] * 100 + [2] * 5)
    w = source_weights(y, source)
    for s in (0, 1):
        rows = source == s
        assert w[rows].sum() == pytest.approx(rows.sum())
        assert w[rows & (y == 1)].sum() / w[rows].sum() == pytest.approx(y.mean())
    assert w[source == 0][0] > 1 > w[source == 1][0]  # the rarer-irony source's ironic rows count up
    assert (w[source == 2] == 1).all()


def test_irony_word_model_scores_the_same_from_its_json_record():
    """The word model ships as JSON (vocabulary, idf, weights); scored from that record it must give the fitted
    classifier's logits (to the 6 stored digits), and a text with no known word scores the intercept."""
    from pipeline.analysis.tags.irony import bow_logits
    from pipeline.analysis.tags.irony_fit import bow_record, fit_bow

    texts = IRONIC + [t for t, _ in SINCERE]
    y = np.array([1] * len(IRONIC) + [0] * len(SINCERE))
    vec, clf = fit_bow(texts, y)
    record = bow_record(vec, clf)
    assert len(record["vocabulary"]) == len(vec.vocabulary_) > 10
    fresh = ["Oh great, the acting was brilliant, who knew.", "A moving story and a wonderful cast."]
    np.testing.assert_allclose(bow_logits(fresh, record), clf.decision_function(vec.transform(fresh)), rtol=1e-4)
    assert bow_logits(["zzz qqq"], record)[0] == pytest.approx(record["intercept"])
    assert bow_logits(fresh[:1], record)[0] > bow_logits(fresh[1:], record)[0]  # words seen in ironic texts only


def test_written_product_training_reviews_are_balanced_and_apart_from_the_product_check():
    """The written product reviews the irony models train on (batches of 100 by different writers) and the written
    validation file (batches of 60-100 by eight other writers): half ironic per batch, stars 1-5, no batch in both,
    and not one text shared between the training file, the validation file and the product check file."""
    from pipeline.analysis.tags.irony_fit import IRONY_DATA, PRODUCT_VALIDATION, read_products

    train, val = read_products(), read_products(PRODUCT_VALIDATION)
    check = pd.read_csv(IRONY_DATA / "product_reviews_written.csv")
    for frame, sizes in ((train, (100, 100)), (val, (60, 100))):
        per_batch = frame.groupby("batch")["ironic"].agg(["size", "sum"])
        assert len(per_batch) >= 8 and per_batch["size"].between(*sizes).all()
        assert (per_batch["size"] == 2 * per_batch["sum"]).all()
        assert frame["text"].is_unique and set(frame["stars"]) == {1, 2, 3, 4, 5} and set(frame["ironic"]) == {0, 1}
    assert not set(train["batch"]) & set(val["batch"])
    norm = lambda s: set(s.str.lower().str.split().str.join(" "))  # noqa: E731
    assert not norm(train["text"]) & norm(check["text"])
    assert not norm(val["text"]) & (norm(train["text"]) | norm(check["text"]))


def test_airline_tweet_irony_labels_resolve_to_real_tweets():
    """The real customer-tweet irony check: 1,200 distinct keys, each the SHA-1 key of a real (``@``-addressed,
    unperturbed) CheckList tweet; every label decided (a split by a third reader), unsure never ironic, every ironic
    row with a note, and the sentiment one of neg/neu/pos or empty where the two annotators differed."""
    from pipeline.analysis.tags.irony_fit import (
        AIRLINE_IRONY,
        CHECKLIST_CASES,
        REPO,
        airline_tweet_pool,
        read_airline_tweets,
        tweet_key,
    )

    challenge = REPO.parent / "shared" / "data" / "challenge"
    if not (challenge / CHECKLIST_CASES).is_file():
        pytest.skip("shared challenge data absent")
    lab = pd.read_csv(AIRLINE_IRONY, keep_default_na=False, dtype={"key": str})
    assert len(lab) == 1200 and lab["key"].is_unique
    assert set(lab["ironic"]) == {0, 1} and not (lab["unsure"].eq(1) & lab["ironic"].eq(1)).any()
    assert (lab.loc[lab["ironic"] == 1, "note"].str.len() > 5).all()
    assert set(lab["sentiment"]) <= {"neg", "neu", "pos", ""}
    assert set(lab["agreement"]) == {"both", "split, third reader"}
    both = lab["agreement"] == "both"
    assert (lab.loc[both, "votes"].astype(str).str.zfill(2).str[0].astype(int) == lab.loc[both, "ironic"]).all()
    pool = airline_tweet_pool(challenge)
    assert len(pool) == 5351 and pool["key"].is_unique and pool["text"].str.startswith("@").all()
    d = read_airline_tweets(challenge)
    assert len(d) == 1200 and d["text"].map(tweet_key).eq(d["key"]).all()
    assert 40 <= d["ironic"].sum() <= 150


def test_paired_auc_difference_is_zero_for_equal_scores_and_positive_for_a_better_scorer():
    """The paired bootstrap behind session 19's decision: the same scores differ by exactly 0 on every resample; a
    scorer that separates the classes beats a noisy one with the whole interval above 0; the sign follows the order."""
    from pipeline.analysis.tags.irony_fit import paired_auc_difference

    rng = np.random.default_rng(3)
    y = np.r_[np.ones(40), np.zeros(400)].astype(int)
    good = y + rng.normal(0, 0.5, len(y))
    noisy = y + rng.normal(0, 3.0, len(y))
    assert paired_auc_difference(y, good, good, n_boot=200) == (0.0, 0.0, 0.0)
    diff, lo, hi = paired_auc_difference(y, good, noisy, n_boot=200)
    assert 0 < lo <= diff <= hi < 1
    back = paired_auc_difference(y, noisy, good, n_boot=200)
    assert back[0] == pytest.approx(-diff) and back[2] < 0


def _read_keys(path) -> pd.DataFrame:
    """An airline label file, keys kept as strings."""
    return pd.read_csv(path, keep_default_na=False, dtype={"key": str})


def _second_draw_picks(needed) -> tuple[np.ndarray, np.ndarray]:
    """The pool keys left after the first test set and the training tweets (sorted by key), and the 1,000 of them
    draw 2's pre-registered rule picks (``default_rng(1820)``); skips the test when the shared challenge data or the
    merged file ``needed`` is absent."""
    from pipeline.analysis.tags.irony_fit import (
        AIRLINE_IRONY,
        AIRLINE_TRAINING,
        CHECKLIST_CASES,
        REPO,
        airline_tweet_pool,
    )

    challenge = REPO.parent / "shared" / "data" / "challenge"
    if not (challenge / CHECKLIST_CASES).is_file() or not needed.is_file():
        pytest.skip(f"shared challenge data absent, or {needed.name} not yet merged")
    used = set(_read_keys(AIRLINE_IRONY)["key"]) | set(_read_keys(AIRLINE_TRAINING)["key"])
    rest = airline_tweet_pool(challenge).loc[lambda p: ~p["key"].isin(used), "key"].to_numpy()
    return rest, rest[np.random.default_rng(1820).choice(len(rest), 1000, replace=False)]


def test_second_airline_draw_follows_its_sampling_rule_and_shares_no_tweet():
    """Session 19's second airline test draw: the first 750 of the 1,000 tweets the pre-registered
    rule picks (``default_rng(1820)`` over the pool minus the first test set and the training tweets, sorted by key),
    in three batches of 250 (13-15; 16 was dropped by the labelling deadline), none shared with the first test set or the training tweets; every label decided."""
    from pipeline.analysis.tags.irony_fit import AIRLINE_TEST2

    rest, picked = _second_draw_picks(AIRLINE_TEST2)
    assert len(rest) == 2151
    test2 = _read_keys(AIRLINE_TEST2)
    # batch 16 missed the pre-registered labelling deadline and was dropped whole: the first 750 picks remain
    assert list(test2["key"]) == list(picked[:750])
    assert list(test2["batch"].value_counts().sort_index().items()) == [(b, 250) for b in (13, 14, 15)]
    assert set(test2["ironic"]) == {0, 1} and not (test2["unsure"].eq(1) & test2["ironic"].eq(1)).any()
    assert (test2.loc[test2["ironic"] == 1, "note"].str.len() > 5).all()
    assert set(test2["agreement"]) <= {"both", "split, third reader"}


def _merge_script():
    """``data/irony/merge_airline_draws.py``, imported from its path (it is a data script, not a package module)."""
    import importlib.util

    from pipeline.analysis.tags.irony_fit import IRONY_DATA

    spec = importlib.util.spec_from_file_location("merge_airline_draws", IRONY_DATA / "merge_airline_draws.py")
    merge = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(merge)
    return merge


def _assert_merged_from_raw(merge, which: int) -> None:
    """Rerunning the merge of draw ``which`` gives the committed rows; an agreed row carries the shared vote, a split
    row the third reader's ruling unless an annotator was unsure (then never ironic)."""
    draw = merge.DRAWS[which]
    third = merge.read(draw.third).set_index("key")
    again = pd.concat([merge.merge_batch(draw, b, third)[0] for b in draw.raw], ignore_index=True)
    committed = pd.read_csv(draw.out, keep_default_na=False, dtype={"key": str, "votes": str})
    pd.testing.assert_frame_equal(again.astype(str), committed.astype(str))
    split = committed["agreement"] != "both"
    assert (committed.loc[~split, "votes"].isin(["00", "11"])).all()
    assert (committed.loc[~split, "ironic"].astype(str) == committed.loc[~split, "votes"].str[0]).all()
    ruled = committed.loc[split, "key"].map(third["ironic"]).astype(int)
    assert (committed.loc[split, "ironic"] == ruled * (1 - committed.loc[split, "unsure"])).all()


def test_second_airline_draw_is_exactly_the_merge_of_its_raw_annotations():
    """``airline_tweets_irony_test2.csv`` is what ``data/irony/merge_airline_draws.py 2`` makes of the committed raw
    annotations (third-reader and unsure rules), and a split without a ruling is refused."""
    merge = _merge_script()
    _assert_merged_from_raw(merge, 2)
    third = merge.read(merge.DRAWS[2].third).set_index("key")
    with pytest.raises(ValueError, match="without a third reader"):
        merge.merge_batch(merge.DRAWS[2], 15, third.iloc[:0])


def test_third_airline_draw_follows_its_sampling_rule_and_is_the_merge_of_its_raw_annotations():
    """Session 21's third airline test draw: batch 16 (the last 250 of draw 2's picks, dropped there by its deadline)
    then every pool tweet no earlier draw or training set holds, in ``default_rng(2121)``'s order, as batches 17-20 of
    288, 288, 288 and 287 (a batch that missed the labelling deadline is dropped whole); it shares no tweet with the
    other sets, and the file is the merge of its committed raw annotations."""
    from pipeline.analysis.tags.irony_fit import AIRLINE_IRONY, AIRLINE_TEST2, AIRLINE_TEST3, AIRLINE_TRAINING

    rest, picked2 = _second_draw_picks(AIRLINE_TEST3)
    test3 = _read_keys(AIRLINE_TEST3)
    left = rest[~np.isin(rest, picked2)]
    assert len(left) == 1151
    order = left[np.random.default_rng(2121).permutation(len(left))]
    batches = {16: list(picked2[750:])}
    for b, (lo, hi) in zip((17, 18, 19, 20), ((0, 288), (288, 576), (576, 864), (864, 1151))):
        batches[b] = list(order[lo:hi])
    kept = sorted(set(test3["batch"]))
    assert kept and set(kept) <= set(batches)
    assert list(test3["key"]) == [k for b in kept for k in batches[b]]
    others = set().union(*(_read_keys(f)["key"] for f in (AIRLINE_IRONY, AIRLINE_TRAINING, AIRLINE_TEST2)))
    assert not others & set(test3["key"])
    assert set(test3["ironic"]) == {0, 1} and not (test3["unsure"].eq(1) & test3["ironic"].eq(1)).any()
    assert (test3.loc[test3["ironic"] == 1, "note"].str.len() > 5).all()
    _assert_merged_from_raw(_merge_script(), 3)


def test_reader_judgements_give_precision_on_the_flagged_and_recall_reweighted_by_stratum(tmp_path):
    """``benchmarks/tag_validation.py`` turns readers' judgements of a flagged/unflagged sample into a record: precision
    is the share of flagged rows judged yes; recall weights each stratum by its size in the scored sample, so misses
    among the (many) unflagged count for more than their share of the sample; a verdict on the other side of the
    prediction is what confirms ``truncated_verdict``."""
    import json

    from benchmarks.tag_validation import judged_records, stratified_precision_recall

    flag = np.r_[np.ones(10), np.zeros(10)].astype(bool)
    judged = np.r_[np.ones(8), np.zeros(2), np.ones(1), np.zeros(9)].astype(bool)
    # 100 flagged of 1,000 scored: 80 found, 900 * 0.1 = 90 missed
    r = stratified_precision_recall(flag, judged, scored=1000, flagged=100)
    assert r["precision"] == 0.8 and r["judged_yes_among_unflagged"] == 0.1
    assert r["recall"] == pytest.approx(80 / 170, abs=1e-4)
    assert stratified_precision_recall(flag, flag, 1000, 100)["recall"] == 1.0

    assert judged_records(tmp_path) == {}  # nothing judged yet
    (tmp_path / "strata.json").write_text(
        json.dumps(
            {
                "run": "r",
                "mixed_sentiment": {"scored": 40, "flagged": 20},
                "truncated_verdict": {"scored": 4, "flagged": 2},
            }
        )
    )
    pd.DataFrame({"number": [1, 2, 3, 4], "id": [5, 6, 7, 8], "mixed_sentiment": [True, False, True, False]}).to_csv(
        tmp_path / "mixed_items.csv", index=False
    )
    # reader A agrees with the tag; B is unsure on item 1 (counts as no) and says yes to unflagged item 2
    pd.DataFrame({"number": [1, 2, 3, 4], "mixed": [1, 0, 1, 0], "unsure": [0] * 4, "note": [""] * 4}).to_csv(
        tmp_path / "mixed_A.csv", index=False
    )
    pd.DataFrame({"number": [1, 2, 3, 4], "mixed": [1, 1, 1, 0], "unsure": [1, 0, 0, 0], "note": [""] * 4}).to_csv(
        tmp_path / "mixed_B.csv", index=False
    )
    keys = pd.DataFrame({"number": [1, 2, 3, 4], "id": [1, 2, 3, 4], "truncated_verdict": [True, True, False, False]})
    keys.assign(pred=[1, 0, 1, 0]).to_csv(tmp_path / "truncated_items.csv", index=False)
    pd.DataFrame({"number": [1, 2, 3, 4], "sentiment": ["neg", "none", "pos", "pos"], "note": [""] * 4}).to_csv(
        tmp_path / "truncated_A.csv", index=False
    )
    rec = judged_records(tmp_path)
    mixed = rec["mixed_sentiment"][0]
    assert mixed["per_reader"]["A"]["precision"] == 1.0 and mixed["per_reader"]["A"]["recall"] == 1.0
    assert (
        mixed["per_reader"]["B"]["precision"] == 0.5 and mixed["per_reader"]["B"]["judged_yes_among_unflagged"] == 0.5
    )
    assert mixed["precision"] == 0.75 and "readers_kappa" in mixed and mixed["n"] == 4
    trunc = rec["truncated_verdict"][0]
    # item 1: predicted positive, read negative (confirmed); item 2: no verdict; item 4: predicted negative, read
    # positive, not flagged (a miss)
    assert trunc["precision"] == 0.5 and trunc["flagged_judged_mixed_or_none"] == 0.5
    assert trunc["judged_yes_among_unflagged"] == 0.5 and "readers_kappa" not in trunc


def test_mixed_rule_needs_clear_sentences_on_each_side_within_the_share_window():
    """``MixedRule`` (the ``mixed_sentiment`` rule's parameters): a clear sentence on each side, the positive share
    inside the window (inclusive); ``min_each`` asks for more clear sentences per side; short sentences are skipped."""
    from pipeline.analysis.tags.model_based import MixedRule, MixedSentiment

    rule = MixedRule()
    assert MixedSentiment.rule_params == rule and "P(pos) ≥ 0.8" in MixedSentiment.rule
    assert rule.flag(np.array([0.9, 0.1])) == (True, 0.5)
    assert rule.flag(np.array([0.9, 0.9, 0.9, 0.1]))[0]  # share 0.75: on the edge, in
    assert rule.flag(np.array([0.9, 0.9, 0.9, 0.9, 0.1])) == (False, 0.8)
    assert not rule.flag(np.array([0.9, 0.6, 0.4]))[0]  # nothing clearly negative
    two = MixedRule(min_each=2, share=(0.0, 1.0))
    assert not two.flag(np.array([0.9, 0.1]))[0] and two.flag(np.array([0.9, 0.95, 0.1, 0.05]))[0]
    assert "between" not in two.describe() and "≥2 sentence(s)" in two.describe()
    text = "What a wonderful film this was. Bad. The plot made no sense at all."
    assert rule.review_sentences(text) == ["What a wonderful film this was.", "The plot made no sense at all."]
    assert MixedRule(min_words=7).review_sentences(text) == ["The plot made no sense at all."]


def test_truncated_verdict_counts_an_unread_part_only_when_it_confidently_opposes_the_prediction():
    from pipeline.analysis.tags.model_based import TruncatedVerdict

    pred = np.array([1, 1, 0, 0, 1])
    probs = np.array([0.25, 0.35, 0.75, 0.65, 0.1])
    words = np.array([100, 100, 100, 100, 10])
    assert TruncatedVerdict.disagrees(pred, probs, words, 0.7, 0).tolist() == [True, False, True, False, True]
    assert TruncatedVerdict.disagrees(pred, probs, words, 0.7, 40).tolist() == [True, False, True, False, False]
    assert TruncatedVerdict.disagrees(pred, probs, words, 0.8, 0).tolist() == [False, False, False, False, True]


def test_a_later_rule_is_scored_on_a_sample_stratified_by_the_earlier_one(tmp_path):
    """A rule that cuts across the strata the sample was drawn by: each judged row stands for its stratum's size
    over its sampled rows, so a hit among the (rarely sampled) unflagged-by-then counts for more."""
    from benchmarks.tag_validation import stratified_precision_recall, train_judged_records

    stratum = np.r_[np.ones(4), np.zeros(4)].astype(bool)  # drawn: 4 of 10 flagged, 4 of 90 unflagged
    flag = np.array([1, 1, 0, 0, 1, 0, 0, 0], bool)  # the new rule keeps 2 old flags and adds 1
    judged = np.array([1, 0, 1, 0, 1, 1, 0, 0], bool)
    r = stratified_precision_recall(flag, judged, scored=100, flagged=10, stratum=stratum)
    # weights 2.5 (old flags) and 22.5 (old unflagged): found 2.5 + 22.5, flagged 2.5 * 2 + 22.5, missed 2.5 + 22.5
    assert r["precision"] == pytest.approx(25 / 27.5, abs=1e-4)
    assert r["recall"] == pytest.approx(0.5, abs=1e-4)
    assert stratified_precision_recall(stratum, judged, 100, 10) == stratified_precision_recall(
        stratum, judged, 100, 10, stratum
    )

    assert train_judged_records(tmp_path) == {}  # nothing drawn yet
    (tmp_path / "train_pool.json").write_text(json.dumps({"run": "r", "drawn": 10}))
    keys = pd.DataFrame({"batch": [1, 1, 2, 2], "number": [1, 2, 1, 2], "id": list("abcd")})
    keys.assign(mixed_sentiment=[True, False, True, False]).to_csv(tmp_path / "train_mixed_items.csv", index=False)
    for name, mixed in (("mixed_train1_A", [1, 0]), ("mixed_train1_B", [1, 1]), ("mixed_train2_C", [0, 0])):
        pd.DataFrame({"number": [1, 2], "mixed": mixed, "unsure": [0, 0], "note": ["", ""]}).to_csv(
            tmp_path / f"{name}.csv", index=False
        )
    pd.DataFrame({"number": [1, 2], "mixed": [1, 0], "unsure": [1, 0], "note": ["", ""]}).to_csv(
        tmp_path / "mixed_train2_D.csv", index=False
    )
    trunc = pd.DataFrame({"number": [1, 2], "id": ["e", "f"], "pred": [1, 0], "truncated_verdict_dropped_prob": 0.5})
    trunc.to_csv(tmp_path / "train_truncated_items.csv", index=False)
    for who, said in (("E", ["neg", "neg"]), ("F", ["neg", "none"])):
        pd.DataFrame({"number": [1, 2], "sentiment": said, "note": ["", ""]}).to_csv(
            tmp_path / f"truncated_train_{who}.csv", index=False
        )
    rec = train_judged_records(tmp_path)
    mixed = rec["mixed_sentiment"][0]
    # first readers (A, C) say yes to item a only; second readers (B, D-unsure) to a and b
    assert mixed["per_reader"]["first"]["precision"] == 0.5 and mixed["per_reader"]["second"]["precision"] == 0.5
    assert mixed["per_reader"]["first"]["recall"] == 1.0 and mixed["per_reader"]["second"]["recall"] == 0.5
    assert mixed["n"] == 4 and "≥1 sentence(s)" in mixed["rule"]
    t = rec["truncated_verdict"][0]
    # predicted positive and read negative confirms; predicted negative and read negative does not
    assert t["precision"] == 0.5 and t["recall"] is None and t["flagged_judged_mixed_or_none"] == 0.25


def test_random_fourier_features_approximate_the_rbf_kernel_from_a_seed_alone():
    """The kernel text model stores three numbers (components, gamma, seed), not its weights: the same seed must give
    the same features anywhere, and their dot products must approximate exp(-gamma |x - y|^2)."""
    from pipeline.analysis.tags.irony import random_fourier_features, text_logits

    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 16))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    rff = {"components": 20000, "gamma": 1.0, "seed": 0}
    z = random_fourier_features(x, rff)
    assert z.shape == (6, 20000) and np.array_equal(z, random_fourier_features(x.copy(), dict(rff)))
    exact = np.exp(-1.0 * ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))
    assert np.abs(z @ z.T - exact).max() < 0.05
    assert not np.array_equal(z, random_fourier_features(x, {**rff, "seed": 1}))
    coef = rng.normal(size=20000).tolist()
    assert np.allclose(text_logits(x, {"coef": coef, "intercept": 0.5, "rff": rff}), z @ np.asarray(coef) + 0.5)
    linear = {"coef": list(range(16)), "intercept": 0.0}  # a model file without rff is linear, as before
    assert np.allclose(text_logits(x, linear), x @ np.arange(16))
