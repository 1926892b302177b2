"""Classifiers behind one framework-free boundary (``base``), built from run folders by ``registry``.

``transformer/`` is the TensorFlow implementation (the only code importing TensorFlow); ``baseline`` is
TF-IDF + logistic regression; ``sources`` finds checkpoints and tokenizers. The registry (which reads run
folders, and so imports pandas) loads on first use: ``python -m pipeline`` answers a bad flag in ~1 s.
"""

from .base import GRADIENTS, INT8, PRECISIONS, TOKENIZER, Classifier, logits_to_prob, score_texts

_FROM_REGISTRY = ("RUN_KINDS", "load_classifier", "run_kind")


def __getattr__(name: str):
    if name in _FROM_REGISTRY:
        from . import registry

        return getattr(registry, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Classifier",
    "GRADIENTS",
    "INT8",
    "PRECISIONS",
    "TOKENIZER",
    *_FROM_REGISTRY,
    "logits_to_prob",
    "score_texts",
]
