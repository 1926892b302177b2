"""Speed and fidelity of attributions on a fine-tuned MiniLM run, 256 tokens, IMDB test reviews of median length.

    python benchmarks/attributions.py --run RUN [--reviews 20] [--naive 20] [--reference-evals 2000]
    python benchmarks/attributions.py --run RUN --reference-only   # untimed: compute and cache the reference

Per review, in the same process: the naive recipe (transformers pipeline + SHAP defaults), our SHAP at several
budgets and precisions (int8 = the run's quantized copy scores the masked texts), our IG, gradient × input.
Fidelity: Spearman correlation of each method's token scores with a float32 SHAP reference at
``--reference-evals`` evaluations, and the overlap of the 10 largest |scores|. Writes ``benchmarks/results/attributions-<date>.json``.

Measured as a user gets it: every explainer (each SHAP variant, the reference, grad/IG) comes from
``Explainer.from_run`` with its own classifier, like the public API; the ``default`` SHAP variant passes no settings at
all (its settings are the registry's defaults, the ones ``Explainer.from_run(run, method="shap")`` uses). Each
explainer's first call (loading the int8 copy / tracing) is timed separately (``first_call_seconds``), not in the
per-review figures. The reference cache is keyed by the run's model files, the reference's settings, shap's version and
the source of the code that computes it, so a reference from other code or another run is never reused.
"""

from __future__ import annotations

import argparse
import hashlib
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


# The SHAP variant that is the API's default: no settings given, so the registry's defaults apply (the test
# tests/test_explain.py::test_default_shap_is_the_benchmarked_default checks that this is what from_run uses).
DEFAULT_SHAP_SPEC = "default"
# The source the reference depends on: a change to any of it makes a new cache file.
REFERENCE_CODE = ("analysis/explain/*.py", "classifiers/**/*.py", "tokens.py", "text.py", "config.py")


def shap_overrides(spec: str) -> dict:
    """``EVALS[:BATCH[:PRECISION[:UNIT[:MASKER]]]]`` → the settings given to the Explainer; ``default`` → none (the API's default)."""
    if spec == DEFAULT_SHAP_SPEC:
        return {}
    evals, batch, precision, unit, masker = (spec.split(":") + ["", "", "", ""])[:5]
    out: dict = {"max_evals": int(evals)}
    for name, value in (("batch_size", batch), ("precision", precision), ("unit", unit), ("masker", masker)):
        if value:
            out[name] = int(value) if name == "batch_size" else value
    return out


def shap_explainer(run_dir: Path, spec: str):
    """The explainer a user gets for ``spec``: ``Explainer.from_run`` (its own classifier), nothing shared."""
    from pipeline.analysis.explain import Explainer

    return Explainer.from_run(run_dir, "shap", **shap_overrides(spec))


def variant_name(spec: str, settings: dict) -> str:
    b = settings["batch_size"]
    name = f"shap_{settings['max_evals']}" + (f"_b{b}" if spec.count(":") == 1 else "") + f"_{settings['precision']}"
    return name + f"_{settings.get('unit', 'word')}_{settings.get('masker', 'ids')}"


def reference_cache(run_dir: Path, settings: dict) -> Path:
    """benchmarks/results/cache/reference-RUN-EVALS-PRECISION-KEY.json (git-ignored); KEY hashes the run folder's path
    and model files (name, size, mtime), the reference's settings, shap's version and ``REFERENCE_CODE``'s source."""
    import shap

    import pipeline

    h = hashlib.sha256()
    h.update(json.dumps([str(run_dir.resolve()), settings, shap.__version__], sort_keys=True).encode())
    for f in sorted((run_dir / "model").iterdir()):
        h.update(f"{f.name}:{f.stat().st_size}:{int(f.stat().st_mtime)}".encode())
    pkg = Path(pipeline.__file__).parent
    for f in sorted({f for pattern in REFERENCE_CODE for f in pkg.glob(pattern)}):
        h.update(str(f.relative_to(pkg)).encode() + b"\0" + f.read_bytes())
    name = f"reference-{run_dir.name}-{settings['max_evals']}-{settings['precision']}-{h.hexdigest()[:12]}.json"
    return ROOT / "benchmarks" / "results" / "cache" / name


def reference(run_dir: Path, pick, evals: int, cache: Path | None = None):
    """Float32 SHAP at ``evals`` evaluations per review by ``Explainer.from_run`` (the issue's
    ``Explainer.from_run(run, method="shap", max_evals=2000, precision="float32")``), cached (see
    :func:`reference_cache`, or ``cache``): it is only compared against, never timed, so it may be computed
    separately (``--reference-only``). The classifier is loaded only when a review is missing from the cache."""
    from pipeline.analysis.explain import METHODS, Attribution, Explainer

    settings = {**METHODS["shap"].defaults(), "max_evals": evals, "precision": "float32"}
    cache = cache or reference_cache(run_dir, settings)
    stored = json.loads(cache.read_text()) if cache.is_file() else {}
    ex = None
    out = []
    for rid, text in zip(pick["id"], pick["text"]):
        key = str(rid)
        if key not in stored:
            ex = ex or Explainer.from_run(run_dir, "shap", max_evals=evals, precision="float32")
            assert ex.settings == settings, (ex.settings, settings)
            stored[key] = ex([text])[0].to_dict()
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_text(json.dumps(stored))
            print("reference", len(stored), "reviews", flush=True)
        out.append(Attribution(**stored[key]))
    return out


def make_explainer(run_dir: Path, spec: str):
    """``grad``, ``ig`` or ``shap=SPEC`` → ``(name, Explainer.from_run(...))``: each with its own classifier."""
    from pipeline.analysis.explain import Explainer

    if spec.startswith("shap="):
        ex = shap_explainer(run_dir, spec[5:])
        return variant_name(spec[5:], ex.settings), ex
    return spec, Explainer.from_run(run_dir, spec)


def word_of(clf, text: str):
    """The word index of each content word-piece of what ``clf`` sees of ``text``."""
    from pipeline.analysis.explain.faithfulness import word_of_piece
    from pipeline.classifiers.base import seen_text

    ids = clf.encode([seen_text(clf, text)[0]]).ids[0]
    return word_of_piece(clf.tokenizer.convert_ids_to_tokens(ids.tolist())[1:-1])


def measure(run_dir: Path, specs: list[str], texts: list[str], refs: list, on_variant=None) -> dict:
    """Per explainer, in ``specs``' order: build it as the API does, call it once on ``texts[0]`` (its first-call
    cost: loading the int8 copy, tracing; recorded apart), then time it on every text and compare with ``refs``
    (reviews whose token count differs from the reference's are skipped and counted). ``on_variant(res)`` after each."""
    from pipeline.analysis.explain import METHODS
    from pipeline.analysis.explain.faithfulness import word_scores

    res: dict = {"seconds": {}, "spearman_vs_reference": {}, "spearman_words_vs_reference": {}, "settings": {}}
    res |= {"first_call_seconds": {}, "loadavg": {}, "attributions": {}}
    for spec in specs:
        name, ex = make_explainer(run_dir, spec)
        if ex.method == "shap":
            res["default_settings"] = METHODS["shap"].defaults(ex.clf.capabilities)
            res.setdefault("visible", [ex.visible_text(t)[0] for t in texts])
        res["settings"][name] = ex.settings
        load = [round(os.getloadavg()[0], 2)]
        res["first_call_seconds"][name] = ex([texts[0]])[0].seconds
        secs, rhos, word_rhos, atts = [], [], [], []
        for t, r in zip(texts, refs):
            at = ex([t])[0]
            secs.append(at.seconds)
            atts.append(at)
            if name == "ig":
                res.setdefault("ig_steps_and_gap", []).append([at.settings["steps_used"], at.completeness_gap])
            if len(at.scores) == len(r.scores):
                rhos.append(spearman(at.scores, r.scores))
                top_ours, top_ref = (set(np.argsort(-np.abs(x))[:10]) for x in (at.scores, r.scores))
                res.setdefault("top10_overlap_vs_reference", {}).setdefault(name, []).append(
                    len(top_ours & top_ref) / 10
                )
            # words: the tokenizer's piece groups (a piece and its "##" continuations), for every method alike
            wo = word_of(ex.clf, t)
            if len(r.scores) == len(wo) and len(at.scores) in (len(wo), int(wo.max()) + 1):
                word_rhos.append(spearman(word_scores(at.scores, wo), word_scores(r.scores, wo)))
        load.append(round(os.getloadavg()[0], 2))
        res["loadavg"][name] = load
        res["seconds"][name] = secs
        res["spearman_vs_reference"][name] = rhos
        res["spearman_words_vs_reference"][name] = word_rhos
        res["attributions"][name] = atts
        print(
            name,
            "p50 s",
            statistics.median(secs),
            "median rho",
            statistics.median(rhos) if rhos else None,
            "words",
            statistics.median(word_rhos) if word_rhos else None,
            f"({len(rhos)} of {len(texts)} reviews compared; load {load})",
            flush=True,
        )
        del ex
        if on_variant:
            on_variant(res)
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True)
    ap.add_argument("--reviews", type=int, default=20)
    ap.add_argument("--naive", type=int, default=20, help="reviews timed with the naive recipe (~90 s each)")
    ap.add_argument("--reference-evals", type=int, default=2000)
    ap.add_argument(
        "--shap",
        nargs="+",
        default=["500", "750", DEFAULT_SHAP_SPEC, "1000:64:float32"],
        help="SHAP settings to time: EVALS[:BATCH[:PRECISION[:UNIT[:MASKER]]]] (unset: the Explainer's), or 'default' (no settings)",
    )
    ap.add_argument("--no-gradients", action="store_true", help="skip grad and IG")
    ap.add_argument(
        "--reference-only",
        action="store_true",
        help="compute the reference and cache it, time nothing (it is only used for fidelity)",
    )
    ap.add_argument(
        "--reference-cache",
        type=Path,
        help="read/extend this reference file instead of the keyed cache (recorded in the results: it may come from "
        "other code)",
    )
    a = ap.parse_args()
    from pipeline.runs import load_run, resolve_run_dir

    run_dir = resolve_run_dir(a.run)
    run = load_run(run_dir)
    preds = run.predictions
    med = preds["n_tokens"].median()
    pick = preds.iloc[(preds["n_tokens"] - med).abs().argsort()[: a.reviews]]
    if a.reference_cache and a.reference_cache.is_file():
        # the reviews the reference was computed on (another session's median pick: ties broke differently)
        cached = list(json.loads(a.reference_cache.read_text()))[: a.reviews]
        pick = preds.set_index(preds["id"].astype(str)).loc[cached].reset_index(drop=True)
    texts = pick["text"].tolist()
    refs = reference(run_dir, pick, a.reference_evals, a.reference_cache)
    if a.reference_only:
        return
    specs = ([] if a.no_gradients else ["grad", "ig"]) + [f"shap={spec}" for spec in a.shap]
    res = measure(run_dir, specs, texts, refs)
    shap_variants = [(n, st) for n, st in res["settings"].items() if n.startswith("shap")]
    form, ns = "not run (--naive 0)", []
    if a.naive:
        naive, form = naive_recipe(run_dir)
        vis = [res["visible"][i] for i in range(min(a.naive, len(texts)))]
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
        "settings": {"ig": res["settings"].get("ig"), "shap": dict(shap_variants)},
        "default_shap": [n for n, st in shap_variants if st == res["default_settings"]],
        "reviews_compared": {k: len(v) for k, v in res["spearman_vs_reference"].items()},
        "first_call_seconds": res["first_call_seconds"],
        "loadavg_1min_during": res["loadavg"],
        "cpu_threads": os.cpu_count(),
        "reference_evals": a.reference_evals,
        "reference_cache": str(a.reference_cache or reference_cache(run_dir, refs[0].settings)),
        "raw": {k: v for k, v in res.items() if k not in ("attributions", "visible")},
        "note": os.environ.get("BENCH_NOTE", ""),
    }
    path = ROOT / "benchmarks" / "results" / f"attributions-{date.today()}.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps({k: out[k] for k in ("seconds", "median_spearman_vs_reference", "naive_form")}, indent=2))


if __name__ == "__main__":
    main()
