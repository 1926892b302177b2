"""Does the SHAP fidelity a user gets through the public API match what benchmarks/attributions.py reports? (#17)

    python -m benchmarks.shap_fidelity_check --run RUN [--reviews 20] [--subset 3] [--pick both] [--tag TAG]
    python -m benchmarks.shap_fidelity_check --run RUN --reuse-reference CACHE.json ...   # reference from a file

(Run from the repository root with ``-m``, so that ``benchmarks.attributions`` is importable without path edits.)

Reviews: ``--pick tokens`` = closest to the median n_tokens (benchmarks/attributions.py's rule), ``words`` = closest
to the median word count (the issue's rule), ``both`` (default) = alternately one of each. Per review:

(a) public API, exactly as a user writes it (one pair of fresh objects, nothing warmed)::

        ex  = Explainer.from_run(run, method="shap")                                  # the default
        ref = Explainer.from_run(run, method="shap", max_evals=2000, precision="float32")
        [a] = ex([text]); [r] = ref([text]); spearmanr(a.scores, r.scores)

(b) the benchmark's path with benchmarks/attributions.py's own functions: the float32 2,000-eval reference through
    its ``reference()`` (its keyed cache: computed by reference() for the first ``--subset`` reviews, pre-filled with
    the API reference for the others, as the benchmark itself reads a reference cached by an earlier pass), then its
    ``measure()`` on the ``default`` variant (and ``--bench-shap`` variants after it): built by ``Explainer.from_run``
    with no settings, called once untimed on texts[0], a review counted only when the token counts match;

(c) run-to-run: the default (1,000 evals, int8) on the same review by two objects on two classifiers (API ``ex``
    vs the benchmark's explainer, every review) and by the same object twice (first ``--subset`` reviews); the
    float32 2,000-eval reference by the same object twice and by two objects (API ``ref`` vs the benchmark's
    ``reference()``), first ``--subset`` reviews. With ``--reuse-reference`` both paths read the reference from the
    file, and the API computes it afresh for the first ``--subset`` reviews only, to compare with the file.

Spearman on token scores and on word-merged scores (``Attribution.merged_words()``). Timings are
``Attribution.seconds`` and are noisy when the CPU is shared (the 1-minute load average is recorded); rank
correlations are not affected by load. Writes ``benchmarks/results/shap-fidelity-<date>[-TAG].json`` after each
stage (``"complete": false`` until the end).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from datetime import date
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np

from benchmarks import attributions as bench

ROOT = bench.ROOT


def rho(a, b) -> float | None:
    """Spearman of two attributions' token scores; None when they do not cover the same tokens."""
    if len(a.scores) != len(b.scores) or len(a.scores) < 3:
        return None
    return bench.spearman(a.scores, b.scores)


def both(a, b) -> dict:
    return {"tokens": rho(a, b), "words": rho(a.merged_words(), b.merged_words())}


def max_abs_diff(a, b) -> float | None:
    return float(np.max(np.abs(np.subtract(a.scores, b.scores)))) if len(a.scores) == len(b.scores) else None


def med(xs):
    xs = [x for x in xs if x is not None and not np.isnan(x)]
    return round(float(statistics.median(xs)), 3) if xs else None


def pct(xs, q):
    return round(float(np.percentile(xs, q)), 3) if xs else None


def pick_reviews(preds, n: int, rule: str):
    import pandas as pd

    med_tokens = preds["n_tokens"].median()
    by_tokens = preds.iloc[(preds["n_tokens"] - med_tokens).abs().argsort()]  # benchmarks/attributions.py's rule
    words = preds["text"].str.split().str.len()
    by_words = preds.iloc[(words - words.median()).abs().argsort()]  # the rule (median word count)
    if rule != "both":
        pick = (by_tokens if rule == "tokens" else by_words).head(n).copy()
        pick["rule"] = rule
        return pick, float(med_tokens), float(words.median())
    ids, rows = set(), []  # alternate: k-th closest by tokens, k-th closest by words, ... (no repeats)
    for (_, rt), (_, rw) in zip(by_tokens.iterrows(), by_words.iterrows()):
        for r, which in ((rt, "tokens"), (rw, "words")):
            if r["id"] not in ids and len(rows) < n:
                ids.add(r["id"])
                rows.append({**r.to_dict(), "rule": which})
        if len(rows) >= n:
            break
    return pd.DataFrame(rows), float(med_tokens), float(words.median())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", default=os.path.join(os.environ.get("MODELS_DIR", "models"), "demo"))
    ap.add_argument("--reviews", type=int, default=20)
    ap.add_argument(
        "--subset",
        type=int,
        default=3,
        help="first N reviews get the costly run-to-run checks: the default and the float32 reference run twice on "
        "the same object, and the benchmark computes its own reference; for the other reviews the benchmark's "
        "reference cache is pre-filled with the API reference (the benchmark itself reads its reference from a "
        "cache computed in an earlier pass)",
    )
    ap.add_argument(
        "--pick",
        choices=("tokens", "words", "both"),
        default="both",
        help="median n_tokens (the benchmark's rule), median word count (the issue's), or alternating",
    )
    ap.add_argument(
        "--reuse-reference",
        type=Path,
        help="read the float32 2,000-eval reference of every review from this file (a reference cache of "
        "benchmarks/attributions.py) instead of computing it; the API still computes it for the first --subset "
        "reviews and compares",
    )
    ap.add_argument(
        "--bench-shap",
        nargs="*",
        default=[],
        help="more SHAP variants for the benchmark's measure() after the default, e.g. 750 500",
    )
    ap.add_argument("--tag", default="")
    a = ap.parse_args()

    from pipeline.analysis.explain import METHODS, Attribution, Explainer
    from pipeline.runs import load_run, resolve_run_dir

    run_dir = resolve_run_dir(a.run)
    pick, med_tokens, med_words = pick_reviews(load_run(run_dir).predictions, a.reviews, a.pick)
    texts, ids = pick["text"].tolist(), [str(i) for i in pick["id"]]
    n, k = len(texts), min(a.subset, len(texts))
    name = f"shap-fidelity-{date.today()}" + (f"-{a.tag}" if a.tag else "") + ".json"
    path = ROOT / "benchmarks" / "results" / name
    load: dict[str, list[float]] = {}

    # ---- (a) public API: fresh objects, exactly the code
    cached = json.loads(a.reuse_reference.read_text()) if a.reuse_reference else {}
    missing = [i for i in ids if cached and i not in cached]
    assert not missing, f"{a.reuse_reference} has no reference for {missing}"
    api_ex = Explainer.from_run(run_dir, method="shap")
    api_ref = Explainer.from_run(run_dir, method="shap", max_evals=2000, precision="float32")
    api_a, api_r, api_a2, api_r2, fresh_ref = [], [], [], [], []
    load["api"] = [round(os.getloadavg()[0], 2)]
    for i, t in enumerate(texts):
        [x] = api_ex([t])
        r = Attribution(**cached[ids[i]]) if cached else api_ref([t])[0]
        api_a.append(x)
        api_r.append(r)
        if i < k:
            api_a2.append(api_ex([t])[0])  # same object, second call
            (fresh_ref if cached else api_r2).append(api_ref([t])[0])  # cached: fresh vs file; else: twice
        print(
            f"api {i + 1}/{n} rho {rho(x, r):.3f}",
            f"same-obj default {rho(x, api_a2[i]) if i < k else '-'}",
            f"same-obj ref {rho(r, api_r2[i]) if i < len(api_r2) else '-'}",
            f"fresh-vs-file ref {rho(r, fresh_ref[i]) if i < len(fresh_ref) else '-'}",
            f"({x.seconds:.2f} s, ref {r.seconds:.1f} s)",
            flush=True,
        )
    load["api"].append(round(os.getloadavg()[0], 2))

    # ---- (b) the benchmark's path, its own functions in its own order
    ref_settings = dict(api_ref.settings)
    bench_cache = a.reuse_reference or bench.reference_cache(run_dir, ref_settings)
    if not cached:
        stored = json.loads(bench_cache.read_text()) if bench_cache.is_file() else {}
        for i in range(n):
            stored.pop(ids[i], None)
            if i >= k:
                stored[ids[i]] = api_r[i].to_dict()
        bench_cache.parent.mkdir(parents=True, exist_ok=True)
        bench_cache.write_text(json.dumps(stored))
    bench_refs = bench.reference(run_dir, pick, 2000, bench_cache)
    default_settings = METHODS["shap"].defaults(api_ex.clf.capabilities)

    def write(res: dict | None, complete: bool) -> None:
        b_name = next((nm for nm, st in (res or {}).get("settings", {}).items() if st == default_settings), None)
        b_a = res["attributions"][b_name] if b_name else None
        rows = []
        for i in range(n):
            row = {
                "id": ids[i],
                "n_tokens": int(pick["n_tokens"].iloc[i]),
                "words": len(texts[i].split()),
                "rule": pick["rule"].iloc[i],
                "shap_tokens": len(api_a[i].scores),
                "api": both(api_a[i], api_r[i]),  # (a) user: default vs float32 2,000 reference
                "api_default_vs_bench_ref": both(api_a[i], bench_refs[i]),
                "bench_reference": f"read from {a.reuse_reference}"
                if cached
                else (
                    "computed by benchmarks/attributions.py reference()"
                    if i < k
                    else "cache pre-filled with the API reference"
                ),
                "seconds": {"api_default": api_a[i].seconds, "api_ref": api_r[i].seconds},
            }
            if b_a:
                row["bench"] = both(b_a[i], bench_refs[i])  # (b) benchmark path
                row["bench_default_vs_api_ref"] = both(b_a[i], api_r[i])
                row["default_two_objects"] = both(api_a[i], b_a[i])
                row["max_abs_diff_default_two_objects"] = max_abs_diff(api_a[i], b_a[i])
                row["seconds"]["bench_default"] = b_a[i].seconds
            for extra, atts in (res or {}).get("attributions", {}).items():
                if extra != b_name:
                    row.setdefault("bench_extra", {})[extra] = both(atts[i], bench_refs[i])
            if i < k:
                row["default_same_object_twice"] = both(api_a[i], api_a2[i])
                row["max_abs_diff_default_same_object_twice"] = max_abs_diff(api_a[i], api_a2[i])
                row["seconds"]["api_default_again"] = api_a2[i].seconds
            if i < len(api_r2):
                row["ref_same_object_twice"] = both(api_r[i], api_r2[i])
                row["ref_two_objects"] = both(api_r[i], bench_refs[i])
                row["max_abs_diff_ref_two_objects"] = max_abs_diff(api_r[i], bench_refs[i])
            if i < len(fresh_ref):
                row["ref_fresh_vs_file"] = both(fresh_ref[i], api_r[i])
                row["max_abs_diff_ref_fresh_vs_file"] = max_abs_diff(fresh_ref[i], api_r[i])
                row["seconds"]["api_ref_fresh"] = fresh_ref[i].seconds
            rows.append(row)
        keys = [
            "api",
            "bench",
            "api_default_vs_bench_ref",
            "bench_default_vs_api_ref",
            "default_same_object_twice",
            "default_two_objects",
            "ref_two_objects",
            "ref_same_object_twice",
            "ref_fresh_vs_file",
        ]
        medians = {
            key: {u: med([r[key][u] for r in rows if key in r]) for u in ("tokens", "words")}
            | {"reviews": sum(key in r for r in rows)}
            for key in keys
        }
        if b_name:
            medians["bench_as_benchmark_reports"] = {
                "tokens": med(res["spearman_vs_reference"][b_name]),
                "words": med(res["spearman_words_vs_reference"][b_name]),
                "reviews_counted": len(res["spearman_vs_reference"][b_name]),
            }
        extras = {
            nm: {"tokens": med(res["spearman_vs_reference"][nm]), "words": med(res["spearman_words_vs_reference"][nm])}
            | {"reviews_counted": len(res["spearman_vs_reference"][nm]), "settings": res["settings"][nm]}
            for nm in (res or {}).get("attributions", {})
            if nm != b_name
        }
        secs = {
            "api_default": [r["seconds"]["api_default"] for r in rows],
            "api_default_again": [
                r["seconds"]["api_default_again"] for r in rows if "api_default_again" in r["seconds"]
            ],
            "api_ref_float32_2000": [r["seconds"]["api_ref_fresh"] for r in rows if "api_ref_fresh" in r["seconds"]]
            if cached
            else [r["seconds"]["api_ref"] for r in rows],
        }
        for nm, s in (res or {}).get("seconds", {}).items():
            secs["bench_default" if nm == b_name else f"bench_{nm}"] = s
        out = {
            "check": "shap-fidelity",
            "complete": complete,
            "date": str(date.today()),
            "run": str(run_dir),
            "reviews": n,
            "pick": a.pick,
            "median_tokens": med_tokens,
            "median_words": med_words,
            "defaults": default_settings,
            "api_settings": api_ex.settings,
            "bench_settings": res["settings"][b_name] if b_name else None,
            "ref_settings": ref_settings,
            "run_to_run_subset": k,
            "reference_reused_from": str(a.reuse_reference) if cached else None,
            "bench_reference_cache": str(bench_cache),
            "median_spearman": medians,
            "bench_extra_variants": extras,
            "seconds": {key: {"p50": pct(v, 50), "p95": pct(v, 95), "n": len(v)} for key, v in secs.items()},
            "bench_first_call_seconds": (res or {}).get("first_call_seconds"),
            "seconds_note": "Attribution.seconds; the API's first call includes loading the int8 copy; the "
            "benchmark's first call per variant is apart (bench_first_call_seconds); 2-core CPU possibly shared",
            "loadavg_1min_start_end": load | {f"bench_{nm}": v for nm, v in (res or {}).get("loadavg", {}).items()},
            "per_review": rows,
            "note": os.environ.get("BENCH_NOTE", ""),
        }
        path.write_text(json.dumps(out, indent=2) + "\n")
        print(json.dumps({"median_spearman": medians, "extra": extras, "seconds": out["seconds"]}), flush=True)

    write(None, False)
    specs = [f"shap={bench.DEFAULT_SHAP_SPEC}"] + [f"shap={s}" for s in a.bench_shap]
    res = bench.measure(run_dir, specs, texts, bench_refs, on_variant=lambda r: write(r, False))
    write(res, True)
    print(path)


if __name__ == "__main__":
    main()
