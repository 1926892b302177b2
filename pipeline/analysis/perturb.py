"""Small text edits for "what if" variants and behavioural tests. Pure Python, deterministic."""

from __future__ import annotations

import re

_SENT = re.compile(r"(?<=[.!?])\s+")
_NEGATABLE = re.compile(r"\b(is|was|are|were|am)\b(?!\s+not\b)(?!\s+n't\b)", re.I)
_NEGATED = re.compile(
    r"\b(is|was|are|were|am|do|does|did)\s+not\b|\b(isn't|wasn't|aren't|weren't|don't|doesn't|didn't)\b", re.I
)


def sentences(text: str) -> list[str]:
    return [s for s in _SENT.split(text.strip()) if s.strip()]


def negate(text: str) -> str | None:
    """Flip the first copula: "was great" → "was not great"; remove a first "not" instead. None if neither."""
    m = _NEGATED.search(text)
    if m:
        if m.group(1):
            return text[: m.start()] + m.group(1) + text[m.end() :]
        contracted = {
            "isn't": "is",
            "wasn't": "was",
            "aren't": "are",
            "weren't": "were",
            "don't": "do",
            "doesn't": "does",
            "didn't": "did",
        }
        return text[: m.start()] + contracted[m.group(2).lower()] + text[m.end() :]
    m = _NEGATABLE.search(text)
    if m:
        return text[: m.end()] + " not" + text[m.end() :]
    return None


def variants(text: str) -> dict[str, str]:
    """Named edits of ``text`` that are meaningful for it (e.g. no sentence removal for one sentence)."""
    out: dict[str, str] = {}
    neg = negate(text)
    if neg and neg != text:
        out["negated (first is/was flipped)"] = neg
    sents = sentences(text)
    if len(sents) > 1:
        out["last sentence removed"] = " ".join(sents[:-1])
        out["first sentence removed"] = " ".join(sents[1:])
        out["only the last sentence"] = sents[-1]
    out["+ 'Overall, I loved it.'"] = text.rstrip() + " Overall, I loved it."
    out["+ 'Overall, I hated it.'"] = text.rstrip() + " Overall, I hated it."
    out["no punctuation"] = re.sub(r"[^\w\s']", " ", text)
    return out
