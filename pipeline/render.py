"""The one rendering rule for user-controlled strings (review text, ids from a permalink, fields of a run
folder, which anyone who shares a run can write): HTML is escaped with :func:`html.escape`, Markdown with
:func:`md_escape`, CSV cells with :func:`csv_safe`. A review holding ``<script>``, ``[a link](…)``,
``![img](…)`` or ``=HYPERLINK(…)`` shows as text: it never runs, links, loads or computes."""

from __future__ import annotations

import html
import re

import pandas as pd

from .analysis.explain.attribution import Attribution

_BR = re.compile(r"(?:&lt;|<)\s*br\s*/?\s*(?:&gt;|>)", re.I)


_MD_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def md_escape(text: object) -> str:
    """``text`` as literal Markdown: every ASCII punctuation character backslash-escaped (CommonMark), so no
    link, image, autolink (``http\\://``), emphasis, HTML or Streamlit directive (``:red[…]``) survives;
    line breaks become spaces (one-line captions)."""
    return _MD_SPECIAL.sub(r"\\\1", str(text)).replace("\n", " ").replace("\r", " ")


def csv_safe(df: pd.DataFrame, header: bool = True) -> str:
    """CSV text of ``df`` with spreadsheet formulas defused (OWASP): a text cell starting with ``= + - @``,
    tab or carriage return gets a leading ``'``, so ``=HYPERLINK(…)`` opens as text, not as a live link.
    ``header=False``: rows only (a chunk appended to a CSV already started)."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(lambda v: "'" + v if isinstance(v, str) and v.startswith(_FORMULA_START) else v)
    return out.to_csv(index=False, header=header)


def safe_review_html(raw: str) -> str:
    """The raw review, escaped, with IMDB's ``<br />`` shown as line breaks (the only markup we render)."""
    return _BR.sub("<br>", html.escape(raw))


def _colour(score: float, scale: float) -> str:
    """Blue for positive push, red for negative, alpha by magnitude (centred at zero)."""
    a = min(abs(score) / scale, 1.0) * 0.85 if scale > 0 else 0.0
    rgb = "37,99,235" if score > 0 else "220,38,38"
    return f"rgba({rgb},{a:.3f})"


def attribution_html(attr: Attribution, merge_words: bool = True, max_tokens: int = 4000) -> str:
    """Tokens on a red (→ negative) / blue (→ positive) scale centred at zero, with a legend and a
    tooltip per token giving its score. Scale: the largest absolute score in this text."""
    a = attr.merged_words() if merge_words else attr
    toks, scores = a.tokens[:max_tokens], a.scores[:max_tokens]
    scale = max((abs(s) for s in scores), default=0.0)
    spans = []
    for t, s in zip(toks, scores):
        label = html.escape(t)
        glue = t.startswith("##") and not merge_words
        if glue:
            label = html.escape(t[2:])
        spans.append(
            ("" if glue else " ") + f'<span title="{html.escape(t)}: {s:+.4f} {html.escape(a.units)}" '
            f'style="background:{_colour(s, scale)};border-radius:3px;padding:1px 2px">{label}</span>'
        )
    more = f" <em>… {len(a.tokens) - max_tokens} more tokens</em>" if len(a.tokens) > max_tokens else ""
    legend = (
        '<div style="font-size:0.8em;margin-bottom:6px;color:#555">'
        f'<span style="background:{_colour(-1, 1)};padding:1px 6px;border-radius:3px">pushes negative</span> '
        f'<span style="background:{_colour(1, 1)};padding:1px 6px;border-radius:3px">pushes positive</span> '
        f"&nbsp;method {html.escape(attr.method)}, scores in {html.escape(attr.units)}, max |score| {scale:.3g}; "
        f"P(positive) {attr.prob_pos:.3f}"
        + (" · truncated: only the part the model sees is shown" if attr.truncated else "")
        + "</div>"
    )
    return (
        f'<div class="attribution" style="line-height:1.9;font-family:sans-serif">{legend}'
        f"<div>{''.join(spans).strip()}{more}</div></div>"
    )


_DEL_STYLE = "background:rgba(220,38,38,0.25);text-decoration:line-through;border-radius:3px;padding:0 2px"
_INS_STYLE = "background:rgba(22,163,74,0.28);border-radius:3px;padding:0 2px"


def word_diff_html(before: str, after: str) -> tuple[str, str]:
    """Both texts as escaped HTML with the words that differ highlighted: deleted words struck through in red
    on the ``before`` side, inserted words in green on the ``after`` side (``difflib.SequenceMatcher`` on
    whitespace-separated words, no junk heuristic). Every word goes through :func:`html.escape`; IMDB's
    ``<br />`` becomes a line break."""
    import difflib

    brk = "\x00"  # a line break as its own word, so a diff never cuts "<br />" in half
    a, b = _BR.sub(f" {brk} ", before).split(), _BR.sub(f" {brk} ", after).split()
    left, right = [], []

    def words(ws: list[str], style: str | None) -> str:
        text = " ".join("<br>" if w == brk else html.escape(w) for w in ws)
        return (
            f'<span class="{"del" if style == _DEL_STYLE else "ins"}" style="{style}">{text}</span>' if style else text
        )

    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            left.append(words(a[i1:i2], None))
            right.append(words(b[j1:j2], None))
            continue
        if i2 > i1:
            left.append(words(a[i1:i2], _DEL_STYLE))
        if j2 > j1:
            right.append(words(b[j1:j2], _INS_STYLE))
    box = '<div class="word-diff" style="line-height:1.6;max-height:480px;overflow:auto">{}</div>'
    return box.format(" ".join(left)), box.format(" ".join(right))
