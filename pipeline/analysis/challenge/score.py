"""Scoring a challenge frame with a run's classifier, and the statistics per set.

Every proportion comes with a 95 % Wilson interval (:func:`pipeline.analysis.tags.lift.wilson`). A statistic
is one *row*: ``set, test, capability, type, metric, higher_is_better, n, k, value, lo, hi, description``
(``value``/``lo``/``hi`` are ``None`` when ``n == 0``), so the dashboard draws every set with one chart.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from ...classifiers.base import Classifier, score_texts
from ..tags.lift import wilson

THRESHOLD = 0.5  # P(positive) at or above → positive, as everywhere else in the pipeline


def score_frame(
    clf: Classifier, frame: pd.DataFrame, batch: int = 256, on_batch: Callable[[int], None] | None = None
) -> pd.DataFrame:
    """``frame`` with ``prob_pos`` (float32) and ``pred`` (int8) added. Each distinct text is scored once
    (CheckList repeats many), in order of length so a batch pads little; ``on_batch(n_done)`` counts
    distinct texts."""
    out = frame.copy()
    if out.empty:
        out["prob_pos"] = np.zeros(0, dtype=np.float32)
        out["pred"] = np.zeros(0, dtype=np.int8)
        return out
    codes, uniques = pd.factorize(out["text"])
    order = np.argsort(np.fromiter((len(t) for t in uniques), dtype=np.int64, count=len(uniques)), kind="stable")
    probs = np.empty(len(uniques), dtype=np.float32)
    probs[order] = score_texts(clf, [uniques[i] for i in order], batch, on_batch=on_batch)
    out["prob_pos"] = probs[codes]
    out["pred"] = (out["prob_pos"] >= THRESHOLD).astype("int8")
    return out


def proportion(k: int, n: int) -> dict:
    """``n, k, value = k/n`` and the Wilson 95 % interval; ``None`` values when ``n == 0``."""
    if n == 0:
        return {"n": 0, "k": 0, "value": None, "lo": None, "hi": None}
    lo, hi = wilson(int(k), int(n))
    return {"n": int(n), "k": int(k), "value": k / n, "lo": lo, "hi": hi}


def _row(set_: str, test: str, capability: str, type_: str, metric: str, higher: bool | None, k, n, desc: str) -> dict:
    return {
        "set": set_,
        "test": test,
        "capability": capability,
        "type": type_,
        "metric": metric,
        "higher_is_better": higher,
        **proportion(int(k), int(n)),
        "description": desc,
    }


# ---------------------------------------------------------------- plain accuracy (AdvGLUE, UCI)


def accuracy_stats(scored: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Accuracy per test. Adds ``passed`` (prediction right) and ``badness`` (|P(positive) − label|)."""
    scored = scored.copy()
    scored["passed"] = scored["pred"] == scored["label"]
    scored["badness"] = (scored["prob_pos"] - scored["label"]).abs()
    rows = [
        _row(s, t, g["capability"].iat[0], "ACC", "accuracy", True, g["passed"].sum(), len(g), "prediction = label")
        for (s, t), g in scored.groupby(["set", "test"], sort=True)
    ]
    return scored, {"tests": rows, "headline": rows}


# ---------------------------------------------------------------- CAD pairs


def cad_pairs(scored: pd.DataFrame) -> pd.DataFrame:
    """One row per pair with both sides: ``text_o, text_c, label_o, label_c, prob_o, prob_c, pred_o, pred_c``
    plus ``right_o, right_c, consistent`` (both right), ``pred_changed``, ``flipped_with_label`` (prediction
    changed the way the label did), ``moved_with_label`` (P(positive) moved in the label's direction),
    ``delta`` (P(positive) counterfactual − original), ``identical`` (the revision left the text unchanged)
    and ``outcome`` (for the pair viewer's filter).
    Pairs missing a side are dropped."""
    cols = ["text", "label", "prob_pos", "pred"]
    o = scored[scored["variant"] == "original"].set_index("pair_id")[cols]
    c = scored[scored["variant"] == "counterfactual"].set_index("pair_id")[cols]
    p = o.join(c, how="inner", lsuffix="_o", rsuffix="_c")
    p = p.rename(columns={"prob_pos_o": "prob_o", "prob_pos_c": "prob_c"})
    p["right_o"] = p["pred_o"] == p["label_o"]
    p["right_c"] = p["pred_c"] == p["label_c"]
    p["consistent"] = p["right_o"] & p["right_c"]
    p["pred_changed"] = p["pred_o"] != p["pred_c"]
    label_step = p["label_c"].astype(int) - p["label_o"].astype(int)
    p["flipped_with_label"] = p["pred_changed"] & ((p["pred_c"].astype(int) - p["pred_o"].astype(int)) == label_step)
    p["identical"] = p["text_o"] == p["text_c"]  # CAD has two: one side's label is then noise
    p["delta"] = p["prob_c"] - p["prob_o"]
    p["moved_with_label"] = np.sign(p["delta"]) == np.sign(label_step)
    p["outcome"] = np.select(
        [p["consistent"], ~p["pred_changed"] & p["right_o"], ~p["pred_changed"]],
        ["flipped correctly", "not flipped (original right)", "not flipped (counterfactual right)"],
        default="flipped the wrong way",
    )
    return p.reset_index()


def cad_stats(scored: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Accuracy on the counterfactual side (the unseen one), on the originals (seen in training by a model
    trained on all of IMDB train: reference only), pair consistency, the share of pairs whose prediction
    flipped with the label (equal to consistency whenever every pair flips its label, as in CAD), the share
    whose P(positive) merely moved the right way, and mean |Δ P(positive)|."""
    scored = scored.copy()
    scored["passed"] = scored["pred"] == scored["label"]
    scored["badness"] = (scored["prob_pos"] - scored["label"]).abs()
    p = cad_pairs(scored)
    test = scored["test"].iat[0] if len(scored) else "cad"
    n = len(p)
    r = lambda metric, k, nn, desc: _row("cad", test, "Counterfactual", "PAIR", metric, True, k, nn, desc)
    rows = [
        r("accuracy (counterfactual)", p["right_c"].sum(), n, "revised reviews, unseen in training"),
        r("pair consistency", p["consistent"].sum(), n, "both sides of the pair right"),
        r("flipped with the label", p["flipped_with_label"].sum(), n, "prediction changed as the label did"),
        r("P(pos) moved with the label", p["moved_with_label"].sum(), n, "P(positive) moved in the label's direction"),
        r("accuracy (original, seen in training)", p["right_o"].sum(), n, "IMDB train reviews: reference only"),
    ]
    summary = {
        "pairs": n,
        "mean_abs_delta": float(p["delta"].abs().mean()) if n else None,
        "pairs_label_flipped": int((p["label_o"] != p["label_c"]).sum()),
        "pairs_text_identical": int(p["identical"].sum()),
        "outcomes": {k: int(v) for k, v in p["outcome"].value_counts().items()},
    }
    return scored, {"tests": rows, "headline": rows[:2], "summary": summary}


# ---------------------------------------------------------------- CheckList

_TOL = re.compile(r"\(tol ([0-9.]+)\)")


def _tolerance(expectation: str) -> float:
    m = _TOL.search(expectation)
    return float(m.group(1)) if m else 0.0


def _case_rule(expectation: str) -> Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]] | None:
    """For INV/DIR: ``(p0, p) -> (passed, badness)`` comparing each variant's P(positive) ``p`` with its
    case's unperturbed text ``p0``; the suite's own criteria, exported as strings. ``None``: not understood."""
    tol = _tolerance(expectation)

    def conf(p0, p):  # confidence in the class predicted for the unperturbed text
        pos = p0 >= THRESHOLD
        return np.where(pos, p0, 1 - p0), np.where(pos, p, 1 - p)

    if expectation == "invariant_prediction":
        return lambda p0, p: ((p0 >= THRESHOLD) == (p >= THRESHOLD), np.abs(p - p0))
    if expectation.startswith("p_positive_not_down"):
        return lambda p0, p: (p >= p0 - tol, p0 - p)
    if expectation.startswith("p_positive_not_up"):
        return lambda p0, p: (p <= p0 + tol, p - p0)
    if expectation.startswith("confidence_not_up"):
        return lambda p0, p: (lambda c0, c: (c <= c0 + tol, c - c0))(*conf(p0, p))
    if expectation.startswith("pos_conf_not_down_if_pos/neg_conf_not_down_if_neg"):
        return lambda p0, p: (lambda c0, c: (c >= c0 - tol, c0 - c))(*conf(p0, p))
    return None


RULES = {
    "label": "P(positive) ≥ 0.5 exactly when the label is positive",
    "not_negative": "not negative: read as P(positive) ≥ 0.5 (a binary model has no neutral class)",
    "invariant_prediction": "every variant gets the unperturbed text's prediction",
    "p_positive_not_down": "P(positive) of a variant ≥ the unperturbed text's − tolerance",
    "p_positive_not_up": "P(positive) of a variant ≤ the unperturbed text's + tolerance",
    "confidence_not_up": "confidence in the unperturbed text's predicted class does not rise by more than tolerance",
    "pos_conf_not_down_if_pos/neg_conf_not_down_if_neg": "confidence in the unperturbed text's predicted class "
    "does not fall by more than tolerance",
}


def _rule_text(expectation: str) -> str:
    base = expectation.split(" (tol")[0]
    tol = f" (tolerance {_tolerance(expectation)})" if "(tol" in expectation else ""
    return RULES.get(base, expectation) + tol


def checklist_judge(scored: pd.DataFrame) -> pd.DataFrame:
    """Adds ``passed`` (the *case's* verdict, repeated on each of its rows; a case with an INV/DIR rule fails
    when any variant fails) and ``badness`` (how far the row is from passing; the case's worst on variant 0).
    Rows of an expectation not understood get ``passed = NA``."""
    scored = scored.copy()
    scored["passed"] = pd.array([pd.NA] * len(scored), dtype="boolean")
    scored["badness"] = np.nan
    mft = scored["test_type"] == "MFT"
    ok = scored.loc[mft, "pred"] == scored.loc[mft, "label"]
    scored.loc[mft, "passed"] = ok.to_numpy()
    scored.loc[mft, "badness"] = (scored.loc[mft, "prob_pos"] - scored.loc[mft, "label"]).abs().to_numpy()
    for expectation, g in scored[~mft].groupby("expectation", sort=False):
        rule = _case_rule(str(expectation))
        if rule is None:
            continue
        is0 = g["variant"] == "0"
        p0 = g["pair_id"].map(g.loc[is0].set_index("pair_id")["prob_pos"]).to_numpy(dtype=float)
        good, bad = rule(p0, g["prob_pos"].to_numpy(dtype=float))
        good = np.where(is0, True, good) & ~np.isnan(p0)  # a case without its unperturbed text cannot pass
        case_ok = pd.Series(good, index=g.index).groupby(g["pair_id"]).transform("all")
        case_bad = pd.Series(np.where(is0, -np.inf, bad), index=g.index).groupby(g["pair_id"]).transform("max")
        scored.loc[g.index, "passed"] = case_ok.to_numpy()
        scored.loc[g.index, "badness"] = np.where(is0, case_bad, bad)
    return scored


def checklist_stats(scored: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Failure rate per test (cases, not texts) and per capability (failures pooled over its tests, plus the
    mean of its tests' rates, like the CheckList paper's table)."""
    scored = checklist_judge(scored)
    cases = scored.drop_duplicates("pair_id")[["test", "capability", "test_type", "expectation", "pair_id", "passed"]]
    rows, skipped = [], []
    for test, g in cases.groupby("test", sort=False):
        judged = g["passed"].dropna()
        exp = str(g["expectation"].iat[0])
        if judged.empty:
            skipped.append({"test": test, "reason": f"expectation {exp!r} not understood"})
            continue
        fails = int((~judged.astype(bool)).sum())
        row = _row(
            "checklist", test, g["capability"].iat[0], g["test_type"].iat[0], "failure rate", False, fails,
            len(judged), _rule_text(exp),
        )  # fmt: skip
        rows.append(row)
    by_cap = []
    for cap, g in pd.DataFrame(rows).groupby("capability", sort=True) if rows else ():
        row = _row(
            "checklist", f"capability: {cap}", cap, "+".join(sorted(set(g["type"]))), "failure rate", False,
            g["k"].sum(), g["n"].sum(), f"failures pooled over {len(g)} tests",
        )  # fmt: skip
        row["mean_test_rate"] = float(g["value"].mean())
        row["tests"] = int(len(g))
        by_cap.append(row)
    type_rows = []
    for t, g in pd.DataFrame(rows).groupby("type", sort=True) if rows else ():
        type_rows.append(
            _row("checklist", f"all {t} tests", "", t, "failure rate", False, g["k"].sum(), g["n"].sum(),
                 f"failures pooled over {len(g)} {t} tests")
        )  # fmt: skip
    return scored, {"tests": rows, "capabilities": by_cap, "headline": type_rows, "skipped_tests": skipped}


# ---------------------------------------------------------------- sarcasm


def sarcasm_stats(scored: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Polarity agreement between each sarcastic tweet and its author's literal rephrase (``passed`` on both
    rows of a pair), plus how often each side is read as negative and mean |Δ P(positive)|."""
    scored = scored.copy()
    s = scored[scored["variant"] == "sarcastic"].set_index("pair_id")
    r = scored[scored["variant"] == "rephrase"].set_index("pair_id")
    both = s[["prob_pos", "pred"]].join(r[["prob_pos", "pred"]], how="inner", lsuffix="_s", rsuffix="_r")
    agree = both["pred_s"] == both["pred_r"]
    scored["passed"] = scored["pair_id"].map(agree).astype("boolean")
    scored["badness"] = scored["pair_id"].map((both["prob_pos_s"] - both["prob_pos_r"]).abs())
    n = len(both)
    rows = [
        _row("isarcasm", scored["test"].iat[0] if n else "sarcasm", "Sarcasm", "PAIR", "polarity agreement", True,
             agree.sum(), n, "sarcastic tweet gets the rephrase's polarity: read as its author meant it"),
        _row("isarcasm", "rephrase read as negative", "Sarcasm", "PAIR", "share negative", None,
             (both["pred_r"] == 0).sum(), n, "the literal rephrase (mostly negative) predicted negative"),
        _row("isarcasm", "sarcastic read as negative", "Sarcasm", "PAIR", "share negative", None,
             (both["pred_s"] == 0).sum(), n, "the sarcastic tweet predicted negative"),
    ]  # fmt: skip
    summary = {
        "pairs": n,
        "mean_abs_delta": float((both["prob_pos_s"] - both["prob_pos_r"]).abs().mean()) if n else None,
    }
    return scored, {"tests": rows, "headline": rows[:1], "summary": summary}


STATISTICS: dict[str, Callable[[pd.DataFrame], tuple[pd.DataFrame, dict]]] = {
    "accuracy": accuracy_stats,
    "cad": cad_stats,
    "checklist": checklist_stats,
    "sarcasm": sarcasm_stats,
}
