"""Choose the ``mixed_sentiment`` and ``truncated_verdict`` rules on train-split judgements, then decide on the
test-split ones, by the rule written before any judgement (``data/tag_judgements/README.md``, "Session 22").

    python -m benchmarks.tag_rules [--run minilm-12k-128] [--models-dir models] [--imdb ../shared/data/imdb]

- ``mixed_sentiment``: 36 rules (``MixedRule``: sentence confidence × clear sentences per side × positive-share
  window × minimum words) scored by F1 against each of the readers of 240 random unseen train reviews; the best
  mean F1 is chosen. It ships if, on session 21's stratified test judgements re-weighted to the 2,000-review sample,
  its pooled precision is ≥ 0.43 and its pooled F1 ≥ the current rule's.
- ``truncated_verdict``: 8 rules (cut-off × minimum words of the unread part) on 100 unread parts the current rule
  flags; chosen: the highest pooled precision keeping ≥ 60 % of the judged-opposite items. It ships if on session
  21's 50 flagged test items its pooled precision is ≥ 0.58 with the same ≥ 60 % kept.

Writes ``benchmarks/results/tag-rules-<date>.json`` and, where a new rule ships, each test item's flag under it
(``shipped_flag`` in ``data/tag_judgements/{mixed,truncated}_items.csv``) for its validation record. Session 22's run
shipped neither.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
from datetime import date
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np
import pandas as pd

from benchmarks.tag_validation import says_mixed, says_opposite, train_mixed_readers
from pipeline.analysis.tags.irony_fit import imdb_train_texts
from pipeline.analysis.tags.model_based import MixedRule, MixedSentiment, TruncatedVerdict

ROOT = Path(__file__).resolve().parent.parent
JUDGEMENTS = ROOT / "data" / "tag_judgements"
CURRENT_MIXED = MixedRule()
MIXED_RULES = [
    MixedRule(confidence=t, min_each=k, share=s, min_words=w)
    for t, k, s, w in itertools.product((0.8, 0.9, 0.95), (1, 2), ((0.25, 0.75), (0.15, 0.85), (0.0, 1.0)), (3, 6))
]
TRUNC_RULES = [(c, m) for c in (0.7, 0.8, 0.9, 0.95) for m in (0, 40)]
CURRENT_TRUNC = (TruncatedVerdict.cutoff, TruncatedVerdict.min_words)
KEEP = 0.6  # share of judged-opposite items a tighter truncated_verdict rule must keep


def weighted_scores(flag: np.ndarray, yes: np.ndarray, weight: np.ndarray) -> dict:
    """Precision, recall and F1 of ``flag`` against ``yes`` with per-item sampling weights."""
    flag, yes = flag.astype(bool), yes.astype(bool)
    tp = float(weight[flag & yes].sum())
    p = tp / float(weight[flag].sum()) if flag.any() else 0.0
    r = tp / float(weight[yes].sum()) if yes.any() else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def pooled(flag: np.ndarray, readers: dict[str, np.ndarray], weight: np.ndarray) -> dict:
    """Mean over readers of each score, and the per-reader scores."""
    per = {who: weighted_scores(flag, y, weight) for who, y in readers.items()}
    out = {k: round(float(np.mean([s[k] for s in per.values()])), 4) for k in ("precision", "recall", "f1")}
    return {
        **out,
        "flagged": int(flag.sum()),
        "per_reader": {w: {k: round(v, 4) for k, v in s.items()} for w, s in per.items()},
    }


def sentence_probs(texts: list[str], clf) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per review: P(pos) and word count of every sentence of ≥ 3 words (no cap; rules filter and cap)."""
    loose = MixedRule(max_sentences=10**9)
    per = [loose.review_sentences(t) for t in texts]
    flat = [s for ss in per for s in ss]
    probs = np.asarray(clf.prob_positive(flat)) if flat else np.array([])
    out, start = [], 0
    for ss in per:
        out.append((probs[start : start + len(ss)], np.array([len(s.split()) for s in ss])))
        start += len(ss)
    return out


def mixed_flags(rule: MixedRule, feats: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    flags = []
    for probs, words in feats:
        kept = probs[words >= rule.min_words][: rule.max_sentences]
        flags.append(rule.flag(kept)[0] if len(kept) else False)
    return np.array(flags)


def rule_name(rule: MixedRule) -> str:
    return f"t{rule.confidence:g}_k{rule.min_each}_share{rule.share[0]:g}-{rule.share[1]:g}_w{rule.min_words}"


def choose_mixed(clf, imdb: Path) -> tuple[MixedRule, dict]:
    keys = pd.read_csv(JUDGEMENTS / "train_mixed_items.csv")
    feats = sentence_probs(imdb_train_texts(keys["id"], imdb), clf)
    readers = train_mixed_readers(JUDGEMENTS, keys)
    assert readers, "each batch needs its two readers' files"
    current = mixed_flags(CURRENT_MIXED, feats)
    assert (current == keys["mixed_sentiment"].to_numpy()).all(), "the current rule no longer reproduces the tag"
    ones = np.ones(len(keys))
    table = {rule_name(r): pooled(mixed_flags(r, feats), readers, ones) for r in MIXED_RULES}
    best = max(MIXED_RULES, key=lambda r: (table[rule_name(r)]["f1"], -table[rule_name(r)]["flagged"]))
    judged = {w: int(y.sum()) for w, y in readers.items()}
    return best, {"n": len(keys), "judged_mixed": judged, "rules": table, "chosen": rule_name(best)}


def decide_mixed(best: MixedRule, clf, run: Path) -> dict:
    keys = pd.read_csv(JUDGEMENTS / "mixed_items.csv")
    strata = json.loads((JUDGEMENTS / "strata.json").read_text())["mixed_sentiment"]
    texts = pd.read_parquet(run / "predictions.parquet", columns=["id", "text"]).set_index("id")["text"]
    feats = sentence_probs([texts.loc[i] for i in keys["id"]], clf)
    old = keys["mixed_sentiment"].astype(bool).to_numpy()
    assert (mixed_flags(CURRENT_MIXED, feats) == old).all(), "the current rule no longer reproduces the tag"
    # each stratum (the current rule's flag, by which session 21 drew) weighted by its size in the scored sample
    weight = np.where(old, strata["flagged"] / old.sum(), (strata["scored"] - strata["flagged"]) / (~old).sum())
    readers = {
        f.stem[-1]: says_mixed(pd.read_csv(f, keep_default_na=False)) for f in JUDGEMENTS.glob("mixed_[A-Z].csv")
    }
    new_flag = mixed_flags(best, feats)
    cur, new = pooled(old, readers, weight), pooled(new_flag, readers, weight)
    ships = best != CURRENT_MIXED and new["precision"] >= cur["precision"] + 0.10 and new["f1"] >= cur["f1"]
    shipped = new_flag if ships else old
    if ships:  # the validation record then describes the new rule (benchmarks/tag_validation.py)
        keys.assign(shipped_flag=shipped).to_csv(JUDGEMENTS / "mixed_items.csv", index=False)
    share = float((weight * shipped).sum() / weight.sum())
    return {"current": cur, "chosen": new, "ships": bool(ships), "flag_rate_in_sample": round(share, 4)}


def unread_words(texts: list[str], clf) -> np.ndarray:
    """Words in each review's unread part, cut as the tag cuts it."""
    return np.array([len(TruncatedVerdict.unread_part(t, clf).split()) for t in texts])


def trunc_flags(c: float, m: int, prob: np.ndarray, pred: np.ndarray, words: np.ndarray) -> np.ndarray:
    return TruncatedVerdict.disagrees(pred, prob, words, c, m)


def trunc_scores(flag: np.ndarray, readers: dict[str, np.ndarray]) -> dict:
    """Precision among ``flag`` and the share of judged-opposite items kept, per reader and pooled."""
    per = {
        w: {
            "precision": float(y[flag].mean()) if flag.any() else 0.0,
            "kept": float(flag[y].mean()) if y.any() else 0.0,
        }
        for w, y in readers.items()
    }
    out = {k: round(float(np.mean([s[k] for s in per.values()])), 4) for k in ("precision", "kept")}
    return {
        **out,
        "flagged": int(flag.sum()),
        "per_reader": {w: {k: round(v, 4) for k, v in s.items()} for w, s in per.items()},
    }


def choose_truncated(clf, imdb: Path) -> tuple[tuple[float, int], dict]:
    keys = pd.read_csv(JUDGEMENTS / "train_truncated_items.csv")
    words = unread_words(imdb_train_texts(keys["id"], imdb), clf)
    pred, prob = keys["pred"].to_numpy(), keys["truncated_verdict_dropped_prob"].to_numpy()
    files = sorted(JUDGEMENTS.glob("truncated_train_[A-Z].csv"))
    readers = {f.stem[-1]: says_opposite(pd.read_csv(f, keep_default_na=False)["sentiment"], pred) for f in files}
    table = {f"c{c:g}_m{m}": trunc_scores(trunc_flags(c, m, prob, pred, words), readers) for c, m in TRUNC_RULES}
    ok = [r for r in TRUNC_RULES if table[f"c{r[0]:g}_m{r[1]}"]["kept"] >= KEEP]
    best = max(ok, key=lambda r: (table[f"c{r[0]:g}_m{r[1]}"]["precision"], -r[0], -r[1]))
    judged = {w: int(y.sum()) for w, y in readers.items()}
    return best, {"n": len(keys), "judged_opposite": judged, "rules": table, "chosen": f"c{best[0]:g}_m{best[1]}"}


def decide_truncated(best: tuple[float, int], clf, run: Path) -> dict:
    keys = pd.read_csv(JUDGEMENTS / "truncated_items.csv")
    tags = pd.read_parquet(run / "tags.parquet", columns=["id", "truncated_verdict_dropped_prob"]).set_index("id")
    texts = pd.read_parquet(run / "predictions.parquet", columns=["id", "text"]).set_index("id")["text"]
    words = unread_words([texts.loc[i] for i in keys["id"]], clf)
    prob = tags.loc[keys["id"], "truncated_verdict_dropped_prob"].to_numpy()
    pred, old = keys["pred"].to_numpy(), keys["truncated_verdict"].astype(bool).to_numpy()
    assert (trunc_flags(*CURRENT_TRUNC, prob, pred, words) == old).all()
    files = sorted(JUDGEMENTS.glob("truncated_[A-Z].csv"))
    readers = {f.stem[-1]: says_opposite(pd.read_csv(f, keep_default_na=False)["sentiment"], pred)[old] for f in files}
    new_flag = trunc_flags(*best, prob, pred, words)
    cur, new = trunc_scores(old[old], readers), trunc_scores(new_flag[old], readers)
    ships = best != CURRENT_TRUNC and new["precision"] >= cur["precision"] + 0.10 and new["kept"] >= KEEP
    if ships:
        keys.assign(shipped_flag=new_flag).to_csv(JUDGEMENTS / "truncated_items.csv", index=False)
    return {"current": cur, "chosen": new, "ships": bool(ships), "on": "the 50 flagged test items"}


def main() -> None:
    from pipeline.classifiers import load_classifier

    ap = argparse.ArgumentParser()
    ap.add_argument("--run", default="minilm-12k-128")
    ap.add_argument("--models-dir", default="models")
    ap.add_argument("--imdb", type=Path, default=ROOT.parent / "shared" / "data" / "imdb")
    a = ap.parse_args()
    run = Path(a.models_dir) / a.run
    clf = load_classifier(run)
    assert MixedSentiment.rule_params == CURRENT_MIXED
    best_mixed, train_mixed = choose_mixed(clf, a.imdb)
    best_trunc, train_trunc = choose_truncated(clf, a.imdb)
    out = {
        "date": date.today().isoformat(),
        "run": a.run,
        "mixed_sentiment": {"train": train_mixed, "test": decide_mixed(best_mixed, clf, run)},
        "truncated_verdict": {"train": train_trunc, "test": decide_truncated(best_trunc, clf, run)},
    }
    path = ROOT / "benchmarks" / "results" / f"tag-rules-{out['date']}.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    for tag in ("mixed_sentiment", "truncated_verdict"):
        t = out[tag]
        print(tag, "chosen", t["train"]["chosen"], "train", t["train"]["rules"][t["train"]["chosen"]])
        print("  test current", {k: v for k, v in t["test"]["current"].items() if k != "per_reader"})
        print(
            "  test chosen ",
            {k: v for k, v in t["test"]["chosen"].items() if k != "per_reader"},
            "ships",
            t["test"]["ships"],
        )
    print("wrote", path)


if __name__ == "__main__":
    main()
