"""Attributions on a tiny BERT that learned the synthetic task: faithfulness, determinism, edge cases."""

import numpy as np
import pytest

from pipeline.analysis.explain import DEFAULT_METHOD, Attribution, Explainer
from pipeline.render import attribution_html, safe_review_html
from tests.conftest import POS_WORDS, synthetic_reviews


@pytest.fixture(scope="module")
def clf(synthetic_run):
    from pipeline.classifiers import load_classifier
    from pipeline.runs import load_run

    assert load_run(synthetic_run).metrics["overall"]["accuracy"] > 0.95  # the model really learned the task
    return load_classifier(synthetic_run)


def _remove_words(text: str, words: set[str]) -> str:
    return " ".join(w for w in text.split() if w.strip(".,").lower() not in words)


@pytest.mark.parametrize("method", ["grad", "smoothgrad", "ig", "shap", "shap-float32"])
def test_deletion_check(clf, method):
    """Removing the top-2 words by attribution moves P(positive) more than removing 2 random words."""
    if method.startswith("shap"):
        ex = Explainer(clf, "shap", max_evals=200, precision="float32" if method.endswith("float32") else "int8")
    else:
        ex = Explainer(clf, method)
    texts = synthetic_reviews(12, 9)["text"].tolist()
    rng = np.random.default_rng(0)
    drop_top, drop_rand = [], []
    for text in texts:
        [a] = ex([text])
        words = a.merged_words()
        p0 = clf.prob_positive([text])[0]
        sign = 1 if p0 >= 0.5 else -1  # words supporting the current prediction
        order = np.argsort(-sign * np.asarray(words.scores))
        top = {words.tokens[i].lower() for i in order[:2]}
        rand = set(rng.choice([w.strip(".,").lower() for w in text.split()], 2, replace=False))
        drop_top.append(abs(p0 - clf.prob_positive([_remove_words(text, top)])[0]))
        drop_rand.append(abs(p0 - clf.prob_positive([_remove_words(text, rand)])[0]))
    assert np.mean(drop_top) > np.mean(drop_rand) + 0.1


def test_sentiment_words_get_the_largest_scores(clf):
    [a] = Explainer(clf, "ig")(["It runs about two hours. The film was superb and the acting was wonderful."])
    top = [t for t, _ in a.merged_words().top(2, 1)]
    assert set(top) <= set(POS_WORDS) | {"superb", "wonderful"}
    assert a.completeness_gap is not None and a.completeness_gap < 0.1 * max(1.0, abs(sum(a.scores)))


def test_ig_completeness_improves_with_steps(clf):
    text = "The film was dreadful and the acting was lazy. My friend came along."
    gaps = [Explainer(clf, "ig", steps=s, max_steps=s)([text])[0].completeness_gap for s in (2, 48)]
    assert gaps[1] <= gaps[0] + 1e-6


def test_ig_adds_steps_until_the_gap_is_small(clf):
    text = "The film was dreadful and the acting was lazy. My friend came along."
    fixed = Explainer(clf, "ig", steps=1, max_steps=1)([text])[0]
    adaptive = Explainer(clf, "ig", steps=1, max_steps=64, gap_tolerance=0.01)([text])[0]
    margin = np.log(adaptive.prob_pos / (1 - adaptive.prob_pos))  # IG explains the logit margin
    delta = abs(margin - adaptive.base_value)
    assert fixed.settings["steps_used"] == 1
    assert adaptive.completeness_gap <= max(0.05, 0.01 * delta) + 1e-6 or adaptive.settings["steps_used"] == 64
    assert adaptive.completeness_gap <= fixed.completeness_gap
    # many steps: the sum of scores must reach f(x) − f(baseline) (a mismatched f(baseline) would leave a constant gap)
    fine = Explainer(clf, "ig", steps=128, max_steps=128)([text])[0]
    assert fine.completeness_gap < 0.02 * max(1.0, delta)


def test_deterministic_and_edge_cases(clf):
    text = "The film was awful and the acting was dull."
    for precision in ("int8", "float32"):
        ex = Explainer(clf, "shap", max_evals=100, precision=precision)
        a1, a2 = ex([text])[0], ex([text])[0]
        assert a1.tokens == a2.tokens and np.allclose(a1.scores, a2.scores)
        assert a1.settings["precision"] == precision
        # SHAP efficiency: scores + base sum to the output of the model SHAP scored; prob_pos is float32's,
        # so with int8 the reported gap is exactly the int8 copy's difference on this text
        scored = clf.prob_positive([text], precision=precision)[0]
        assert abs(sum(a1.scores) + a1.base_value - scored) < 1e-3
        assert abs(a1.completeness_gap - abs(scored - a1.prob_pos)) < 1e-3
    for method in ("grad", "smoothgrad", "ig", "shap"):
        e = Explainer(clf, method)
        [empty] = e([""])
        [one] = e(["superb"])
        assert isinstance(empty, Attribution) and 0 <= empty.prob_pos <= 1
        assert one.merged_words().tokens == ["superb"] and len(one.scores) == 1


def test_smoothgrad_is_seeded_and_reduces_to_gradient_x_input(clf):
    text = "The film was dreadful and the acting was lazy. My friend came along."
    a, b = Explainer(clf, "smoothgrad")([text])[0], Explainer(clf, "smoothgrad")([text])[0]
    assert a.tokens == b.tokens and np.allclose(a.scores, b.scores)  # same seed, same colours
    other = Explainer(clf, "smoothgrad", noise_seed=1)([text])[0]
    assert not np.allclose(a.scores, other.scores)  # the noise is real
    # no noise: every copy is the review itself, so the average gradient is the gradient
    plain = Explainer(clf, "grad")([text])[0]
    still = Explainer(clf, "smoothgrad", noise=0.0, samples=3)([text])[0]
    assert np.allclose(still.scores, plain.scores, atol=1e-5) and abs(still.prob_pos - plain.prob_pos) < 1e-6
    with pytest.raises(ValueError, match="at least 1 sample"):
        Explainer(clf, "smoothgrad", samples=0)([text])


def test_int8_copy_is_written_with_the_run_and_tracks_float32(clf, synthetic_run):
    from pipeline.classifiers.transformer.int8 import INT8_FILE

    assert (synthetic_run / "model" / INT8_FILE).is_file()
    texts = synthetic_reviews(60, 21)["text"].tolist()
    p32, p8 = clf.prob_positive(texts), clf.prob_positive(texts, precision="int8")
    assert clf.int8_path == synthetic_run / "model" / INT8_FILE  # loaded from the run, not re-converted
    diff = np.abs(p8 - p32)
    assert diff.mean() < 0.02 and diff.max() < 0.1
    assert ((p8 >= 0.5) == (p32 >= 0.5)).mean() >= 0.95
    with pytest.raises(ValueError, match="precision"):
        clf.prob_positive(texts[:1], precision="fp16")
    with pytest.raises(ValueError, match="precision"):
        Explainer(clf, "shap", precision="fp16")


def test_quantize_command_adds_the_int8_copy_to_an_older_run(synthetic_run, tmp_path, capsys):
    import shutil

    from pipeline.classifiers.transformer.int8 import INT8_FILE
    from pipeline.cli import main

    old = tmp_path / "older-run"
    shutil.copytree(synthetic_run, old)
    (old / "model" / INT8_FILE).unlink()
    assert main(["quantize", "--run", str(old)]) == 0
    assert (old / "model" / INT8_FILE).is_file()
    assert "mean |Δp|" in capsys.readouterr().out


def test_one_explainer_shared_by_threads_gives_the_sequential_answers(clf):
    """The dashboard shares one Explainer across sessions: concurrent calls must not mix their SHAP state."""
    from concurrent.futures import ThreadPoolExecutor

    ex = Explainer(clf, "shap", max_evals=100)
    texts = synthetic_reviews(6, 33)["text"].tolist()
    sequential = [ex([t])[0].scores for t in texts]
    with ThreadPoolExecutor(3) as pool:
        concurrent = list(pool.map(lambda t: ex([t])[0].scores, texts))
    for s, c in zip(sequential, concurrent):
        assert np.allclose(s, c)


def test_long_review_explains_only_what_the_model_sees(clf):
    text = "The film was dull. " * 100 + "The ending was wonderful."
    ex = Explainer(clf, "grad")
    [a] = ex([text])
    assert a.truncated and len(a.tokens) == 46  # 48-token window minus [CLS]/[SEP]
    vis, trunc = ex.visible_text(text)
    assert trunc and " … " in vis and vis.endswith("wonderful.")


def test_shap_on_a_long_review_masks_only_the_pieces_the_model_reads(clf):
    """The "…" that marks the cut is a word-piece the model never read: SHAP must not score it (it did, so its
    words did not line up with the model's input and the faithfulness benchmark rejected truncated reviews)."""
    from pipeline.analysis.explain.faithfulness import word_of_piece

    text = "The film was dull. " * 100 + "The ending was wonderful."
    [a] = Explainer(clf, "shap", max_evals=60)([text])
    ids = clf.encode([text]).ids[0]
    words = word_of_piece(clf.tokenizer.convert_ids_to_tokens(ids.tolist())[1:-1])
    assert a.truncated and "…" not in a.tokens
    assert len(a.tokens) == int(words.max()) + 1  # one unit per word the model read, nothing else
    assert " ".join(a.tokens).lower().endswith("the ending was wonderful .")
    assert a.completeness_gap < 1e-3  # the masked rows' full row is exactly the model's input


def test_wrong_side_words_count_each_errors_strongest_pushes():
    """A word in every error with tiny pushes (used many times) must not outrank the word that decided the errors."""
    import pandas as pd

    from pipeline.analysis.explain import wrong_side_tokens

    rows = []
    for i in range(6):  # false positives: the wrong side is positive
        tokens = ["the", "plot", "the", "cast", "the", "brilliant" if i < 3 else "ok", "the", "end", "the", "the"]
        scores = [0.02, 0.0, 0.02, -0.1, 0.02, 0.4 if i < 3 else 0.01, 0.02, 0.03, 0.02, 0.02]
        rows.append(
            {
                "id": f"fp{i}",
                "correct": False,
                "label": 0,
                "pred": 1,
                "method": "shap",
                "tokens": tokens,
                "scores": scores,
            }
        )
    rows.append(
        {
            "id": "fn",
            "correct": False,
            "label": 1,
            "pred": 0,
            "method": "shap",
            "tokens": ["dull", "brilliant"],
            "scores": [-0.5, 0.3],
        }
    )  # pushes negative: dull is wrong-side
    rows.append(
        {"id": "ok", "correct": True, "label": 1, "pred": 1, "method": "shap", "tokens": ["brilliant"], "scores": [0.9]}
    )  # correct predictions are not counted
    agg = wrong_side_tokens(pd.DataFrame(rows), per_review=1).set_index("token")
    assert agg.loc["brilliant", "reviews"] == 3 and agg.loc["brilliant", "in_errors"] == 4
    assert agg.loc["dull", "reviews"] == 1
    assert "the" not in agg.index or agg.loc["the", "reviews"] < 3  # 6 × 0.02 would have won as a sum
    assert "cast" not in agg.index  # pushed toward the right answer
    assert list(agg.index[:1]) == ["brilliant"]
    # the same errors explained again with a second method (an older analysis's SHAP beside a newer one's IG):
    # counted once, with the method that explains the most errors, never the two scales mixed
    ig = [{**r, "method": "ig", "scores": [10 * x for x in r["scores"]]} for r in rows[:3]]
    both = wrong_side_tokens(pd.DataFrame(rows + ig), per_review=1).set_index("token")
    assert both.loc["brilliant", "reviews"] == 3 and both.loc["brilliant", "in_errors"] == 4
    assert both["total_push"].max() < 2  # SHAP's scale, not IG's ×10
    only_ig = wrong_side_tokens(pd.DataFrame(rows + ig), per_review=1, method="ig").set_index("token")
    assert only_ig.loc["brilliant", "reviews"] == 3 and only_ig.loc["brilliant", "in_errors"] == 3


def test_html_escapes_user_text():
    a = Attribution(["<script>alert(1)</script>", "great", "##ly"], [0.5, -0.2, 0.1], 0.5, 0.9, "grad", units="logit")
    h = attribution_html(a)
    assert "<script>" not in h and "&lt;script&gt;" in h
    assert "greatly" in h and "rgba(37,99,235" in h and "rgba(220,38,38" in h  # blue and red
    assert "pushes positive" in h and 'title="' in h
    s = safe_review_html('Nice<br /><br /><img src=x onerror="alert(1)">')
    assert "<img" not in s and s.count("<br>") == 2


def test_baseline_supports_shap_only(baseline_run):
    from pipeline.classifiers import load_classifier

    base = load_classifier(baseline_run)
    with pytest.raises(ValueError, match="needs a transformer"):
        Explainer(base, "ig")
    [a] = Explainer(base, "shap", max_evals=100)(["A wonderful film, but the ending was awful."])
    scores = dict(zip(a.tokens, a.scores))
    assert scores["wonderful"] > 0 > scores["awful"]
    assert Explainer(base).method == "shap"  # without gradients the default falls back to what it supports


def test_no_method_given_means_the_run_kinds_measured_default(clf):
    """Issue #16: IG, the most comprehensive method within the batch budget on median-length reviews."""
    ex = Explainer(clf)
    assert ex.method == DEFAULT_METHOD == "ig"
    [a] = ex(["The acting was not good at all."])
    assert a.method == "ig" and len(a.tokens) == len(a.scores) > 0


def test_int8_scores_do_not_depend_on_what_was_scored_before(clf):
    """Issue #17's cause: one TFLite interpreter resized between batch shapes scored the same batch differently
    afterwards (0.076 logit on the demo MiniLM), so SHAP values depended on the reviews explained before."""
    from pipeline.classifiers.transformer.int8 import Int8Scorer

    blob = clf.int8_scorer()._blob
    texts = synthetic_reviews(8, 11)["text"].tolist()
    ids = clf.encode(texts).ids

    def batch(rows: int, width: int):
        b = np.zeros((rows, width), np.int32)
        for i in range(rows):
            x = ids[i][: width - 1]
            b[i, : len(x)] = x
            b[i, len(x)] = clf.tokenizer.sep_token_id
        return b, (b != 0).astype(np.int32)

    fresh = Int8Scorer(blob)(*batch(3, 24))
    used = Int8Scorer(blob)
    used(*batch(3, 24))
    used(*batch(1, 40))
    used(*batch(5, 16))
    np.testing.assert_array_equal(used(*batch(3, 24)), fresh)
    rows = np.concatenate([Int8Scorer(blob)(*(a[i : i + 1] for a in batch(3, 24))) for i in range(3)])
    np.testing.assert_allclose(rows, fresh, atol=1e-6)  # a row's logits do not depend on its batch


def test_default_shap_is_the_benchmarked_default(synthetic_run):
    """Issue #17: the README's default SHAP row is benchmarks/attributions.py's ``default`` variant, which passes no
    settings, so it and ``Explainer.from_run(run, method="shap")`` both take the registry's defaults (one source);
    the literal pins what the README measured: changing the default means re-running the benchmark."""
    from benchmarks.attributions import DEFAULT_SHAP_SPEC, shap_explainer, shap_overrides, variant_name
    from pipeline.analysis.explain import METHODS

    assert shap_overrides(DEFAULT_SHAP_SPEC) == {}
    api = Explainer.from_run(synthetic_run, method="shap")
    bench = shap_explainer(synthetic_run, DEFAULT_SHAP_SPEC)
    assert api.clf is not bench.clf  # the benchmark loads its own classifier, like a user's from_run
    text = synthetic_reviews(1, 5)["text"][0]
    [a], [b] = api([text]), bench([text])
    # the README's "(default)" row
    benchmarked = {
        "max_evals": 1000,
        "batch_size": 64,
        "precision": "int8",
        "unit": "word",
        "masker": "ids",
        "context": "both",
    }
    assert a.settings == b.settings == METHODS["shap"].defaults(api.clf.capabilities) == benchmarked
    assert variant_name(DEFAULT_SHAP_SPEC, b.settings) == "shap_1000_int8_word_ids"
    assert (a.method, a.units, b.units) == ("shap", "probability", "probability")
    assert a.tokens == b.tokens and a.scores == b.scores  # two objects, same answer (history-independent int8)


def test_id_masker_gives_the_string_maskers_values_on_short_texts(clf):
    """Issue #16: masking token ids (no masked strings, no re-tokenising) is the same computation as shap's Text
    masker when the units are word-pieces: same features, same partition tree, same collapsed [MASK]."""
    texts = ["the film was great", "a bad and boring story.", "great acting, awful plot, lovely music"]
    strings = Explainer(clf, "shap", masker="text", unit="token", precision="float32", max_evals=200)
    ids = Explainer(clf, "shap", masker="ids", unit="token", precision="float32", max_evals=200)
    for text in texts:
        [a], [b] = strings([text]), ids([text])
        assert a.tokens == b.tokens
        assert np.allclose(a.scores, b.scores, atol=1e-6) and a.base_value == pytest.approx(b.base_value, abs=1e-6)


def test_word_units_merge_word_pieces_and_stay_complete(clf):
    from pipeline.analysis.explain.id_masker import TokenIdMasker

    text = "an unbelievably wonderful screenplay"
    pieces = clf.tokenizer.tokenize(text)
    assert any(p.startswith("##") for p in pieces)  # the text really has multi-piece words
    masker = TokenIdMasker(clf.tokenizer, unit="word")
    assert masker.units(text) == text.split()
    # masking a word masks all its pieces, and a run of masked words becomes one [MASK]
    (row,) = masker(np.array([True, True, False, False, True, True]), text)
    mask_id = clf.tokenizer.mask_token_id
    assert clf.tokenizer.convert_ids_to_tokens(row[0].tolist()) == ["[CLS]", "an", "[MASK]", "screenplay", "[SEP]"]
    assert mask_id in row[0]
    [a] = Explainer(clf, "shap", precision="float32", max_evals=200)([text])
    assert a.tokens == text.split() and a.settings["unit"] == "word"
    assert a.completeness_gap < 1e-6  # float32: the scores sum to p(text) − p(all masked)
    with pytest.raises(ValueError, match="unit"):
        Explainer(clf, "shap", masker="text", unit="word")([text])


def test_int8_row_scores_do_not_depend_on_their_batch_mates(clf):
    """Issue #16 batches rows for the int8 interpreter again (fixed shapes per width): a row must score the same
    whatever else shares its call, and the same as alone."""
    from pipeline.classifiers.transformer.int8 import Int8Scorer

    blob = clf.int8_scorer()._blob
    ids = clf.encode(synthetic_reviews(12, 13)["text"].tolist()).ids
    width = 24
    rows = np.zeros((12, width), np.int32)
    for i, x in enumerate(ids):
        x = list(x[: width - 1]) + [clf.tokenizer.sep_token_id]
        rows[i, : len(x)] = x
    mask = (rows != 0).astype(np.int32)
    scorer = Int8Scorer(blob, batch_tokens=8 * 32)  # 8 rows per call at this width
    assert scorer.rows_per_call(32) == 8
    alone = np.concatenate([Int8Scorer(blob, batch_tokens=0)(rows[i : i + 1], mask[i : i + 1]) for i in range(12)])
    for order in (np.arange(12), np.arange(12)[::-1], np.random.default_rng(0).permutation(12)):
        got = np.empty_like(alone)
        got[order] = scorer(rows[order], mask[order])
        np.testing.assert_array_equal(got, alone)


def test_the_defaults_are_the_most_faithful_within_their_budgets():
    """Issue #16: the API/CLI/precompute default and the Live page's default are chosen by measured comprehensiveness
    within a latency budget (pipeline/analysis/explain/measured.json, from benchmarks/faithfulness.py)."""
    from pipeline.analysis.explain import DEFAULT_METHOD
    from pipeline.analysis.explain.methods import (
        BATCH_BUDGET_SECONDS,
        LIVE_BUDGET_SECONDS,
        best_method,
        faithfulness_label,
        measured,
    )
    from pipeline.classifiers.base import GRADIENTS, INT8, TOKENIZER

    transformer = frozenset({TOKENIZER, GRADIENTS, INT8})
    assert set(measured()) >= {"grad", "ig", "shap"}
    assert DEFAULT_METHOD == best_method(transformer, BATCH_BUDGET_SECONDS)
    live = best_method(transformer, LIVE_BUDGET_SECONDS)
    assert measured()[live]["seconds_p50"] <= LIVE_BUDGET_SECONDS
    assert all(
        measured()[m]["comprehensiveness_aopc"] <= measured()[live]["comprehensiveness_aopc"]
        for m in ("grad", "ig", "shap")
        if measured()[m]["seconds_p50"] <= LIVE_BUDGET_SECONDS
    )
    assert best_method(frozenset(), LIVE_BUDGET_SECONDS) == "shap"  # the TF-IDF baseline: SHAP is all it has
    assert faithfulness_label("grad").startswith("comprehensiveness ")


def test_the_int8_copy_survives_renaming_the_folder_it_was_saved_in(clf, tmp_path, caplog):
    """A run is written into a staging folder that is renamed when complete, and its analysis then explains with
    the int8 copy: that copy must come from memory, not be quantized a second time (~20 s for MiniLM)."""
    import logging

    from pipeline.classifiers.transformer.classifier import TFClassifier

    fresh = TFClassifier(clf.model, clf.tokenizer, clf.truncation, clf.temperature)
    staging = tmp_path / "run.partial"
    staging.mkdir()
    fresh.save_int8(staging)
    staging.rename(tmp_path / "run")
    with caplog.at_level(logging.INFO, logger="pipeline.classifiers.transformer.classifier"):
        blob = fresh.int8_scorer()._blob
    assert blob == (tmp_path / "run" / "int8.tflite").read_bytes()
    assert not [r for r in caplog.records if "quantizing" in r.getMessage()]
