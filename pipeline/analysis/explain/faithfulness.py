"""Removal-based faithfulness of attributions: ERASER's comprehensiveness and sufficiency (DeYoung et al., ACL 2020),
averaged over several rationale sizes (AOPC), on words.

For a review with predicted class ``c`` and the top ``k`` % of its words by attribution toward ``c``:

- comprehensiveness = p_c(review) − p_c(review without those words): high when the words the method names matter;
- sufficiency = p_c(review) − p_c(only those words): low when they alone carry the prediction.

AOPC averages each over ``k`` in :data:`BINS` (1, 5, 10, 20, 50 %; at least one word per bin).

Removal: a removed word's word-pieces become ``[PAD]`` (id 0), which the classifier attends to not at all
(attention mask 0), while every other piece keeps its position. That is deletion without shifting the positions of
the rest, and it is no method's own perturbation: SHAP is computed with ``[MASK]`` tokens, IG from ``[PAD]``
*embeddings that are attended to*, so neither is scored on the exact inputs it was built from. The same removal is
used for every method. Words are word-piece groups (a piece and its ``##`` continuations); methods that score
word-pieces are summed into words.

Framework-free: the model enters as ``score(rows) -> P(positive)`` over id rows with ``[CLS]``/``[SEP]``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

BINS = (0.01, 0.05, 0.10, 0.20, 0.50)
PAD_ID = 0  # [PAD] in BERT vocabularies; the classifier masks id 0 out of attention

Scorer = Callable[[list[np.ndarray]], np.ndarray]


def word_of_piece(pieces: Sequence[str]) -> np.ndarray:
    """For content word-pieces (no [CLS]/[SEP]): the index of the word each belongs to."""
    out, w = [], -1
    for p in pieces:
        if not (p.startswith("##") and w >= 0):
            w += 1
        out.append(w)
    return np.asarray(out, dtype=int)


def word_scores(scores: Sequence[float], word_of: np.ndarray) -> np.ndarray:
    """Scores per word from scores per piece (summed) or already per word (returned as they are)."""
    scores = np.asarray(scores, dtype=float)
    n_words = int(word_of.max()) + 1 if len(word_of) else 0
    if len(scores) == n_words:
        return scores
    if len(scores) != len(word_of):
        raise ValueError(f"{len(scores)} scores for {len(word_of)} word-pieces / {n_words} words")
    return np.bincount(word_of, weights=scores, minlength=n_words)


def removed(ids: np.ndarray, word_of: np.ndarray, words: np.ndarray, removal_id: int = PAD_ID) -> np.ndarray:
    """``ids`` ([CLS] … [SEP]) with the pieces of ``words`` set to ``removal_id`` (default [PAD]: attended to not
    at all; a sensitivity check passes [MASK]'s id)."""
    out = ids.copy()
    out[1:-1][np.isin(word_of, words)] = removal_id
    return out


@dataclass
class Faithfulness:
    """One review's ERASER numbers per bin (``BINS``) and their AOPC means."""

    comprehensiveness: list[float]
    sufficiency: list[float]
    n_words: int
    predicted: int

    @property
    def comprehensiveness_aopc(self) -> float:
        return float(np.mean(self.comprehensiveness))

    @property
    def sufficiency_aopc(self) -> float:
        return float(np.mean(self.sufficiency))


def eraser(
    ids: np.ndarray,
    word_of: np.ndarray,
    scores_toward_positive: Sequence[float],
    score: Scorer,
    bins: Sequence[float] = BINS,
    prob_positive: float | None = None,
    removal_id: int = PAD_ID,
) -> Faithfulness:
    """Comprehensiveness and sufficiency of one review's attribution for its predicted class, per bin.

    ``ids``: the review's token ids with [CLS]/[SEP]; ``word_of``: :func:`word_of_piece` of its content pieces;
    ``scores_toward_positive``: per piece or per word; ``score``: the model on id rows; ``prob_positive``: p(review)
    when already known; ``removal_id``: what a removed piece becomes (default [PAD]). Ties in the ranking go to the earlier word (a stable sort), the same rule for every method.
    """
    ws = word_scores(scores_toward_positive, word_of)
    p = float(score([ids])[0]) if prob_positive is None else float(prob_positive)
    c = int(p >= 0.5)
    sign = 1.0 if c == 1 else -1.0
    order = np.argsort(-sign * ws, kind="stable")
    n = len(ws)
    rows = []
    for b in bins:
        top = order[: max(1, int(round(b * n)))]
        rows.append(removed(ids, word_of, top, removal_id))  # without the rationale
        rows.append(removed(ids, word_of, np.setdiff1d(np.arange(n), top), removal_id))  # only the rationale
    pp = np.asarray(score(rows), dtype=float)
    pc = pp if c == 1 else 1.0 - pp
    p_c = p if c == 1 else 1.0 - p
    return Faithfulness(list(p_c - pc[0::2]), list(p_c - pc[1::2]), n, c)


def occlusion_scores(ids: np.ndarray, word_of: np.ndarray, score: Scorer, prob_positive: float | None = None):
    """Leave-one-word-out: p(review) − p(review without the word), per word, with the same removal as
    :func:`eraser` (one scored row per word)."""
    p = float(score([ids])[0]) if prob_positive is None else float(prob_positive)
    n = int(word_of.max()) + 1 if len(word_of) else 0
    rows = [removed(ids, word_of, np.array([w])) for w in range(n)]
    return p - np.asarray(score(rows), dtype=float) if rows else np.zeros(0)
