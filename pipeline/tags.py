"""Error taxonomy: one small detector class per tag, registered by name, run over a run's predictions.

    python -m pipeline tag --run RUN      →  tags.parquet (id + one bool column per tag, plus scores)
                                             tags.json    (per tag: support, error rate, lift with 95 % CI)

Rule-based detectors read only the text; model-based ones (``mixed_sentiment``, ``truncated_verdict``) call
the run's own classifier and, because that costs a forward pass per sentence or dropped part, run on a
seeded random sample of at most ``sample`` reviews (others are "unknown" and excluded from their lift).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ClassVar

import numpy as np
import pandas as pd

from .data import clean_text
from .lexicon import NEGATIVE, NEGATORS, POSITIVE, polarity
from .perturb import sentences

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


@dataclass
class TagContext:
    """What detectors may use. ``classifier`` and ``train_texts`` may be ``None`` (those tags are skipped)."""
    predictions: pd.DataFrame
    classifier: object | None = None
    train_texts: pd.Series | None = None
    max_length: int = 256
    sample_ids: set = field(default_factory=set)


class Tag:
    """Base class: ``detect`` returns a boolean Series (NaN = not computed) aligned to predictions."""
    name: ClassVar[str]
    description: ClassVar[str]
    rule: ClassVar[str]
    needs_model: ClassVar[bool] = False

    def detect(self, ctx: TagContext) -> pd.DataFrame:  # columns: <name> (bool/NaN) and optional <name>_score
        raise NotImplementedError


REGISTRY: dict[str, type[Tag]] = {}


def register(cls: type[Tag]) -> type[Tag]:
    REGISTRY[cls.name] = cls
    return cls


def _text_rule(ctx: TagContext, fn: Callable[[str], float], name: str, threshold: float = 1) -> pd.DataFrame:
    score = ctx.predictions["text"].map(lambda t: fn(clean_text(t))).astype(float)
    return pd.DataFrame({name: score >= threshold, f"{name}_score": score})


# ---------------------------------------------------------------- rule-based tags

SARCASM_PHRASES = [r"\byeah,? right\b", r"\boh,? (?:great|joy|wonderful|brilliant|goody)\b", r"\bwhat a (?:treat|joy)\b",
                   r"\bthanks a lot\b", r"\bas if\b", r"\bsure,? (?:it|that|because)\b", r"\bgee\b", r"\bwow,? just wow\b",
                   r"\bbecause that makes sense\b", r"\bwho (?:knew|would have thought)\b", r"\bnot!",
                   r"\bwhat were they thinking\b", r"\bwho thought (?:this|that) was a good idea\b",
                   r"\bi(?:'m| am) sure\b", r"\bslow clap\b", r"\bbravo\b", r"\bkudos to\b"]
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
    description = "Lexical/typographic irony cues: 'yeah right', 'oh great', scare-quoted praise, !!!, rhetorical questions."
    rule = ("score ≥ 2 where an irony phrase or scare-quoted praise counts 2, praise inside a review with ≥3× "
            "as many negative words 1, '!!!'/'?!' 1, rhetorical questions 0.5 each (max 1). Known false "
            "positives: quoted titles or dialogue ('\"Good Night\"'), sincere 'bravo', genuine questions.")

    def detect(self, ctx):
        return _text_rule(ctx, sarcasm_score, self.name, threshold=2)


def negation_count(text: str) -> float:
    """Negator followed within 3 words by a sentiment word: 'not good', "wasn't boring", 'hardly worth'."""
    ws = ["n't" if w.endswith("n't") else w for w in words(text)]
    n = 0
    for i, w in enumerate(ws):
        if w in NEGATORS:
            if any(polarity(x) for x in ws[i + 1:i + 4]):
                n += 1
    return float(n)


@register
class Negation(Tag):
    name = "negation"
    description = "Negated sentiment phrases: 'not good', 'never boring', 'hardly worth'."
    rule = "a negator (not, never, n't, no, hardly, barely, …) followed within 3 words by a lexicon sentiment word"

    def detect(self, ctx):
        return _text_rule(ctx, negation_count, self.name)


_TURN = re.compile(r"\b(?:but|however|although|though|yet|nevertheless|nonetheless|on the other hand|whereas)\b", re.I)


def contrast_score(text: str) -> float:
    """Turns whose two sides (±1 sentence) carry opposite lexicon sentiment."""
    n = 0
    for m in _TURN.finditer(text):
        rest = text[m.end():m.end() + 300]
        comma = rest.find(",")
        if m.group(0).lower() in ("although", "though", "whereas") and 0 < comma < 150:
            # "Although A, B": the two sides are the clause and what follows its comma
            before, after = words(rest[:comma]), words(rest[comma + 1:])[:25]
        else:
            before = words(text[max(0, m.start() - 300):m.start()])[-25:]
            after = words(rest)[:25]
        sb = sum(polarity(w) for w in before)
        sa = sum(polarity(w) for w in after)
        if sb * sa < 0:
            n += 1
    return float(n)


@register
class Contrast(Tag):
    name = "contrast"
    description = "A turn ('but', 'however', 'although', 'on the other hand') with opposite sentiment on each side."
    rule = ("lexicon sentiment of the 25 words before and after a turn word have opposite signs "
            "('Although A, B': A against B)")

    def detect(self, ctx):
        return _text_rule(ctx, contrast_score, self.name)


def _column_tag(name: str, description: str, rule: str, fn: Callable[[TagContext], pd.Series]) -> type[Tag]:
    """A tag that is a plain condition on prediction columns."""
    cls = type(name.title().replace("_", ""), (Tag,), {
        "name": name, "description": description, "rule": rule,
        "detect": lambda self, ctx: pd.DataFrame({name: fn(ctx)})})
    return register(cls)


_column_tag("short", "Short review: fewer than 100 word-pieces.", "n_tokens < 100",
            lambda ctx: ctx.predictions["n_tokens"] < 100)
_column_tag("long", "Longer than the model's window (some of it was not read).", "n_tokens > max_length",
            lambda ctx: ctx.predictions["n_tokens"] > ctx.max_length)
_column_tag("mild_rating", "Lukewarm star rating: 4 or 7 stars.", "rating in {4, 7}",
            lambda ctx: ctx.predictions["rating"].isin([4, 7]))
_column_tag("extreme_rating", "Extreme star rating: 1 or 10 stars.", "rating in {1, 10}",
            lambda ctx: ctx.predictions["rating"].isin([1, 10]))


def _norm(text: str) -> str:
    return " ".join(words(clean_text(text)))


@register
class Duplicate(Tag):
    name = "duplicate"
    description = "Same text (after lower-casing and dropping punctuation/markup) in the training set or elsewhere in the test set."
    rule = "normalised text equal to a training review or another test review (near-duplicates differing only in case, punctuation, markup)"

    def detect(self, ctx):
        norm = ctx.predictions["text"].map(_norm)
        dup = norm.duplicated(keep=False)
        in_train = pd.Series(False, index=norm.index)
        if ctx.train_texts is not None:
            train = set(ctx.train_texts.map(_norm))
            in_train = norm.isin(train)
        return pd.DataFrame({self.name: dup | in_train, f"{self.name}_in_train": in_train})


@register
class SuspectedLabelNoise(Tag):
    name = "suspected_label_noise"
    description = "Model confidently disagrees with the given label (confident learning); check the star rating."
    rule = ("pred ≠ label and P(pred class) ≥ t_pred, where t_c is the mean P(c) over reviews labelled c "
            "(per-class threshold from out-of-sample test probabilities, Northcutt et al. 2021)")

    def detect(self, ctx):
        p = ctx.predictions
        p1 = p["prob_pos"].astype(float)
        t1 = p1[p["label"] == 1].mean()
        t0 = (1 - p1[p["label"] == 0]).mean()
        p_pred = np.where(p["pred"] == 1, p1, 1 - p1)
        thr = np.where(p["pred"] == 1, t1, t0)
        return pd.DataFrame({self.name: (p["pred"] != p["label"]) & (p_pred >= thr), f"{self.name}_score": p_pred})


# ---------------------------------------------------------------- model-based tags


@register
class MixedSentiment(Tag):
    name = "mixed_sentiment"
    description = "Sentences disagree: the run's own model finds clearly positive and clearly negative sentences."
    rule = ("score every sentence with the model; tag when ≥1 sentence has P(pos) ≥ 0.8 and ≥1 has P(pos) ≤ 0.2 "
            "and the positive share is between 0.25 and 0.75 (sampled reviews only)")
    needs_model = True

    def detect(self, ctx):
        p = ctx.predictions
        rows = p[p["id"].isin(ctx.sample_ids)]
        sents, owner = [], []
        for idx, t in zip(rows.index, rows["text"]):
            ss = [s for s in sentences(clean_text(t)) if len(s.split()) >= 3][:40]
            sents.extend(ss)
            owner.extend([idx] * len(ss))
        tag = pd.Series(np.nan, index=p.index, dtype=object)
        share = pd.Series(np.nan, index=p.index)
        if sents:
            probs = ctx.classifier.predict_proba(sents)
            df = pd.DataFrame({"owner": owner, "p": probs})
            g = df.groupby("owner")["p"]
            pos, neg, share_pos = g.apply(lambda x: (x >= 0.8).sum()), g.apply(lambda x: (x <= 0.2).sum()), g.apply(lambda x: (x >= 0.5).mean())
            flag = (pos >= 1) & (neg >= 1) & share_pos.between(0.25, 0.75)
            tag.loc[flag.index] = flag.astype(bool)
            share.loc[share_pos.index] = share_pos
        rest = rows.index.difference(tag.dropna().index)
        tag.loc[rest] = False  # sampled reviews without scorable sentences
        return pd.DataFrame({self.name: tag, f"{self.name}_pos_share": share})


@register
class TruncatedVerdict(Tag):
    name = "truncated_verdict"
    description = "Longer than the window, and the part the model never read, scored alone, disagrees with its prediction."
    rule = "truncated and the dropped middle (decoded, scored alone) is on the other side of 0.5 with P ≥ 0.7 / ≤ 0.3 (sampled reviews only)"
    needs_model = True

    def detect(self, ctx):
        p = ctx.predictions
        clf = ctx.classifier
        tag = pd.Series(np.nan, index=p.index, dtype=object)
        score = pd.Series(np.nan, index=p.index)
        rows = p[p["id"].isin(ctx.sample_ids)]
        tag.loc[rows.index[~rows["truncated"].to_numpy()]] = False
        rows = rows[rows["truncated"]]
        if rows.empty or not hasattr(clf, "tokenizer"):
            return pd.DataFrame({self.name: tag, f"{self.name}_dropped_prob": score})
        tok = clf.tokenizer
        dropped = []
        for t in rows["text"]:
            ids = tok(clean_text(t), add_special_tokens=False)["input_ids"]
            inner = clf.max_length - 2
            if clf.truncation == "head":
                part = ids[inner:]
            elif clf.truncation == "tail":
                part = ids[:len(ids) - inner]
            else:
                head = min(clf.head_len, inner)
                part = ids[head:len(ids) - (inner - head)]
            dropped.append(tok.decode(part[: 4 * inner]))
        probs = clf.predict_proba(dropped)
        pred = rows["pred"].to_numpy()
        disagree = np.where(pred == 1, probs <= 0.3, probs >= 0.7)
        tag.loc[rows.index] = disagree
        score.loc[rows.index] = probs
        return pd.DataFrame({self.name: tag, f"{self.name}_dropped_prob": score})


# ---------------------------------------------------------------- running and lift


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return (float("nan"), float("nan"))
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (c - h, c + h)


def lift_table(tags: pd.DataFrame, correct: pd.Series) -> list[dict]:
    """Per tag: support, error rate, lift = error rate / error rate of the reviews where the tag was computed,
    with a 95 % Wilson interval on the tag's error rate carried over to the lift."""
    out = []
    for name in [c for c in tags.columns if c in REGISTRY]:
        col = tags[name]
        known = col.notna()
        if not known.any():
            continue
        base_err = float((~correct[known]).mean())
        on = known & col.fillna(False).astype(bool)
        n, k = int(on.sum()), int((~correct[on]).sum())
        rate = k / n if n else float("nan")
        lo, hi = wilson(k, n)
        out.append({"tag": name, "description": REGISTRY[name].description, "support": n,
                    "evaluated": int(known.sum()), "errors": k, "error_rate": rate, "base_error_rate": base_err,
                    "lift": rate / base_err if base_err and n else float("nan"),
                    "lift_lo": lo / base_err if base_err and n else float("nan"),
                    "lift_hi": hi / base_err if base_err and n else float("nan")})
    return sorted(out, key=lambda r: -(r["lift"] if r["lift"] == r["lift"] else -1))


def run_tags(run_dir: str | Path, names: list[str] | None = None, sample: int = 2000, seed: int = 0,
             data: str | None = None, classifier=None) -> pd.DataFrame:
    """Compute tags for a run and write ``tags.parquet`` + ``tags.json`` atomically."""
    import logging

    from .runs import atomic_write_json, atomic_write_parquet, load_classifier, load_run

    log = logging.getLogger(__name__)
    run = load_run(run_dir)
    preds = run.predictions.reset_index(drop=True)
    names = names or list(REGISTRY)
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise ValueError(f"unknown tags {unknown}; known: {', '.join(REGISTRY)}")
    train_texts = None
    try:
        from .data import load_raw

        frames, _ = load_raw(data or run.run.get("data", {}).get("source"))
        train_texts = frames["train"]["text"]
    except Exception as exc:  # duplicates against train are then skipped, not fatal
        log.warning("training texts unavailable (%s); 'duplicate' checks the test set only", exc)
    needs_model = any(REGISTRY[n].needs_model for n in names)
    if needs_model and classifier is None:
        classifier = load_classifier(run_dir)
    rng = np.random.default_rng(seed)
    sample_ids = set(preds["id"].to_numpy()[rng.permutation(len(preds))[:sample]])
    ctx = TagContext(preds, classifier, train_texts, int(run.run["config"].get("max_length", 256)), sample_ids)
    cols = [preds[["id"]]]
    for n in names:
        if REGISTRY[n].needs_model and not hasattr(classifier, "tokenizer") and n == "truncated_verdict":
            continue
        log.info("tag %s", n)
        cols.append(REGISTRY[n]().detect(ctx).reset_index(drop=True))
    tags = pd.concat(cols, axis=1)
    for n in names:
        if n in tags and tags[n].notna().all():
            tags[n] = tags[n].astype(bool)
    atomic_write_parquet(Path(run_dir) / "tags.parquet", tags)
    stats = lift_table(tags, preds["correct"])
    atomic_write_json(Path(run_dir) / "tags.json", {"sample": sample, "seed": seed, "tags": stats,
                                                     "rules": {n: REGISTRY[n].rule for n in names}})
    return tags


def add_cli(sub) -> None:
    p = sub.add_parser("tag", help="error taxonomy tags + lift per tag for a run")
    p.add_argument("--run", required=True)
    p.add_argument("--tags", help="comma-separated subset (default all: " + ", ".join(REGISTRY) + ")")
    p.add_argument("--sample", type=int, default=2000, help="reviews scored by model-based tags (default 2000)")
    p.add_argument("--data", help="IMDB source for train duplicates (default: the run's)")
    p.add_argument("--models-dir", dest="models_dir")

    def run(args) -> int:
        from .runs import resolve_run_dir

        run_dir = resolve_run_dir(args.run, args.models_dir)
        names = [t.strip() for t in args.tags.split(",")] if args.tags else None
        tags = run_tags(run_dir, names, args.sample, data=args.data)
        print(run_dir / "tags.parquet", f"({len(tags)} reviews)")
        return 0

    p.set_defaults(func=run)
