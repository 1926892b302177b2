"""ERASER comprehensiveness / sufficiency on a model whose right answer is known: its logit counts two words."""

import numpy as np
import pytest

from pipeline.analysis.explain.faithfulness import (
    BINS,
    PAD_ID,
    eraser,
    occlusion_scores,
    removed,
    word_of_piece,
    word_scores,
)

CLS, SEP, GOOD, BAD = 101, 102, 7, 8


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def counting_model(rows):
    """P(positive) = sigmoid(2·#GOOD − 2·#BAD): only those two words matter, each occurrence by 2 logits."""
    return np.array([sigmoid(2.0 * np.sum(r == GOOD) - 2.0 * np.sum(r == BAD)) for r in rows])


# ten one-piece words, GOOD twice: P = sigmoid(4), predicted positive
IDS = np.array([CLS, 10, GOOD, 11, GOOD, 12, 13, 14, 15, 16, 17, SEP])
WORD_OF = np.arange(10)
IS_GOOD = (IDS[1:-1] == GOOD).astype(float)


def test_the_right_attribution_gets_the_known_numbers():
    f = eraser(IDS, WORD_OF, IS_GOOD, counting_model)
    p = sigmoid(4)
    # bins 1, 5, 10 % of 10 words → 1 word (at least one); 20 % → 2; 50 % → 5
    assert f.predicted == 1 and f.n_words == 10
    assert np.allclose(f.comprehensiveness, [p - sigmoid(2)] * 3 + [p - 0.5] * 2)
    assert np.allclose(f.sufficiency, [p - sigmoid(2)] * 3 + [0.0] * 2)
    assert f.comprehensiveness_aopc == pytest.approx(np.mean(f.comprehensiveness))


def test_the_wrong_attribution_scores_worse_on_both():
    right = eraser(IDS, WORD_OF, IS_GOOD, counting_model)
    backwards = eraser(IDS, WORD_OF, -IS_GOOD, counting_model)
    # the five words it ranks first are all neutral: removing them changes nothing, keeping them loses everything
    assert np.allclose(backwards.comprehensiveness, 0.0)
    assert np.allclose(backwards.sufficiency, sigmoid(4) - 0.5)
    assert right.comprehensiveness_aopc > backwards.comprehensiveness_aopc
    assert right.sufficiency_aopc < backwards.sufficiency_aopc


def test_a_negative_prediction_ranks_words_toward_negative():
    ids = np.array([CLS, BAD, 10, 11, SEP])
    toward_positive = np.array([-1.0, 0.0, 0.0])  # BAD pushes toward negative: the rationale for "negative"
    f = eraser(ids, np.arange(3), toward_positive, counting_model, bins=(0.3,))
    assert f.predicted == 0
    assert f.comprehensiveness == pytest.approx([(1 - sigmoid(-2)) - 0.5])
    assert f.sufficiency == pytest.approx([0.0])


def test_word_pieces_are_removed_and_summed_as_words():
    pieces = ["the", "good", "##ish", "film"]
    wo = word_of_piece(pieces)
    assert wo.tolist() == [0, 1, 1, 2]
    assert word_scores([0.1, 0.2, 0.3, 0.4], wo).tolist() == pytest.approx([0.1, 0.5, 0.4])
    assert word_scores([1.0, 2.0, 3.0], wo).tolist() == [1.0, 2.0, 3.0]  # already per word
    ids = np.array([CLS, 20, 21, 22, 23, SEP])
    assert removed(ids, wo, np.array([1])).tolist() == [CLS, 20, PAD_ID, PAD_ID, 23, SEP]
    with pytest.raises(ValueError):
        word_scores([1.0, 2.0], wo)


def test_occlusion_finds_the_counted_words_and_is_the_best_at_one_word():
    occ = occlusion_scores(IDS, WORD_OF, counting_model)
    assert np.allclose(occ, IS_GOOD * (sigmoid(4) - sigmoid(2)))
    rng = np.random.default_rng(0)
    random = [eraser(IDS, WORD_OF, rng.standard_normal(10), counting_model).comprehensiveness_aopc for _ in range(20)]
    assert eraser(IDS, WORD_OF, occ, counting_model).comprehensiveness_aopc > np.mean(random)
    assert len(BINS) == 5
