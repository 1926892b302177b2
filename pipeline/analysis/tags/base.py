"""What a tag is: one small detector class per error type, registered by name (like cleanlab's issue types).

A tag declares its columns and what it needs from the run (``needs``: ``"model"`` for any classifier,
``"tokenizer"`` for one that reads word-pieces); the runner skips a tag whose needs the run cannot meet and
says so, instead of knowing tag names.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import ClassVar

import pandas as pd

from ...text import clean_text

MODEL = "model"  # a tag need: the run's classifier, whatever it is
# prediction columns that come from scoring with the run's classifier (a reviews file gets them only if a tag reads them)
MODEL_COLUMNS = ("prob_pos", "pred", "confidence", "n_tokens", "truncated")
VALIDATION_FILE = Path(__file__).with_name("validation.json")


@cache
def validation_records() -> dict[str, list[dict]]:
    """Tag name → how the tag was checked (data, n, precision / recall / ROC-AUC, date), from ``validation.json``
    (written by ``benchmarks/tag_validation.py`` and ``irony_fit``)."""
    return json.loads(VALIDATION_FILE.read_text()) if VALIDATION_FILE.is_file() else {}


@dataclass
class TagContext:
    """What detectors may use. ``classifier`` and ``train_texts`` may be ``None``."""

    predictions: pd.DataFrame
    classifier: object | None = None
    train_texts: pd.Series | None = None
    max_length: int = 256
    sample_ids: set = field(default_factory=set)


class Tag:
    """Base class. ``detect`` returns a frame aligned to the predictions with the boolean column ``name``
    (NaN = not computed for that review) and the extra columns listed in ``extra_columns``."""

    name: ClassVar[str]
    description: ClassVar[str]
    rule: ClassVar[str]
    needs: ClassVar[frozenset[str]] = frozenset()  # MODEL and/or classifier capabilities (e.g. "tokenizer")
    extra_columns: ClassVar[tuple[str, ...]] = ()
    # False for tags defined on disagreement with the label (their lift is 1 / error rate by construction)
    ranked_by_lift: ClassVar[bool] = True
    # prediction/data columns the tag cannot do without; where a reviews file lacks one the tag says so
    reads: ClassVar[frozenset[str]] = frozenset()
    # data columns the tag uses when a reviews file has them, and does without otherwise (irony: label, rating)
    optional_reads: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def columns(cls) -> tuple[str, ...]:
        return (cls.name, *cls.extra_columns)

    @classmethod
    def unmet_needs(cls, classifier) -> set[str]:
        """Needs the given classifier (``None``: no model loaded) cannot meet."""
        have = set() if classifier is None else {MODEL, *classifier.capabilities}
        return set(cls.needs) - have

    @classmethod
    def validation(cls) -> list[dict]:
        """How well this tag was measured to do its job (empty: never validated)."""
        return validation_records().get(cls.name, [])

    def detect(self, ctx: TagContext) -> pd.DataFrame:
        raise NotImplementedError


REGISTRY: dict[str, type[Tag]] = {}


def register(cls: type[Tag]) -> type[Tag]:
    REGISTRY[cls.name] = cls
    return cls


def text_rule(ctx: TagContext, fn: Callable[[str], float], name: str, threshold: float = 1) -> pd.DataFrame:
    """A score per cleaned review text, and the tag where it reaches ``threshold``."""
    score = ctx.predictions["text"].map(lambda t: fn(clean_text(t))).astype(float)
    return pd.DataFrame({name: score >= threshold, f"{name}_score": score})
