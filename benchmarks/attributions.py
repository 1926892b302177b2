"""Speed and fidelity of attributions on a fine-tuned MiniLM run, 256 tokens, IMDB test reviews of median length.

    python benchmarks/attributions.py --run RUN [--reviews 20] [--naive 20] [--reference-evals 2000]
    python benchmarks/attributions.py --run RUN --reference-only   # untimed: compute and cache the reference

Per review, in the same process: the naive recipe (transformers pipeline + SHAP defaults), our SHAP at several
budgets and precisions (int8 = the run's quantized copy scores the masked texts), our IG, gradient × input.
Fidelity: Spearman correlation of each method's token scores with a float32 SHAP reference at
``--reference-evals`` evaluations, and the overlap of the 10 largest |scores|. Writes ``benchmarks/results/attributions-<date>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np


def naive_recipe(run_dir: Path):
    """The docs recipe: a transformers pipeline handed to SHAP. Without torch, ``shap.models.TransformersPipeline``
    cannot wrap a TF pipeline, so SHAP gets the pipeline as a plain function (still one review per call
    batch of 10, default max_evals) — the fastest form of the recipe that runs here."""
    import shap
    from transformers import AutoTokenizer, TFAutoModelForSequenceClassification, pipeline

    tok = AutoTokenizer.from_pretrained(str(run_dir / "model"))
    mdl = TFAutoModelForSequenceClassification.from_pretrained(str(run_dir / "model"))
    pipe = pipeline(
        "text-classification",
        model=mdl,
        tokenizer=tok,
        framework="tf",
        dtype=None,
        top_k=None,
        truncation=True,
        max_length=256,
    )
    try:
        expl = shap.Explainer(shap.models.TransformersPipeline(pipe, rescale_to_logits=False), shap.maskers.Text(tok))
        form = "shap.models.TransformersPipeline"
        expl(["a quick test"])
    except Exception as exc:  # noqa: BLE001 — record why and use the plain-function form
        form = f"plain function over the pipeline (TransformersPipeline failed: {type(exc).__name__})"

        def f(xs):
            out = pipe(list(xs), batch_size=10)
            return np.array([[d["score"] for d in sorted(o, key=lambda d: d["label"])][1] for o in out])

        expl = shap.Explainer(f, shap.maskers.Text(tok))
    return expl, form


def spearman(a, b) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic) if len(a) > 2 else float("nan")


def reference(clf, run_dir: Path, pick, evals: int):
    """Float32 SHAP at ``evals`` evaluations per review, cached under benchmarks/results/cache (git-ignored): it is only
    compared against, never timed, so it may be computed separately (``--reference-only``)."""
    from pipeline.analysis.explain import Attribution, Explainer

    cache = ROOT / "benchmarks" / "results" / "cache" / f"reference-{run_dir.name}-{evals}.json"
    stored = json.loads(cache.read_text()) if cache.is_file() else {}
    ex = Explainer(clf, "shap", max_evals=evals, precision="float32")  # the reference is the float32 model
    out = []
    for rid, text in zip(pick["id"], pick["text"]):
        key = str(rid)
        if key not in stored:
            stored[key] = ex([text])[0].to_dict()
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_text(json.dumps(stored))
            print("reference", len(stored), "reviews", flush=True)
        out.append(Attribution(**stored[key]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True)
    ap.add_argument("--reviews", type=int, default=20)
    ap.add_argument("--naive", type=int, default=20, help="reviews timed with the naive recipe (~90 s each)")
    ap.add_argument("--reference-evals", type=int, default=2000)
    ap.add_argument(
        "--shap",
        nargs="+",
        default=["500", "750", "1000", "1000:64:float32"],
        help="SHAP settings to time: EVALS[:BATCH[:PRECISION]] (defaults: the Explainer's)",
    )
    ap.add_argument(
        "--reference-only",
        action="store_true",
        help="compute the reference and cache it, time nothing (it is only used for fidelity)",
    )
    a = ap.parse_args()
    from pipeline.analysis.explain import Explainer
    from pipeline.classifiers import load_classifier
    from pipeline.runs import load_run, resolve_run_dir

    run_dir = resolve_run_dir(a.run)
    run = load_run(run_dir)
    clf = load_classifier(run_dir)
    preds = run.predictions
    med = preds["n_tokens"].median()
    pick = preds.iloc[(preds["n_tokens"] - med).abs().argsort()[: a.reviews]]
    texts = pick["text"].tolist()
    res: dict = {"seconds": {}, "spearman_vs_reference": {}}
    grad, ig = Explainer(clf, "grad"), Explainer(clf, "ig")
    grad([texts[0]]), ig([texts[0]])  # trace once
    refs = reference(clf, run_dir, pick, a.reference_evals)
    if a.reference_only:
        return
    res["spearman_words_vs_reference"] = {}
    shap_variants = []
    for spec in a.shap:
        evals, batch, precision = (spec.split(":") + ["", ""])[:3]
        extra = {"batch_size": int(batch)} if batch else {}
        if precision:
            extra["precision"] = precision
        ex = Explainer(clf, "shap", max_evals=int(evals), **extra)
        name = f"shap_{evals}" + (f"_b{batch}" if batch else "") + f"_{ex.settings['precision']}"
        ex([texts[0]])  # load the int8 copy / trace once, untimed
        shap_variants.append((name, ex))
    for name, ex in [("grad", grad), ("ig", ig)] + shap_variants:
        secs, rhos, word_rhos = [], [], []
        for t, r in zip(texts, refs):
            at = ex([t])[0]
            secs.append(at.seconds)
            if name == "ig":
                res.setdefault("ig_steps_and_gap", []).append([at.settings["steps_used"], at.completeness_gap])
            if len(at.scores) == len(r.scores):
                rhos.append(spearman(at.scores, r.scores))
                top_ours, top_ref = (set(np.argsort(-np.abs(x))[:10]) for x in (at.scores, r.scores))
                res.setdefault("top10_overlap_vs_reference", {}).setdefault(name, []).append(
                    len(top_ours & top_ref) / 10
                )
                word_rhos.append(spearman(at.merged_words().scores, r.merged_words().scores))
        res["seconds"][name] = secs
        res["spearman_vs_reference"][name] = rhos
        res["spearman_words_vs_reference"][name] = word_rhos
        print(
            name,
            "p50 s",
            statistics.median(secs),
            "median rho",
            statistics.median(rhos) if rhos else None,
            "words",
            statistics.median(word_rhos) if word_rhos else None,
            flush=True,
        )
    naive, form = naive_recipe(run_dir)
    vis = [Explainer(clf, "shap").visible_text(t)[0] for t in texts[: a.naive]]
    ns = []
    for t in vis:
        t0 = time.perf_counter()
        naive([t])
        ns.append(time.perf_counter() - t0)
    res["seconds"]["naive"] = ns
    summary = {
        k: {"p50": round(float(np.percentile(v, 50)), 3), "p95": round(float(np.percentile(v, 95)), 3)}
        for k, v in res["seconds"].items()
    }
    fidelity = {k: round(float(np.median(v)), 3) for k, v in res["spearman_vs_reference"].items() if v}
    fidelity_words = {k: round(float(np.median(v)), 3) for k, v in res["spearman_words_vs_reference"].items() if v}
    out = {
        "benchmark": "attributions",
        "date": str(date.today()),
        "run": run_dir.name,
        "reviews": len(texts),
        "median_tokens": float(med),
        "naive_form": form,
        "naive_reviews": len(ns),
        "seconds": summary,
        "median_spearman_vs_reference": fidelity,
        "median_spearman_words_vs_reference": fidelity_words,
        "median_top10_overlap_vs_reference": {
            k: round(float(np.median(v)), 2) for k, v in res.get("top10_overlap_vs_reference", {}).items()
        },
        "settings": {"ig": ig.settings, "shap": {n: e.settings for n, e in shap_variants}},
        "cpu_threads": os.cpu_count(),
        "reference_evals": a.reference_evals,
        "raw": res,
        "note": os.environ.get("BENCH_NOTE", ""),
    }
    path = ROOT / "benchmarks" / "results" / f"attributions-{date.today()}.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps({k: out[k] for k in ("seconds", "median_spearman_vs_reference", "naive_form")}, indent=2))


if __name__ == "__main__":
    main()
