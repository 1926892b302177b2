"""The classifier boundary: what every run's model offers, with no framework in sight.

Probabilities in, probabilities out. A classifier says what else it can do through ``capabilities``
(checked by the explainers, tags and CLI instead of ``hasattr`` or run-kind names):

- ``TOKENIZER``: has ``tokenizer``, ``truncation`` (:class:`pipeline.tokens.Truncation`) and
  ``encode(texts) -> Encoded`` — it reads word-pieces, so the part it never sees can be named.
- ``GRADIENTS``: also ``embed(ids)`` and ``grad_margin_wrt_embeddings(emb, mask)`` (Integrated Gradients,
  gradient × input).
- ``INT8``: ``prob_positive(..., precision="int8")`` scores with a quantized copy; ``save_int8(folder)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from ..text import clean_text
from ..tokens import CUT_MARK, visible_text

TOKENIZER = "tokenizer"
GRADIENTS = "gradients"
INT8 = "int8"

# How a classifier can score texts: its float32 model, or an int8 copy (SHAP's many masked texts)
PRECISIONS = ("float32", "int8")
LABELS = {0: "negative", 1: "positive"}


@runtime_checkable
class Classifier(Protocol):
    """``prob_positive(texts) -> P(positive)`` (1-D, calibrated by ``temperature``), thread-safe."""

    kind: str
    temperature: float
    capabilities: frozenset[str]

    def prob_positive(self, texts: Sequence[str], *, precision: str = "float32") -> np.ndarray: ...


def logits_to_prob(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Softmax probability of class 1 after dividing two-class logits by ``temperature``."""
    z = (logits[:, 1] - logits[:, 0]) / temperature
    return 1.0 / (1.0 + np.exp(-z))


def score_texts(
    clf: Classifier, texts: Sequence[str], batch: int = 256, on_batch: Callable[[int], None] | None = None
) -> np.ndarray:
    """P(positive) for ``texts`` in batches of ``batch``; ``on_batch(n_done)`` after each (progress bars)."""
    out = np.zeros(len(texts), dtype=np.float32)
    for i in range(0, len(texts), batch):
        part = list(texts[i : i + batch])
        out[i : i + len(part)] = clf.prob_positive(part)
        if on_batch is not None:
            on_batch(i + len(part))
    return out


def seen_text(clf: Classifier, text: str, joiner: str = CUT_MARK) -> tuple[str, bool]:
    """What ``clf`` reads of ``text`` and whether truncation cut it: the head + ``joiner`` (default " … ") + tail
    for a classifier that reads word-pieces, the cleaned text for one that reads words (the baseline)."""
    if TOKENIZER not in clf.capabilities:
        return clean_text(text), False
    return visible_text(text, clf.tokenizer, clf.truncation, joiner)
