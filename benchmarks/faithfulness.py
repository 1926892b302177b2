"""Faithfulness of every attribution method, measured the way the field does: ERASER comprehensiveness and sufficiency
(DeYoung et al., ACL 2020) as AOPC over k = 1, 5, 10, 20, 50 % of a review's words, with 95 % bootstrap CIs.

    python benchmarks/faithfulness.py --run RUN [--reviews 100] [--seed 0] [--methods random occlusion grad ig shap ...]
        [--min-tokens N] [--max-tokens N]   (a length band: e.g. median-length reviews, or short ones for cost)

Methods: ``random`` (a control: normal scores per word), ``occlusion`` (leave-one-word-out with the metric's own
removal: the reference a removal metric favours), and any registry method with optional settings,
``NAME[:setting=value,...]`` (e.g. ``shap:max_evals=500``, ``ig:baseline=mask``), each built as the API builds it
(``Explainer(classifier, NAME, **settings)``) on what the model sees of the review. Removal and word units: see
``pipeline/analysis/explain/faithfulness.py`` ([PAD] with no attention, positions kept; the same for every method).
Reviews: a random sample of the run's test predictions (``--seed``). Attributions are cached per method and review in
``benchmarks/results/cache/`` (git-ignored), so an interrupted run resumes. Writes
``benchmarks/results/faithfulness-<run>-<date>.json`` after every method, with the load average.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np

DEFAULT_METHODS = ["random", "grad", "ig", "ig:baseline=mask", "shap:max_evals=500", "shap", "occlusion"]


def parse_method(spec: str) -> tuple[str, dict]:
    name, _, rest = spec.partition(":")
    settings = {}
    for part in filter(None, rest.split(",")):
        k, v = part.split("=")
        settings[k] = int(v) if v.isdigit() else v
    return name, settings


def bootstrap_ci(x: np.ndarray, n: int = 2000, seed: int = 0) -> list[float]:
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, len(x), (n, len(x)))].mean(1)
    return [round(float(np.percentile(means, 2.5)), 4), round(float(np.percentile(means, 97.5)), 4)]


def loadavg() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True)
    ap.add_argument("--reviews", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--methods", nargs="+", default=DEFAULT_METHODS)
    ap.add_argument("--max-tokens", type=int, help="sample only reviews of at most this many word-pieces (cost)")
    ap.add_argument(
        "--min-tokens", type=int, help="sample only reviews of at least this many word-pieces (median-length reviews)"
    )
    ap.add_argument("--removal", choices=("pad", "mask"), default="pad", help="sensitivity check: removed = [MASK]")
    ap.add_argument("--deadline", help="UTC HH:MM: stop computing a method at this time and report what is done")
    a = ap.parse_args()

    from pipeline.analysis.explain import Explainer
    from pipeline.analysis.explain.faithfulness import BINS, eraser, occlusion_scores, word_of_piece
    from pipeline.classifiers import load_classifier
    from pipeline.classifiers.base import seen_text
    from pipeline.runs import load_run, resolve_run_dir

    run_dir = resolve_run_dir(a.run)
    preds = load_run(run_dir).predictions
    pool = preds
    if a.max_tokens is not None:
        pool = pool[pool["n_tokens"] <= a.max_tokens]
    if a.min_tokens is not None:
        pool = pool[pool["n_tokens"] >= a.min_tokens]
    pick = pool.sample(min(a.reviews, len(pool)), random_state=a.seed)
    clf = load_classifier(run_dir)

    def score(rows):
        return clf.prob_positive_ids(rows, precision="float32")

    reviews = []
    for rid, text in zip(pick["id"].astype(str), pick["text"]):
        vis = seen_text(clf, text)[0]
        ids = clf.encode([vis]).ids[0]
        wo = word_of_piece(clf.tokenizer.convert_ids_to_tokens(ids.tolist())[1:-1])
        reviews.append((rid, vis, ids, wo))
    p_full = score([r[2] for r in reviews])

    band = " and ".join(f"{w} {n}" for w, n in (("at least", a.min_tokens), ("at most", a.max_tokens)) if n is not None)
    removal_id = clf.tokenizer.mask_token_id if a.removal == "mask" else 0
    suffix = ("" if a.removal == "pad" else "-mask-removal") + (f"-min{a.min_tokens}" if a.min_tokens else "")
    out_path = ROOT / "benchmarks" / "results" / f"faithfulness-{run_dir.name}{suffix}-{date.today()}.json"
    out = json.loads(out_path.read_text()) if out_path.is_file() else {}
    out |= {
        "benchmark": "faithfulness",
        "date": str(date.today()),
        "run": run_dir.name,
        "reviews": len(reviews),
        "pick": f"random sample of the run's test predictions, seed {a.seed}"
        + (f", among the {len(pool)} of {band} word-pieces" if band else ""),
        "median_words": float(np.median([int(r[3].max()) + 1 for r in reviews])),
        "bins": list(BINS),
        "removal": "word-pieces of removed words -> [PAD] (attention mask 0), other positions unchanged; float32 model"
        if a.removal == "pad"
        else "word-pieces of removed words -> [MASK] each (attended), other positions unchanged; float32 model",
        "ranking": "words by attribution toward the predicted class; word-piece scores summed into words",
        "cpu_threads": os.cpu_count(),
        "uptime_at_start": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(),
    }
    out.setdefault("methods", {})
    key = hashlib.sha256(json.dumps([str(run_dir.resolve()), a.seed, len(reviews)]).encode()).hexdigest()[:10]
    cache_dir = ROOT / "benchmarks" / "results" / "cache"
    cache_dir.mkdir(parents=True, exist_ok=True)

    for spec in a.methods:
        name, settings = parse_method(spec)
        cache = cache_dir / f"faith-{run_dir.name}-{key}{suffix}-{spec.replace(':', '_').replace('=', '-')}.json"
        # attributions do not depend on the removal: reuse the [PAD] run's when it stored them
        scores_from = cache_dir / f"faith-{run_dir.name}-{key}-{spec.replace(':', '_').replace('=', '-')}.json"
        earlier = json.loads(scores_from.read_text()) if scores_from.is_file() else {}
        stored = json.loads(cache.read_text()) if cache.is_file() else {}
        ex = first_call = None
        if name not in ("random", "occlusion"):
            ex = Explainer(clf, name, **settings)
            t0 = time.perf_counter()
            ex.warm_up()
            first_call = round(time.perf_counter() - t0, 3)
        load_before = loadavg()
        rng = np.random.default_rng(a.seed)
        computed = 0
        for (rid, vis, ids, wo), p in zip(reviews, p_full):
            n_words = int(wo.max()) + 1
            rand = rng.standard_normal(n_words)  # drawn for every review so the control does not depend on the cache
            if rid in stored:
                continue
            if a.deadline and time.strftime("%H:%M", time.gmtime()) >= a.deadline:
                break
            t0 = time.perf_counter()
            if "scores" in earlier.get(rid, {}):
                scores = np.asarray(earlier[rid]["scores"])
            elif name == "random":
                scores = rand
            elif name == "occlusion":
                scores = occlusion_scores(ids, wo, score, prob_positive=float(p))
            else:
                scores = np.asarray(ex([vis])[0].scores)
            seconds = time.perf_counter() - t0
            computed += 1
            try:
                f = eraser(ids, wo, scores, score, prob_positive=float(p), removal_id=removal_id)
            except ValueError as exc:  # the method's units did not line up with the review's word-pieces
                stored[rid] = {"error": str(exc), "seconds": seconds}
            else:
                stored[rid] = {
                    "comprehensiveness": f.comprehensiveness,
                    "sufficiency": f.sufficiency,
                    "seconds": seconds,
                    "scores": [round(float(v), 6) for v in scores],
                }
            cache.write_text(json.dumps(stored))
        done = [r for r in reviews if r[0] in stored]
        ok = [stored[r[0]] for r in done if "error" not in stored[r[0]]]
        if not ok:
            continue
        comp = np.array([np.mean(s["comprehensiveness"]) for s in ok])
        suff = np.array([np.mean(s["sufficiency"]) for s in ok])
        secs = np.array([stored[r[0]]["seconds"] for r in done])
        out["methods"][spec] = {
            "settings": ex.settings if ex else {},
            "reviews_scored": len(ok),
            "reviews_failed": len(done) - len(ok),
            "reviews_not_reached": len(reviews) - len(done),  # the --deadline came first
            "scored_ids": [r[0] for r in done if "error" not in stored[r[0]]],
            "comprehensiveness_aopc": round(float(comp.mean()), 4),
            "comprehensiveness_ci95": bootstrap_ci(comp),
            "sufficiency_aopc": round(float(suff.mean()), 4),
            "sufficiency_ci95": bootstrap_ci(suff),
            "comprehensiveness_by_bin": [
                round(float(np.mean([s["comprehensiveness"][i] for s in ok])), 4) for i in range(len(BINS))
            ],
            "sufficiency_by_bin": [
                round(float(np.mean([s["sufficiency"][i] for s in ok])), 4) for i in range(len(BINS))
            ],
            "seconds_p50": round(float(np.percentile(secs, 50)), 3),
            "seconds_p95": round(float(np.percentile(secs, 95)), 3),
            "first_call_seconds": first_call,
            "loadavg_before_after": [load_before, loadavg()],
            "reviews_computed_now": computed,  # the rest came from the cache (an earlier, interrupted run)
        }
        out_path.write_text(json.dumps(out, indent=2) + "\n")
        m = out["methods"][spec]
        print(
            f"{spec:24s} comp {m['comprehensiveness_aopc']:.3f} {m['comprehensiveness_ci95']} "
            f"suff {m['sufficiency_aopc']:.3f} {m['sufficiency_ci95']} p50 {m['seconds_p50']} s "
            f"({m['reviews_scored']} reviews; load {m['loadavg_before_after']})",
            flush=True,
        )


if __name__ == "__main__":
    main()
