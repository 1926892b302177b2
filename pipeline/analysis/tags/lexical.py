"""Tags read from the review's words alone: irony cues, negated sentiment, contrast turns."""

from __future__ import annotations

import re

from ...text import words
from ..lexicon import NEGATIVE, NEGATORS, POSITIVE, polarity
from .base import Tag, register, text_rule

SARCASM_PHRASES = [
    r"\byeah,? right\b",
    r"\boh,? (?:great|joy|wonderful|brilliant|goody)\b",
    r"\bwhat a (?:treat|joy)\b",
    r"\bthanks a lot\b",
    r"\bas if\b",
    r"\bsure,? (?:it|that|because)\b",
    r"\bgee\b",
    r"\bwow,? just wow\b",
    r"\bbecause that makes sense\b",
    r"\bwho (?:knew|would have thought)\b",
    r"\bnot!",
    r"\bwhat were they thinking\b",
    r"\bwho thought (?:this|that) was a good idea\b",
    r"\bi(?:'m| am) sure\b",
    r"\bslow clap\b",
    r"\bbravo\b",
    r"\bkudos to\b",
]
_SARC = re.compile("|".join(SARCASM_PHRASES), re.I)
_SCARE = re.compile(r"[\"'“‘](\w+(?: \w+)?)[\"'”’]")
_EXCL = re.compile(r"[!?]{3,}|\?!|!\?")
_RHET = re.compile(r"\b(?:why|who|how|what) [^.?!]{3,80}\?", re.I)


def sarcasm_score(text: str) -> float:
    """Cue count: phrases (2 each), scare-quoted praise (2), praise inside a strongly negative review (1),
    runs of !!!/?!? (1), rhetorical questions (0.5 each, at most 1)."""
    s = 2.0 * len(_SARC.findall(text))
    s += 2.0 * sum(1 for m in _SCARE.finditer(text) if any(w in POSITIVE for w in words(m.group(1))))
    ws = words(text)
    pos, neg = sum(w in POSITIVE for w in ws), sum(w in NEGATIVE for w in ws)
    if pos and neg >= 3 * pos and neg >= 3:
        s += 1.0
    s += 1.0 if _EXCL.search(text) else 0.0
    s += min(1.0, 0.5 * len(_RHET.findall(text)))
    return s


@register
class SarcasmCues(Tag):
    name = "sarcasm_cues"
    extra_columns = ("sarcasm_cues_score",)
    description = (
        "Lexical/typographic irony cues: 'yeah right', 'oh great', scare-quoted praise, !!!, rhetorical questions."
    )
    rule = (
        "score ≥ 2 where an irony phrase or scare-quoted praise counts 2, praise inside a review with ≥3× "
        "as many negative words 1, '!!!'/'?!' 1, rhetorical questions 0.5 each (max 1). Known false "
        "positives: quoted titles or dialogue ('\"Good Night\"'), sincere 'bravo', genuine questions."
    )

    def detect(self, ctx):
        return text_rule(ctx, sarcasm_score, self.name, threshold=2)


def negation_count(text: str) -> float:
    """Negator followed within 3 words by a sentiment word: 'not good', "wasn't boring", 'hardly worth'."""
    ws = ["n't" if w.endswith("n't") else w for w in words(text)]
    n = 0
    for i, w in enumerate(ws):
        if w in NEGATORS:
            if any(polarity(x) for x in ws[i + 1 : i + 4]):
                n += 1
    return float(n)


@register
class Negation(Tag):
    name = "negation"
    extra_columns = ("negation_score",)
    description = "Negated sentiment phrases: 'not good', 'never boring', 'hardly worth'."
    rule = "a negator (not, never, n't, no, hardly, barely, …) followed within 3 words by a lexicon sentiment word"

    def detect(self, ctx):
        return text_rule(ctx, negation_count, self.name)


_TURN = re.compile(r"\b(?:but|however|although|though|yet|nevertheless|nonetheless|on the other hand|whereas)\b", re.I)


def contrast_score(text: str) -> float:
    """Turns whose two sides (±1 sentence) carry opposite lexicon sentiment."""
    n = 0
    for m in _TURN.finditer(text):
        rest = text[m.end() : m.end() + 300]
        comma = rest.find(",")
        if m.group(0).lower() in ("although", "though", "whereas") and 0 < comma < 150:
            # "Although A, B": the two sides are the clause and what follows its comma
            before, after = words(rest[:comma]), words(rest[comma + 1 :])[:25]
        else:
            before = words(text[max(0, m.start() - 300) : m.start()])[-25:]
            after = words(rest)[:25]
        sb = sum(polarity(w) for w in before)
        sa = sum(polarity(w) for w in after)
        if sb * sa < 0:
            n += 1
    return float(n)


@register
class Contrast(Tag):
    name = "contrast"
    extra_columns = ("contrast_score",)
    description = "A turn ('but', 'however', 'although', 'on the other hand') with opposite sentiment on each side."
    rule = (
        "lexicon sentiment of the 25 words before and after a turn word have opposite signs "
        "('Although A, B': A against B)"
    )

    def detect(self, ctx):
        return text_rule(ctx, contrast_score, self.name)
