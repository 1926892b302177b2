"""TF-IDF (word 1–2 grams) + logistic regression: the 20-second bar a fine-tuned BERT must clear.

Stored with ``skops`` rather than pickle: loading a pickle from a shared run folder runs arbitrary code,
while skops only rebuilds the types we allow below.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from ..text import clean_text
from .base import PRECISIONS

# Types a baseline file may contain; anything else in a .skops file is refused.
TRUSTED_TYPES = {
    "sklearn.pipeline.Pipeline",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "numpy.float64",
    "numpy.int64",
    "builtins.dict",
    "builtins.str",
    "builtins.tuple",
    "builtins.list",
    "scipy.sparse._csr.csr_matrix",
    "scipy.sparse._csr.csr_array",
    "numpy.dtype",
}
MODEL_FILE = "baseline/model.skops"


class BaselineClassifier:
    """``prob_positive(texts) -> P(positive)``; reads words, not word-pieces, and has one precision."""

    kind = "baseline"
    capabilities: frozenset[str] = frozenset()
    temperature = 1.0

    def __init__(self, pipe: Pipeline):
        self.pipe = pipe

    @classmethod
    def fit(cls, texts, labels, seed: int = 42) -> BaselineClassifier:
        pipe = Pipeline(
            [
                (
                    "tfidf",
                    TfidfVectorizer(
                        ngram_range=(1, 2), min_df=2, max_df=0.9, sublinear_tf=True, strip_accents="unicode"
                    ),
                ),
                ("lr", LogisticRegression(C=10.0, max_iter=2000, random_state=seed)),
            ]
        )
        pipe.fit([clean_text(t) for t in texts], np.asarray(labels))
        return cls(pipe)

    def prob_positive(self, texts: Sequence[str], *, precision: str = "float32") -> np.ndarray:
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        if len(texts) == 0:
            return np.zeros(0)
        return self.pipe.predict_proba([clean_text(t) for t in texts])[:, 1]

    def save(self, path: Path) -> None:
        import skops.io as sio

        path.parent.mkdir(parents=True, exist_ok=True)
        sio.dump(self.pipe, path)

    @classmethod
    def load(cls, path: Path) -> BaselineClassifier:
        import skops.io as sio

        untrusted = set(sio.get_untrusted_types(file=path))
        unexpected = untrusted - TRUSTED_TYPES
        if unexpected:
            raise ValueError(f"{path}: refusing to load unexpected types {sorted(unexpected)}")
        return cls(sio.load(path, trusted=sorted(untrusted)))
