"""Classifiers behind one framework-free boundary (``base``), built from run folders by ``registry``.

``transformer/`` is the TensorFlow implementation (the only code importing TensorFlow); ``baseline`` is
TF-IDF + logistic regression; ``sources`` finds checkpoints and tokenizers.
"""

from .base import GRADIENTS, INT8, PRECISIONS, TOKENIZER, Classifier, logits_to_prob, score_texts
from .registry import RUN_KINDS, load_classifier, run_kind

__all__ = [
    "Classifier",
    "GRADIENTS",
    "INT8",
    "PRECISIONS",
    "TOKENIZER",
    "RUN_KINDS",
    "load_classifier",
    "logits_to_prob",
    "run_kind",
    "score_texts",
]
