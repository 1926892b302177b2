"""Merge session 19's second airline draw (batches 13-15, annotators A and B, splits decided by a blind third reader)
into ``airline_tweets_irony_test2.csv``, with the same columns and conventions as the first test set.

Conventions (those of ``airline_tweets_irony_labels.csv``, data/irony/README.md):
- an annotator's ``unsure`` vote counts as ``ironic = 0``; ``unsure`` is 1 when either annotator was unsure, and such
  a row is never ironic (even when the third reader, who decides splits, calls it ironic: stated in ``note``);
- ``sentiment`` is the agreed one, empty where A and B differ; ``votes`` is A's then B's ironic vote;
- ``note``: both annotators' notes joined by "; " where they agree; "third reader: REASON (A: ...; B: ...)" on splits.

Run from the repository root: ``python data/irony/merge_airline_test2.py``. Prints counts and Cohen's kappa.
"""

from pathlib import Path

import pandas as pd
from sklearn.metrics import cohen_kappa_score

HERE = Path(__file__).resolve().parent
RAW = HERE / "airline_test2_raw"
BATCHES = (13, 14, 15)  # batch 16 missed the pre-registered deadline and is dropped whole


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False, dtype={"key": str})


def irony_vote(annotation: pd.DataFrame) -> pd.Series:
    """An annotator's irony vote: ``ironic``, with an unsure row counted as 0."""
    return annotation["ironic"].astype(int).where(annotation["unsure"].astype(int) == 0, 0)


def merge_batch(batch: int, third: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    a, b = read(RAW / f"labels_{batch}_A.csv"), read(RAW / f"labels_{batch}_B.csv")
    if list(a["key"]) != list(b["key"]) or len(a) != 250:
        raise ValueError(f"batch {batch}: A and B do not cover the same 250 keys in the same order")
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


def main() -> None:
    third = read(RAW / "third_reader.csv").set_index("key")
    merged, stats = zip(*(merge_batch(b, third) for b in BATCHES))
    out = pd.concat(merged, ignore_index=True)
    out.to_csv(HERE / "airline_tweets_irony_test2.csv", index=False)
    for s in stats:
        print(s)
    a = pd.concat([read(RAW / f"labels_{b}_A.csv") for b in BATCHES], ignore_index=True)
    b = pd.concat([read(RAW / f"labels_{b}_B.csv") for b in BATCHES], ignore_index=True)
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
    main()
