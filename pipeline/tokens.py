"""Word-pieces and truncation: the one place that knows which part of a review a transformer sees.

Framework-free: works with any Hugging Face tokenizer. Used by the transformer classifier (encoding), the
explainers (the visible text), the tags (the dropped part) and the baseline (length facts).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .text import clean_text

TRUNCATION_MODES = ("head", "tail", "head+tail")


@dataclass(frozen=True)
class Truncation:
    """Keep at most ``max_length - 2`` content word-pieces (``[CLS]``/``[SEP]`` take the other two).

    ``mode``: ``head`` keeps the start, ``tail`` the end, ``head+tail`` the first ``head_len`` and fills the
    rest of the window from the end (Sun et al. 2019).
    """

    max_length: int
    mode: str
    head_len: int

    @property
    def inner(self) -> int:
        return self.max_length - 2

    def split(self, ids: Sequence[int]) -> tuple[list[int], list[int], list[int]]:
        """``(kept head, dropped middle, kept tail)``; nothing is dropped when the ids fit."""
        ids = list(ids)
        inner = self.inner
        if len(ids) <= inner:
            return ids, [], []
        if self.mode == "head":
            return ids[:inner], ids[inner:], []
        if self.mode == "tail":
            return [], ids[: len(ids) - inner], ids[len(ids) - inner :]
        head = min(self.head_len, inner)
        tail = inner - head
        return ids[:head], ids[head : len(ids) - tail], ids[len(ids) - tail :]

    def keep(self, ids: Sequence[int]) -> list[int]:
        head, _, tail = self.split(ids)
        return head + tail


@dataclass
class Encoded:
    """Token ids per review (special tokens included, no padding) and what truncation did."""

    ids: list[np.ndarray]
    n_tokens: np.ndarray  # word-pieces of the whole cleaned review plus [CLS]/[SEP], before truncation
    truncated: np.ndarray  # bool: the model did not see the whole review


def pieces(texts: Sequence[str], tokenizer, batch: int = 2000) -> list[list[int]]:
    """Word-piece ids of each cleaned text, without special tokens and without truncation."""
    texts = [clean_text(t) for t in texts]
    out: list[list[int]] = []
    for i in range(0, len(texts), batch):
        out += tokenizer(
            texts[i : i + batch],
            add_special_tokens=False,
            truncation=False,
            return_attention_mask=False,
            return_token_type_ids=False,
            verbose=False,
        )["input_ids"]
    return out


def encode(texts: Iterable[str], tokenizer, truncation: Truncation, batch: int = 2000) -> Encoded:
    """Clean, tokenize and truncate. ``[CLS] … [SEP]`` are added after truncation."""
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    ids, n_tok, trunc = [], [], []
    for p in pieces(list(texts), tokenizer, batch):
        kept = truncation.keep(p)
        ids.append(np.asarray([cls, *kept, sep], dtype=np.int32))
        n_tok.append(len(p) + 2)
        trunc.append(len(kept) < len(p))
    return Encoded(ids, np.asarray(n_tok, dtype=np.int32), np.asarray(trunc, dtype=bool))


CUT_MARK = " … "  # where a truncated review's unread middle was, for display


def visible_text(text: str, tokenizer, truncation: Truncation, joiner: str = CUT_MARK) -> tuple[str, bool]:
    """What the model sees of ``text``: the cleaned text itself, or head + ``joiner`` + tail when truncated. The
    default joiner shows where the cut is; attribution methods pass ``" "``, because "…" is a word-piece of its own
    that the model never read (an attribution would score it)."""
    [ids] = pieces([text], tokenizer)
    head, dropped, tail = truncation.split(ids)
    if not dropped:
        return clean_text(text), False
    return joiner.join(tokenizer.decode(p) for p in (head, tail) if p), True


def dropped_text(text: str, tokenizer, truncation: Truncation, max_pieces: int | None = None) -> str:
    """The part of ``text`` the model never reads (decoded), at most ``max_pieces`` word-pieces of it."""
    [ids] = pieces([text], tokenizer)
    _, dropped, _ = truncation.split(ids)
    return tokenizer.decode(dropped[:max_pieces] if max_pieces else dropped)
