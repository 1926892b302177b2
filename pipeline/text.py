"""What the model reads of a review, and the plain word split the rule-based detectors use."""

from __future__ import annotations

import html
import re

_BR = re.compile(r"<\s*br\s*/?\s*>", re.I)
_TAG = re.compile(r"</?[a-zA-Z][^<>]{0,200}>")
_WS = re.compile(r"[ \t\r\f\v]+")
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def clean_text(text: str) -> str:
    """``<br />`` becomes a line break, other tags go, entities are decoded, runs of spaces collapse.

    Linear time: whitespace around line breaks is removed line by line (``str.strip``), not by a regex such as
    ``\\s*\\n\\s*``, which backtracks quadratically on long runs of Unicode spaces (200k em-spaces took ~3 min).
    The raw text is kept elsewhere for display; this only feeds tokenizers and detectors.
    """
    text = _BR.sub("\n", text)
    text = _TAG.sub(" ", text)
    text = _WS.sub(" ", html.unescape(text))
    return "\n".join(line for line in (part.strip() for part in text.split("\n")) if line)


def words(text: str) -> list[str]:
    """Lower-cased words with inner apostrophes (``don't``), no punctuation or digits."""
    return _WORD.findall(text.lower())
