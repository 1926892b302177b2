"""Run the registered tags over a run's predictions and write ``tags.parquet`` + ``tags.json``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from ...atomic import atomic_write_json, atomic_write_parquet, run_lock
from ...runs import TAG_STATS, TAGS, load_run
from .base import MODEL, REGISTRY, TagContext
from .lift import lift_table

log = logging.getLogger(__name__)


def run_tags(
    run_dir: str | Path,
    names: list[str] | None = None,
    sample: int = 2000,
    seed: int = 0,
    data: str | None = None,
    classifier=None,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Compute tags for a run and write ``tags.parquet`` + ``tags.json`` atomically.

    ``names``: a subset of :data:`REGISTRY` (default all). Model-based tags score a seeded sample of at most
    ``sample`` reviews. The run's classifier is loaded only when a chosen tag needs it; a tag whose needs it
    cannot meet (e.g. word-pieces on the TF-IDF baseline) is skipped with a log line. ``classifier``: the
    run's, when already loaded. ``progress(done, total)`` is called after each tag.
    """
    from ...classifiers import load_classifier
    from ...data import load_raw

    run = load_run(run_dir)
    preds = run.predictions.reset_index(drop=True)
    names = names or list(REGISTRY)
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise ValueError(f"unknown tags {unknown}; known: {', '.join(REGISTRY)}")
    train_texts = None
    try:
        frames, _ = load_raw(data or run.run_json.get("data", {}).get("source"))
        train_texts = frames["train"]["text"]
    except Exception as exc:  # noqa: BLE001 — duplicates against train are then skipped, not fatal
        log.warning("training texts unavailable (%s); 'duplicate' checks the test set only", exc)
    if classifier is None and any(MODEL in REGISTRY[n].needs for n in names):
        classifier = load_classifier(run_dir)
    rng = np.random.default_rng(seed)
    sample_ids = set(preds["id"].to_numpy()[rng.permutation(len(preds))[:sample]])
    ctx = TagContext(preds, classifier, train_texts, int(run.config.get("max_length", 256)), sample_ids)
    cols = [preds[["id"]]]
    for i, n in enumerate(names, 1):
        missing = REGISTRY[n].unmet_needs(classifier)
        if missing:
            log.info("tag %s skipped: this run's classifier lacks %s", n, ", ".join(sorted(missing)))
        else:
            log.info("tag %s", n)
            cols.append(REGISTRY[n]().detect(ctx).reset_index(drop=True))
        if progress is not None:
            progress(i, len(names))
    tags = pd.concat(cols, axis=1)
    for n in names:
        if n in tags and tags[n].notna().all():
            tags[n] = tags[n].astype(bool)
    with run_lock(Path(run_dir), "tagging"):
        atomic_write_parquet(Path(run_dir) / TAGS, tags)
        stats = lift_table(tags, preds["correct"])
        atomic_write_json(
            Path(run_dir) / TAG_STATS,
            {"sample": sample, "seed": seed, "tags": stats, "rules": {n: REGISTRY[n].rule for n in names}},
        )
    return tags
