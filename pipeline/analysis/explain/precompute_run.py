"""Precompute attributions for a run's most confident errors (``python -m pipeline explain``)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from ...atomic import atomic_write_parquet, run_lock
from ...runs import EXPLANATIONS, load_run
from .explainer import DEFAULT_METHOD, Explainer

log = logging.getLogger(__name__)


def precompute(
    run_dir: str | Path,
    method: str = DEFAULT_METHOD,
    errors: int = 200,
    correct: int = 50,
    seed: int = 0,
    flush_every: int = 10,
    **settings,
) -> Path:
    """Explain the ``errors`` most confident errors plus ``correct`` random correct predictions and write
    ``explanations.parquet`` into the run. Resumable: ids already explained with this method are skipped,
    rows of other methods are kept, and the file is rewritten atomically every ``flush_every`` reviews."""
    with run_lock(Path(run_dir), "explaining"):
        run = load_run(run_dir)
        preds = run.predictions
        wrong = preds[~preds["correct"]].sort_values("confidence", ascending=False).head(errors)
        right = preds[preds["correct"]]
        right = right.sample(min(correct, len(right)), random_state=seed) if correct else right.head(0)
        todo = pd.concat([wrong, right])
        out_path = Path(run_dir) / EXPLANATIONS
        done = run.explanations if run.explanations is not None else pd.DataFrame()
        if not done.empty:  # keep every stored row (other methods' too); skip ids done with this method
            todo = todo[~todo["id"].isin(set(done.loc[done["method"] == method, "id"]))]
        rows = done.to_dict("records") if not done.empty else []
        explainer = Explainer.from_run(run_dir, method, **settings)
        with tqdm(total=len(todo), desc=f"explain ({method})", unit="review") as bar:
            for i, (_, r) in enumerate(todo.iterrows(), 1):
                a = explainer([r["text"]])[0]
                rows.append(
                    {
                        "id": r["id"],
                        "correct": bool(r["correct"]),
                        "label": int(r["label"]),
                        "pred": int(r["pred"]),
                        "method": a.method,
                        "tokens": a.tokens,
                        "scores": a.scores,
                        "base_value": a.base_value,
                        "prob_pos": a.prob_pos,
                        "settings": json.dumps(a.settings),
                        "units": a.units,
                        "completeness_gap": a.completeness_gap,
                        "seconds": a.seconds,
                        "truncated": a.truncated,
                    }
                )
                bar.update(1)
                if i % flush_every == 0 or i == len(todo):
                    atomic_write_parquet(out_path, pd.DataFrame(rows))
        if not rows:
            log.info("nothing to explain in %s", run_dir)
    return out_path
