"""Validate the rule-based tags against externally written data; writes the records the dashboard shows beside
each tag (``pipeline/analysis/tags/validation.json``) and a dated copy under ``benchmarks/results/``.

    python benchmarks/tag_validation.py [--challenge ../shared/data/challenge] [--imdb ../shared/data/imdb]

- ``negation`` on the CheckList sentiment suite (Ribeiro et al. 2020, MIT): texts of the tests that negate a
  sentiment word ("It was not a great company.", "I thought I would love that pilot, but I didn't.",
  "I wouldn't say, given it's a Tuesday, that I recommend the crew.") are positives; texts with sentiment and no
  negation ("Sentiment-laden words in context") and negated *neutral* words ("That isn't a British food.") are
  negatives. Precision and recall of the tag.
- ``contrast`` on the same suite: "used to, but now" texts (two sides of opposite sentiment, "I used to hate this
  airline, but now I like it") are positives, "Sentiment-laden words in context" negatives. Some of the positives
  carry no turn word ("I like this airline, I used to hate it."): the tag is meant to miss those, so recall is
  also given on the positives that have one.
- ``sarcasm_cues`` on the irony validation labels (``data/irony/imdb_train_irony_validation.csv``: 300 IMDB
  train reviews drawn at random, labelled by reading): ROC-AUC of the cue score and precision/recall at its
  threshold.
- ``mixed_sentiment`` and ``truncated_verdict`` (model-based, so checked on one named run) against two readers'
  judgements of a stratified sample of that run's tagged reviews (``data/tag_judgements/``, README there: flagged and
  unflagged reviews in equal numbers; recall re-weights the two strata by their sizes in the scored sample).
  Skipped until the judgements are committed.
CheckList's texts are short airline-domain templates, not movie reviews: the records say so.
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.analysis.tags.base import REGISTRY, VALIDATION_FILE
from pipeline.analysis.tags.irony_fit import VALIDATION, auc_ci, imdb_train_texts
from pipeline.analysis.tags.lexical import contrast_score, negation_count, sarcasm_score
from pipeline.text import clean_text

ROOT = Path(__file__).resolve().parent.parent
JUDGEMENTS = ROOT / "data" / "tag_judgements"
NEGATED = [
    "simple negations: negative",
    "simple negations: not negative",
    "simple negations: I thought x was positive, but it was not (should be negative)",
    "simple negations: I thought x was negative, but it was not (should be neutral or positive)",
    "Hard: Negation of positive with neutral stuff in the middle (should be negative)",
    "Hard: Negation of negative with neutral stuff in the middle (should be positive or neutral)",
]
NEGATED_NEUTRAL = [
    "simple negations: not neutral is still neutral",
    "negation of neutral with neutral in the middle, should still neutral",
]
PLAIN = ["Sentiment-laden words in context"]
TURNS = ["used to, but now"]
PER_TEST = 1000


def _texts(cases: pd.DataFrame, tests: list[str], seed: int = 0) -> list[str]:
    rows = cases[cases["test_name"].isin(tests) & (cases["variant"] == 0)]
    rows = rows.groupby("test_name", group_keys=False).apply(
        lambda g: g.sample(min(len(g), PER_TEST), random_state=seed)
    )
    return rows["text"].tolist()


def _pr(flag_pos: np.ndarray, flag_neg: np.ndarray) -> dict:
    tp, fp = int(flag_pos.sum()), int(flag_neg.sum())
    return {
        "precision": round(tp / (tp + fp), 4) if tp + fp else None,
        "recall": round(tp / len(flag_pos), 4),
        "false_positive_rate": round(fp / len(flag_neg), 4),
    }


def checklist_records(challenge: Path) -> dict[str, list[dict]]:
    d = challenge / "checklist_sentiment_ribeiro2020"
    cases = pd.read_parquet(d / "cases.parquet")
    today = date.today().isoformat()
    neg_pos = _texts(cases, NEGATED)
    neg_neg = _texts(cases, PLAIN + NEGATED_NEUTRAL)
    fires = lambda fn, texts: np.array([fn(clean_text(t)) >= 1 for t in texts])
    negation = {
        "data": "CheckList sentiment suite (airline templates): negated sentiment vs plain sentiment and negated "
        f"neutral words, ≤{PER_TEST} per test",
        "n": len(neg_pos) + len(neg_neg),
        "positives": len(neg_pos),
        **_pr(fires(negation_count, neg_pos), fires(negation_count, neg_neg)),
        "date": today,
    }
    turn_pos = _texts(cases, TURNS)
    turn_neg = _texts(cases, PLAIN)
    hit_pos = fires(contrast_score, turn_pos)
    has_turn = np.array([any(w in t.lower() for w in (" but ", "although", "though", "however")) for t in turn_pos])
    contrast = {
        "data": "CheckList sentiment suite (airline templates): 'used to, but now' (opposite sentiment on two sides) "
        f"vs plain sentiment, ≤{PER_TEST} per test",
        "n": len(turn_pos) + len(turn_neg),
        "positives": len(turn_pos),
        **_pr(hit_pos, fires(contrast_score, turn_neg)),
        "recall_where_a_turn_word_is_present": round(float(hit_pos[has_turn].mean()), 4),
        "date": today,
    }
    return {"negation": [negation], "contrast": [contrast]}


def cue_records(imdb: Path) -> dict[str, list[dict]]:
    val = pd.read_csv(VALIDATION)
    s = np.array([sarcasm_score(t) for t in imdb_train_texts(val["id"], imdb)])
    y = val["ironic"].to_numpy()
    auc, lo, hi = auc_ci(y, s)
    hit = s >= 2
    return {
        "sarcasm_cues": [
            {
                "data": "IMDB train reviews, random draw labelled by reading (irony validation set)",
                "n": len(y),
                "positives": int(y.sum()),
                "roc_auc": round(auc, 4),
                "roc_auc_ci95": [round(lo, 4), round(hi, 4)],
                "threshold": 2,
                "precision": round(float(y[hit].mean()), 4) if hit.any() else None,
                "recall": round(float(hit[y == 1].mean()), 4),
                "date": date.today().isoformat(),
            }
        ]
    }


def stratified_precision_recall(
    flag: np.ndarray, judged: np.ndarray, scored: int, flagged: int, stratum: np.ndarray | None = None
) -> dict:
    """Precision and recall of ``flag`` in the whole scored sample, from readers' yes/no (``judged``) on a sample
    drawn in two strata: ``stratum`` true (the ``flagged`` rows of ``scored`` by the rule the sample was drawn by)
    and false, each sampled row standing for its stratum's size over its sampled rows. ``stratum`` defaults to
    ``flag`` (the tag is the rule it was sampled by); a later rule's ``flag`` may cut across the strata."""
    flag, judged = flag.astype(bool), judged.astype(bool)
    stratum = flag if stratum is None else stratum.astype(bool)
    weight = np.where(stratum, flagged / max(stratum.sum(), 1), (scored - flagged) / max((~stratum).sum(), 1))
    found = float(weight[flag & judged].sum())
    missed = float(weight[~flag & judged].sum())
    return {
        "precision": round(found / float(weight[flag].sum()), 4) if flag.any() else None,
        "recall": round(found / (found + missed), 4) if found + missed else None,
        "judged_yes_among_unflagged": round(missed / float(weight[~flag].sum()), 4) if (~flag).any() else None,
    }


def says_mixed(reader: pd.DataFrame) -> np.ndarray:
    """A reader's ``mixed`` judgements as booleans (``unsure`` counts as no)."""
    return ((reader["mixed"].astype(int) == 1) & (reader["unsure"].astype(int) == 0)).to_numpy()


def says_opposite(sentiment, pred: np.ndarray) -> np.ndarray:
    """Whether a reader's ``sentiment`` of an unread part is on the other side of the prediction ``pred`` (what
    ``truncated_verdict`` claims)."""
    return np.asarray(sentiment) == np.where(np.asarray(pred) == 1, "neg", "pos")


def train_mixed_readers(folder: Path, keys: pd.DataFrame) -> dict[str, np.ndarray]:
    """Session 22's mixed judgements of the train sample (``keys``: ``batch`` per row), as a "first" and a "second"
    reader over all rows (each batch had its own two readers); empty unless every batch has exactly two."""
    yes = {slot: np.zeros(len(keys), bool) for slot in ("first", "second")}
    for b in sorted(keys["batch"].unique()):
        files = sorted(folder.glob(f"mixed_train{b}_[A-Z].csv"))
        if len(files) != 2:
            return {}
        rows = (keys["batch"] == b).to_numpy()
        for slot, f in zip(yes, files):
            yes[slot][rows] = says_mixed(pd.read_csv(f, keep_default_na=False))
    return yes


def _reader_files(folder: Path, kind: str) -> dict[str, pd.DataFrame]:
    """Reader letter → that reader's judgements of ``kind`` (``<kind>_<LETTER>.csv`` in ``folder``)."""
    return {
        f.stem.split("_")[-1]: pd.read_csv(f, keep_default_na=False) for f in sorted(folder.glob(f"{kind}_[A-Z].csv"))
    }


def judged_records(folder: Path = JUDGEMENTS) -> dict[str, list[dict]]:
    """``mixed_sentiment`` and ``truncated_verdict`` records from the readers' judgements (per reader, and the pooled
    figure as the record); empty until the judgement files exist."""
    from sklearn.metrics import cohen_kappa_score

    strata_file = folder / "strata.json"
    if not strata_file.is_file():
        return {}
    strata = json.loads(strata_file.read_text())
    today, out = date.today().isoformat(), {}
    kinds = {
        "mixed_sentiment": ("mixed", lambda r, keys: says_mixed(r)),
        "truncated_verdict": ("truncated", lambda r, keys: says_opposite(r["sentiment"], keys["pred"])),
    }
    for tag, (kind, says_yes) in kinds.items():
        keys = pd.read_csv(folder / f"{kind}_items.csv")
        readers = _reader_files(folder, kind)
        if not readers:
            continue
        stratum = keys[tag].astype(bool).to_numpy()  # the rule the sample was drawn by
        # the rule that ships, where a later session changed it on other data (benchmarks/tag_rules.py)
        flag = keys["shipped_flag"].astype(bool).to_numpy() if "shipped_flag" in keys else stratum
        st = strata[tag]
        yes = {who: np.asarray(says_yes(r, keys)) for who, r in readers.items()}
        per_reader = {
            who: stratified_precision_recall(flag, y, st["scored"], st["flagged"], stratum) for who, y in yes.items()
        }
        pooled = np.concatenate(list(yes.values()))
        tiled = np.tile(flag, len(yes)), pooled, st["scored"], st["flagged"], np.tile(stratum, len(yes))
        rec = {
            "data": f"{len(keys)} reviews of run {strata['run']}'s scored sample ({len(keys) // 2} flagged, "
            f"{len(keys) // 2} not, by the rule in force then), judged by {len(readers)} readers "
            "(data/tag_judgements/)",
            "n": int(len(keys)),
            **stratified_precision_recall(*tiled),
            "per_reader": per_reader,
            "date": today,
        }
        rec["rule"] = REGISTRY[tag].rule  # the rule ``flag`` is (the one in force)
        if len(yes) == 2:
            a, b = yes.values()
            rec["readers_kappa"] = round(float(cohen_kappa_score(a, b)), 3)
        if kind == "truncated":  # where the readers found no opposite verdict, was there any verdict at all?
            vague = np.concatenate([r["sentiment"].isin(["mixed", "none"]).to_numpy() for r in readers.values()])
            rec["flagged_judged_mixed_or_none"] = round(float(vague[np.tile(flag, len(yes))].mean()), 4)
        out[tag] = [rec]
    return out


def train_judged_records(folder: Path = JUDGEMENTS) -> dict[str, list[dict]]:
    """Session 22's records on *train*-split reviews the run never saw (README there): ``mixed_sentiment`` on 240
    reviews drawn at random (two batches, two readers each: precision and recall read directly), and
    ``truncated_verdict`` on 100 of the unread parts it flags (precision only). Empty until the files exist."""
    from sklearn.metrics import cohen_kappa_score

    pool_file = folder / "train_pool.json"
    if not pool_file.is_file():
        return {}
    pool, today, out = json.loads(pool_file.read_text()), date.today().isoformat(), {}
    keys = pd.read_csv(folder / "train_mixed_items.csv")
    yes = train_mixed_readers(folder, keys)
    if yes:
        flag = keys["mixed_sentiment"].astype(bool).to_numpy()
        per = {w: stratified_precision_recall(flag, y, len(flag), int(flag.sum())) for w, y in yes.items()}
        both = np.concatenate(list(yes.values()))
        out["mixed_sentiment"] = [
            {
                "data": f"{len(keys)} IMDB train reviews run {pool['run']} never saw, drawn at random "
                f"({int(flag.sum())} flagged), each judged by 2 readers (data/tag_judgements/, session 22)",
                "n": int(len(keys)),
                **stratified_precision_recall(np.tile(flag, 2), both, 2 * len(flag), 2 * int(flag.sum())),
                "per_reader": per,
                "readers_kappa": round(float(cohen_kappa_score(*yes.values())), 3),
                "rule": REGISTRY["mixed_sentiment"].rule,
                "date": today,
            }
        ]
    keys = pd.read_csv(folder / "train_truncated_items.csv")
    files = sorted(folder.glob("truncated_train_[A-Z].csv"))
    if files:
        said = {f.stem[-1]: pd.read_csv(f, keep_default_na=False)["sentiment"].to_numpy() for f in files}
        hit = {w: says_opposite(s, keys["pred"]) for w, s in said.items()}
        rec = {
            "data": f"{len(keys)} of the unread parts the tag flags in {pool['drawn']:,} IMDB train reviews run "
            f"{pool['run']} never saw, judged by {len(files)} readers (data/tag_judgements/, session 22)",
            "n": int(len(keys)),
            "precision": round(float(np.mean([h.mean() for h in hit.values()])), 4),
            "recall": None,  # only flagged parts were judged
            "per_reader": {w: {"precision": round(float(h.mean()), 4)} for w, h in hit.items()},
            "flagged_judged_mixed_or_none": round(
                float(np.mean([np.isin(s, ["mixed", "none"]).mean() for s in said.values()])), 4
            ),
            "rule": REGISTRY["truncated_verdict"].rule,
            "date": today,
        }
        if len(files) == 2:
            rec["readers_kappa"] = round(float(cohen_kappa_score(*hit.values())), 3)
        out["truncated_verdict"] = [rec]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--challenge", default=str(ROOT.parent / "shared" / "data" / "challenge"))
    ap.add_argument("--imdb", default=os.environ.get("IMDB_DATA", str(ROOT.parent / "shared" / "data" / "imdb")))
    args = ap.parse_args()
    records = json.loads(VALIDATION_FILE.read_text()) if VALIDATION_FILE.is_file() else {}
    records.update(checklist_records(Path(args.challenge)))
    records.update(cue_records(Path(args.imdb)))
    test, train = judged_records(), train_judged_records()
    records.update({tag: test.get(tag, []) + train.get(tag, []) for tag in {*test, *train}})
    VALIDATION_FILE.write_text(json.dumps(records, indent=1, ensure_ascii=False) + "\n")
    out = ROOT / "benchmarks" / "results" / f"tag-validation-{date.today().isoformat()}.json"
    out.write_text(json.dumps(records, indent=1, ensure_ascii=False) + "\n")
    print(json.dumps(records, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
