"""Score a run's model on the challenge sets and write ``challenge.parquet`` + ``challenge.json`` into the run.

    python -m pipeline challenge --run RUN [--sets cad,checklist,isarcasm,advglue,uci] [--data-dir DIR]

Each set is loaded, scored with the run's float32 classifier (the one ``predict`` uses; each distinct text
once) and summarised; its wall time is recorded. A set whose files are absent or unreadable is *skipped with
a note* in ``challenge.json``, never an error. Running a subset keeps the other sets' earlier results.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from ...atomic import atomic_write_json, atomic_write_parquet, run_lock
from ...errors import DataError, PipelineError
from ...runs import CHALLENGE, CHALLENGE_STATS, load_run
from .defaults import DEFAULT_MAX_PER_TEST
from .score import STATISTICS, THRESHOLD, score_frame
from .sets import SETS, default_data_dir

log = logging.getLogger(__name__)

VERSION = 1


def parse_sets(spec: str | None) -> list[str]:
    """``"cad,uci"`` → ``["cad", "uci"]``; ``None`` or empty → every registered set. Unknown names raise
    :class:`PipelineError` naming the known ones."""
    names = [s.strip() for s in (spec or "").split(",") if s.strip()] or list(SETS)
    unknown = [n for n in names if n not in SETS]
    if unknown:
        raise PipelineError(f"unknown challenge set(s) {', '.join(unknown)}; known: {', '.join(SETS)}")
    return names


def run_challenge(
    run_dir: str | Path,
    sets: list[str] | None = None,
    data_dir: str | Path | None = None,
    split: str = "test",
    max_per_test: int | None = DEFAULT_MAX_PER_TEST,
    seed: int = 0,
    classifier=None,
    batch: int = 256,
    progress: bool = True,
) -> dict:
    """Score ``sets`` (default all) from ``data_dir`` (default :func:`default_data_dir`) and write both files
    atomically under the run's lock; returns the ``challenge.json`` content.

    ``split``: the CAD split (``test`` default, ``dev``, ``train``). ``max_per_test``: CheckList cases kept per
    test (seeded sample; ``None`` = all). Raises :class:`PipelineError` when ``data_dir`` does not exist or the
    run is not complete; a missing or broken *set* is only skipped with a note."""
    from tqdm.auto import tqdm

    from ...classifiers import load_classifier

    run_dir = Path(run_dir)
    run = load_run(run_dir)  # a complete run, or RunError with the reason
    names = sets or list(SETS)
    for n in names:
        if n not in SETS:
            raise PipelineError(f"unknown challenge set {n!r}; known: {', '.join(SETS)}")
    root = Path(data_dir) if data_dir else default_data_dir()
    if not root.is_dir():
        raise PipelineError(f"no challenge data at {root}; set CHALLENGE_DATA or pass --data-dir")
    if max_per_test is not None and max_per_test < 1:
        raise PipelineError(f"--max-per-test must be ≥ 1 (got {max_per_test})")

    loaded: dict[str, pd.DataFrame] = {}
    results: dict[str, dict] = {}
    for n in names:
        cs = SETS[n](root, split=split, max_per_test=max_per_test, seed=seed)
        try:
            t0 = time.perf_counter()
            loaded[n] = cs.load()
            results[n] = {"status": "ok", **cs.describe(), "load_seconds": round(time.perf_counter() - t0, 2)}
        except FileNotFoundError as exc:
            results[n] = {"status": "skipped", **cs.describe(), "reason": f"not found: {exc}"}
            log.info("challenge set %s skipped: %s", n, exc)
        except (DataError, OSError, ValueError) as exc:  # a broken file: say so, score the others
            results[n] = {"status": "skipped", **cs.describe(), "reason": f"unreadable: {exc}"}
            log.warning("challenge set %s skipped: %s", n, exc)

    clf = classifier
    if loaded and clf is None:
        clf = load_classifier(run_dir)
    frames = []
    total = sum(f["text"].nunique() for f in loaded.values())
    with tqdm(total=total, desc="challenge", unit="text", disable=not progress, mininterval=1.0) as bar:
        for n, frame in loaded.items():
            bar.set_postfix_str(n)
            start = bar.n
            t0 = time.perf_counter()
            scored = score_frame(clf, frame, batch, on_batch=lambda done, s=start: bar.update(s + done - bar.n))
            seconds = time.perf_counter() - t0
            scored, stats = STATISTICS[SETS[n].statistic](scored)
            frames.append(scored)
            results[n].update(
                {
                    "settings": {"split": split, "max_per_test": max_per_test, "seed": seed}
                    if n in ("cad", "checklist")
                    else {},
                    "n_texts": int(len(scored)),
                    "n_unique_texts": int(frame["text"].nunique()),
                    "score_seconds": round(seconds, 2),
                    **stats,
                }
            )
            log.info("challenge %s: %d texts scored in %.1f s", n, len(scored), seconds)
    if "cad" in loaded:
        train_rows = run.run_json.get("data", {}).get("train", {}).get("rows")
        results["cad"]["leakage"] = (
            "Every original is an IMDB train review; only the counterfactual side is unseen by a model trained on "
            f"the full train split. This run trained on {train_rows if train_rows is not None else 'an unknown number of'}"
            " IMDB train reviews."
        )

    with run_lock(run_dir, "writing challenge results into"):
        new = pd.concat(frames, ignore_index=True) if frames else None
        old, old_stats = run.challenge, run.challenge_stats or {}
        if old is not None and "set" in old.columns:  # keep the sets not re-run this time
            old = old[~old["set"].isin(names)]
            new = old if new is None else pd.concat([old, new], ignore_index=True)
        kept = {k: v for k, v in old_stats.get("sets", {}).items() if k not in names}
        out = {
            "version": VERSION,
            "run": run.info.name,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "data_dir": str(root),
            "threshold": THRESHOLD,
            "model": "float32 classifier of the run (the one `predict` uses), temperature-scaled",
            "sets": {**kept, **results},
        }
        if new is not None:
            for col in ("passed",):
                new[col] = new[col].astype("boolean")
            atomic_write_parquet(run_dir / CHALLENGE, new)
        atomic_write_json(run_dir / CHALLENGE_STATS, out)
    return out


def summary_lines(stats: dict) -> list[str]:
    """One line per headline statistic (and per skipped set), for the CLI."""
    lines = []
    for name, s in stats.get("sets", {}).items():
        if s.get("status") != "ok":
            lines.append(f"{name:10} skipped: {s.get('reason', '')}")
            continue
        for r in s.get("headline", []):
            v = "n/a" if r["value"] is None else f"{r['value']:.1%} [{r['lo']:.1%}, {r['hi']:.1%}]"
            lines.append(f"{name:10} {r['test'][:34]:34} {r['metric'][:30]:30} {v:24} n={r['n']}")
        lines.append(f"{name:10} {'':34} {'wall time (score)':30} {s.get('score_seconds', 0):.1f} s")
    return lines
