"""TF-IDF (word 1–2 grams) + logistic regression: the 20-second bar a fine-tuned BERT must clear.

Stored with ``skops`` rather than pickle: loading a pickle from a shared run folder runs arbitrary code,
while skops only rebuilds the types we allow below.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from .data import clean_text

# Types a baseline file may contain; anything else in a .skops file is refused.
TRUSTED_TYPES = {"sklearn.pipeline.Pipeline", "sklearn.feature_extraction.text.TfidfVectorizer",
                 "sklearn.linear_model._logistic.LogisticRegression", "numpy.float64", "numpy.int64",
                 "builtins.dict", "builtins.str", "builtins.tuple", "builtins.list",
                 "scipy.sparse._csr.csr_matrix", "scipy.sparse._csr.csr_array", "numpy.dtype"}


class BaselineClassifier:
    """``predict_proba(texts) -> P(positive)``, same interface as the transformer classifier."""

    temperature = 1.0

    def __init__(self, pipe: Pipeline):
        self.pipe = pipe

    @classmethod
    def fit(cls, texts, labels, seed: int = 42) -> "BaselineClassifier":
        pipe = Pipeline([
            ("tfidf", TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_df=0.9, sublinear_tf=True,
                                      strip_accents="unicode")),
            ("lr", LogisticRegression(C=10.0, max_iter=2000, random_state=seed)),
        ])
        pipe.fit([clean_text(t) for t in texts], np.asarray(labels))
        return cls(pipe)

    def predict_proba(self, texts, progress=None) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros(0)
        p = self.pipe.predict_proba([clean_text(t) for t in texts])[:, 1]
        if progress is not None:
            progress.update(len(texts))
        return p

    def save(self, path: Path) -> None:
        import skops.io as sio

        path.parent.mkdir(parents=True, exist_ok=True)
        sio.dump(self.pipe, path)

    @classmethod
    def load(cls, path: Path) -> "BaselineClassifier":
        import skops.io as sio

        untrusted = set(sio.get_untrusted_types(file=path))
        unexpected = untrusted - TRUSTED_TYPES
        if unexpected:
            raise ValueError(f"{path}: refusing to load unexpected types {sorted(unexpected)}")
        return cls(sio.load(path, trusted=sorted(untrusted)))


def run_baseline(splits, cfg, writer) -> Path:
    """Fit on train (validation only for reporting), score test, write a run folder."""
    import pandas as pd

    from .evaluate import predictions_frame, write_run
    from .metrics import classification_metrics, expected_calibration_error
    from .model import encode, packaged_minilm_dir

    t0 = time.perf_counter()
    clf = BaselineClassifier.fit(splits.train["text"], splits.train["label"], cfg.seed)
    t_fit = time.perf_counter() - t0
    clf.save(writer.path("baseline/model.skops"))
    t1 = time.perf_counter()
    prob = clf.predict_proba(splits.test["text"].tolist())
    t_score = time.perf_counter() - t1
    val = classification_metrics(splits.val["label"].to_numpy(), clf.predict_proba(splits.val["text"].tolist()))
    # Token facts use the BERT tokenizer, so length slices line up with the transformer runs.
    try:
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(str(packaged_minilm_dir()))
        enc = encode(splits.test["text"], tok, cfg.max_length, cfg.truncation, cfg.head_len)
        facts = pd.DataFrame({"n_tokens": enc.n_tokens, "truncated": np.zeros(len(prob), dtype=bool)})
    except Exception:
        words = splits.test["text"].str.split().str.len().to_numpy()
        facts = pd.DataFrame({"n_tokens": words, "truncated": np.zeros(len(prob), dtype=bool)})
    timings = {"train": {"seconds": round(t_fit, 2), "samples": len(splits.train),
                         "samples_per_s": round(len(splits.train) / t_fit, 1)},
               "score_test": {"seconds": round(t_score, 2), "reviews_per_s": round(len(prob) / t_score, 1)}}
    ece = expected_calibration_error(splits.test["label"].to_numpy(), prob)
    calibration = {"temperature": 1.0, "fitted_on": None, "ece_test_before": ece, "ece_test_after": ece}
    cfg.model = "tfidf-logreg"
    return write_run(writer, cfg, splits, predictions_frame(splits.test, prob, facts), kind="baseline",
                     timings=timings, calibration=calibration, validation=val)
