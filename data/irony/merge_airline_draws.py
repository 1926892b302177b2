"""Merge a double-annotated airline test draw (annotators A and B, splits decided by a blind third reader) into its
test file, with the same columns and conventions as the first test set:

- draw 2 (session 19): batches 13-15 of 250 -> ``airline_tweets_irony_test2.csv`` (batch 16 missed its deadline);
- draw 3 (session 21): batch 16 (annotated in session 19, raw files in ``airline_test2_raw/``) and batches 17-20
  (288, 288, 288, 287) -> ``airline_tweets_irony_test3.csv``.

Conventions (those of ``airline_tweets_irony_labels.csv``, data/irony/README.md):
- an annotator's ``unsure`` vote counts as ``ironic = 0``; ``unsure`` is 1 when either annotator was unsure, and such
  a row is never ironic (even when the third reader, who decides splits, calls it ironic: stated in ``note``);
- ``sentiment`` is the agreed one, empty where A and B differ; ``votes`` is A's then B's ironic vote;
- ``note``: both annotators' notes joined by "; " where they agree; "third reader: REASON (A: ...; B: ...)" on splits.

Run from the repository root: ``python data/irony/merge_airline_draws.py 2`` (or ``3``). Prints counts and Cohen's
kappa. (Session 20 ran it as ``merge_airline_test2.py``, draw 2 only; the output is byte-identical.)
"""

import sys
from pathlib import Path
from typing import NamedTuple

import pandas as pd
from sklearn.metrics import cohen_kappa_score

HERE = Path(__file__).resolve().parent


class Draw(NamedTuple):
    """Where a draw's raw annotations are (per batch), how many tweets each batch has, the third reader's rulings and
    the merged file."""

    raw: dict[int, Path]
    size: dict[int, int]
    third: Path
    out: Path


DRAWS = {
    # batch 16 missed draw 2's pre-registered deadline and was dropped whole
    2: Draw(
        {b: HERE / "airline_test2_raw" for b in (13, 14, 15)},
        dict.fromkeys((13, 14, 15), 250),
        HERE / "airline_test2_raw" / "third_reader.csv",
        HERE / "airline_tweets_irony_test2.csv",
    ),
    3: Draw(
        {16: HERE / "airline_test2_raw", **{b: HERE / "airline_test3_raw" for b in (17, 18, 19, 20)}},
        {16: 250, 17: 288, 18: 288, 19: 288, 20: 287},
        HERE / "airline_test3_raw" / "third_reader.csv",
        HERE / "airline_tweets_irony_test3.csv",
    ),
}


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False, dtype={"key": str})


def irony_vote(annotation: pd.DataFrame) -> pd.Series:
    """An annotator's irony vote: ``ironic``, with an unsure row counted as 0."""
    return annotation["ironic"].astype(int).where(annotation["unsure"].astype(int) == 0, 0)


def annotations(draw: Draw, batch: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Annotator A's and B's raw labels of one batch of ``draw``."""
    return tuple(read(draw.raw[batch] / f"labels_{batch}_{who}.csv") for who in "AB")


def merge_batch(draw: Draw, batch: int, third: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """One batch's merged rows and its agreement figures. Raises ``ValueError`` if A and B do not cover the batch's
    keys in the same order, or a split has no ruling in ``third`` (indexed by key)."""
    a, b = annotations(draw, batch)
    n = draw.size[batch]
    if list(a["key"]) != list(b["key"]) or len(a) != n:
        raise ValueError(f"batch {batch}: A and B do not cover the same {n} keys in the same order")
    vote = {"A": irony_vote(a), "B": irony_vote(b)}
    unsure = (a["unsure"].astype(int) | b["unsure"].astype(int)).astype(int)
    split = vote["A"] != vote["B"]
    rows = []
    for i in range(len(a)):
        key, na, nb = a.at[i, "key"], a.at[i, "note"].strip(), b.at[i, "note"].strip()
        if split[i]:
            if key not in third.index:
                raise ValueError(f"batch {batch} row {a.at[i, 'row']}: split without a third reader's ruling")
            ruling, reason = int(third.at[key, "ironic"]), third.at[key, "reason"].strip()
            ironic = ruling * (1 - unsure[i])
            agreement = "split, third reader"
            note = f"third reader: {reason} (A: {na or '-'}; B: {nb or '-'})"
            if ruling and unsure[i]:
                note += "; not counted ironic: an annotator was unsure"
        else:
            ironic, agreement = int(vote["A"][i]), "both"
            note = "; ".join(n for n in (na, nb) if n)
        sent = a.at[i, "sentiment"] if a.at[i, "sentiment"] == b.at[i, "sentiment"] else ""
        rows.append(
            {
                "key": key,
                "batch": batch,
                "row": int(a.at[i, "row"]),
                "ironic": ironic,
                "unsure": int(unsure[i]),
                "sentiment": sent,
                "votes": f"{vote['A'][i]}{vote['B'][i]}",
                "agreement": agreement,
                "note": note,
            }
        )
    stats = {
        "batch": batch,
        "ironic_A": int(vote["A"].sum()),
        "ironic_B": int(vote["B"].sum()),
        "kappa_irony": round(cohen_kappa_score(vote["A"], vote["B"]), 3),
        "kappa_sentiment": round(cohen_kappa_score(a["sentiment"], b["sentiment"]), 3),
        "splits": int(split.sum()),
    }
    return pd.DataFrame(rows), stats


def main(which: int) -> None:
    draw = DRAWS[which]
    third = read(draw.third).set_index("key")
    merged, stats = zip(*(merge_batch(draw, b, third) for b in draw.raw))
    out = pd.concat(merged, ignore_index=True)
    out.to_csv(draw.out, index=False)
    for s in stats:
        print(s)
    a, b = (pd.concat(part, ignore_index=True) for part in zip(*(annotations(draw, k) for k in draw.raw)))
    print(
        "pooled kappa irony",
        round(cohen_kappa_score(irony_vote(a), irony_vote(b)), 3),
        "sentiment",
        round(cohen_kappa_score(a["sentiment"], b["sentiment"]), 3),
    )
    print("n", len(out), "ironic", int(out["ironic"].sum()), "both ironic", int((out["votes"] == "11").sum()))
    print(
        "splits",
        int((out["agreement"] != "both").sum()),
        "ironic after third reader",
        int(out.loc[out["agreement"] != "both", "ironic"].sum()),
    )
    print(
        "unsure",
        int(out["unsure"].sum()),
        "sentiment",
        out["sentiment"].replace("", "differing").value_counts().to_dict(),
    )
    print(
        "ironic by sentiment",
        out.loc[out["ironic"] == 1, "sentiment"].replace("", "differing").value_counts().to_dict(),
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
