"""CheckList-style behavioural tests with our own templates (no downloads).

    python -m pipeline behave --run RUN   →   behavior.json

- MFT (minimum functionality): clear positive/negative sentences; negated sentiment ("not bad" → positive).
- INV (invariance): swapping person names, adding typos, changing punctuation, adding a neutral sentence must
  not flip the prediction.
- DIR (directional): appending a clearly positive (negative) sentence must not lower (raise) P(positive) by
  more than ``tolerance``.
INV/DIR run on seeded samples of the run's own test reviews that fit the model's window, plus templates.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Callable

import numpy as np
import pandas as pd

POS_ADJ = ["great", "wonderful", "brilliant", "excellent", "superb", "fantastic", "moving", "delightful"]
NEG_ADJ = ["awful", "terrible", "boring", "dreadful", "dull", "horrible", "disappointing", "bad"]
NOUNS = ["movie", "film", "story", "acting", "script", "ending", "cast", "soundtrack"]
NAMES_A = ["John", "Mary", "Tom", "Emma", "David", "Sarah", "Michael", "Laura"]
NAMES_B = ["Ahmed", "Mei", "Carlos", "Priya", "Kwame", "Olga", "Hiroshi", "Fatima"]
NEUTRAL = [
    "I watched it on a Tuesday.",
    "It was released in 2004.",
    "My cousin recommended it to me.",
    "The running time is about two hours.",
]
POS_END, NEG_END = "Overall, I absolutely loved it.", "Overall, I absolutely hated it."
N_TESTS = 8  # tests run by run_behavior (the total its progress reports count towards)


def mft_clear() -> list[tuple[str, int]]:
    cases = [(f"The {n} was {a}.", 1) for n, a in itertools.product(NOUNS, POS_ADJ)]
    cases += [(f"The {n} was {a}.", 0) for n, a in itertools.product(NOUNS, NEG_ADJ)]
    cases += [(f"What a {a} {n}!", 1) for n, a in itertools.product(NOUNS[:4], POS_ADJ[:6])]
    cases += [(f"I thought this {n} was really {a}.", 0) for n, a in itertools.product(NOUNS[:4], NEG_ADJ[:6])]
    return cases


def mft_negation() -> list[tuple[str, int]]:
    cases = [(f"The {n} was not {a}.", 0) for n, a in itertools.product(NOUNS, POS_ADJ[:5])]
    cases += [
        (f"The {n} was not {a} at all.", 1) for n, a in itertools.product(NOUNS, ["bad", "boring", "dull", "terrible"])
    ]
    cases += [(f"I would never call this {n} {a}.", 0) for n, a in itertools.product(NOUNS[:4], POS_ADJ[:4])]
    return cases


def typo(text: str, rng: random.Random, rate: float = 0.05) -> str:
    ws = text.split(" ")
    for i, w in enumerate(ws):
        if len(w) > 3 and rng.random() < rate:
            j = rng.randrange(len(w) - 1)
            ws[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    return " ".join(ws)


def swap_names(text: str) -> str | None:
    table = dict(zip(NAMES_A + NAMES_B, NAMES_B + NAMES_A))
    pat = re.compile(r"\b(" + "|".join(table) + r")\b")
    return pat.sub(lambda m: table[m.group(1)], text) if pat.search(text) else None


def run_behavior(
    classifier,
    reviews: pd.DataFrame,
    n: int = 100,
    seed: int = 0,
    tolerance: float = 0.1,
    worst: int = 5,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Run all tests; ``reviews`` are real test reviews (columns ``text``) used for INV/DIR, a seeded sample
    of ``n`` (default 100). ``progress(done, N_TESTS)`` is called after each test."""
    rng = random.Random(seed)
    sample = reviews.sample(min(n, len(reviews)), random_state=seed)["text"].tolist()
    tests: list[dict] = []
    seen: dict[str, float] = {}

    def score(texts: list[str]) -> np.ndarray:
        """P(positive) per text, each distinct text scored once (the INV/DIR tests share their originals)."""
        new = list(dict.fromkeys(t for t in texts if t not in seen))
        if new:
            seen.update(zip(new, classifier.prob_positive(new).tolist()))
        return np.array([seen[t] for t in texts], dtype=float)

    def add(test: dict) -> None:
        tests.append(test)
        if progress is not None:
            progress(len(tests), N_TESTS)

    def mft(name, desc, cases):
        texts = [c[0] for c in cases]
        want = np.array([c[1] for c in cases])
        p = score(texts)
        fail = (p >= 0.5).astype(int) != want
        order = np.argsort(-np.abs(p - want))
        ex = [
            {"text": texts[i], "expected": "positive" if want[i] else "negative", "prob_pos": float(p[i])}
            for i in order
            if fail[i]
        ][:worst]
        add(
            {
                "name": name,
                "type": "MFT",
                "description": desc,
                "cases": len(cases),
                "failures": int(fail.sum()),
                "failure_rate": float(fail.mean()),
                "examples": ex,
            }
        )

    def paired(name, kind, desc, pairs, check):
        if not pairs:
            add(
                {
                    "name": name,
                    "type": kind,
                    "description": desc,
                    "cases": 0,
                    "failures": 0,
                    "failure_rate": None,
                    "examples": [],
                }
            )
            return
        a = score([x for x, _ in pairs])
        b = score([y for _, y in pairs])
        fail, badness = check(a, b)
        order = np.argsort(-badness)
        ex = [
            {
                "text": pairs[i][0][:500],
                "variant": pairs[i][1][:500],
                "prob_pos": float(a[i]),
                "variant_prob_pos": float(b[i]),
            }
            for i in order
            if fail[i]
        ][:worst]
        add(
            {
                "name": name,
                "type": kind,
                "description": desc,
                "cases": len(pairs),
                "failures": int(fail.sum()),
                "failure_rate": float(fail.mean()),
                "examples": ex,
            }
        )

    flip = lambda a, b: ((a >= 0.5) != (b >= 0.5), np.abs(a - b))
    mft("clear_sentiment", "Short unambiguous sentences must get their obvious label.", mft_clear())
    mft("negated_sentiment", "Negated sentiment: 'not good' → negative, 'not bad at all' → positive.", mft_negation())
    templ = [
        f"{a} gave a {adj} performance in this {n}."
        for a, adj, n in itertools.product(NAMES_A[:4], POS_ADJ[:3] + NEG_ADJ[:3], NOUNS[:2])
    ]
    name_pairs = [(t, swap_names(t)) for t in templ] + [(t, s) for t in sample if (s := swap_names(t))]
    paired("swap_names", "INV", "Swapping person names must not flip the prediction.", name_pairs, flip)
    paired(
        "typos",
        "INV",
        "About 5 % of words with two letters swapped must not flip the prediction.",
        [(t, typo(t, rng)) for t in sample],
        flip,
    )
    paired(
        "punctuation",
        "INV",
        "Removing punctuation / adding '!' must not flip the prediction.",
        [(t, re.sub(r"[^\w\s']", "", t) if i % 2 else t.rstrip(".") + "!") for i, t in enumerate(sample)],
        flip,
    )
    paired(
        "neutral_sentence",
        "INV",
        "Adding a neutral sentence must not flip the prediction.",
        [(t, t.rstrip() + " " + NEUTRAL[i % len(NEUTRAL)]) for i, t in enumerate(sample)],
        flip,
    )
    paired(
        "append_positive",
        "DIR",
        f"Appending '{POS_END}' must not lower P(positive) by more than {tolerance}.",
        [(t, t.rstrip() + " " + POS_END) for t in sample],
        lambda a, b: (b < a - tolerance, a - b),
    )
    paired(
        "append_negative",
        "DIR",
        f"Appending '{NEG_END}' must not raise P(positive) by more than {tolerance}.",
        [(t, t.rstrip() + " " + NEG_END) for t in sample],
        lambda a, b: (b > a + tolerance, b - a),
    )
    return {"seed": seed, "sample": len(sample), "tolerance": tolerance, "tests": tests}


def behave_run(run_dir, n: int = 100, classifier=None, progress: Callable[[int, int], None] | None = None) -> dict:
    """Run the tests on a run's classifier (loaded here unless given) and write ``behavior.json`` into the
    run (atomically, under the run lock). ``progress(done, total)`` after each test."""
    from pathlib import Path

    from ..atomic import atomic_write_json, run_lock
    from ..classifiers import load_classifier
    from ..runs import BEHAVIOR, load_run

    r = load_run(run_dir)
    fits = r.predictions[~r.predictions["truncated"]]  # variants of a review the model reads whole
    res = run_behavior(
        classifier or load_classifier(run_dir), fits if len(fits) >= 20 else r.predictions, n, progress=progress
    )
    with run_lock(Path(run_dir), "writing behavioural tests into"):
        atomic_write_json(Path(run_dir) / BEHAVIOR, res)
    return res
