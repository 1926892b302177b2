"""Precompute attributions for a run's most confident errors (``python -m pipeline explain``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from ...atomic import atomic_write_parquet, run_lock
from ...classifiers.registry import run_kind
from ...errors import RunError
from ...runs import EXPLANATIONS, load_run
from .explainer import Explainer
from .methods import default_method
from .rows import attribution_columns

log = logging.getLogger(__name__)


def select_reviews(preds: pd.DataFrame, errors: int = 200, correct: int = 50, seed: int = 0) -> pd.DataFrame:
    """The reviews to explain: the ``errors`` most confident errors, then ``correct`` correct predictions
    sampled with ``seed`` (the same rows for the same predictions)."""
    wrong = preds[~preds["correct"]].sort_values("confidence", ascending=False).head(errors)
    right = preds[preds["correct"]]
    right = right.sample(min(correct, len(right)), random_state=seed) if correct else right.head(0)
    return pd.concat([wrong, right])


def unexplained(
    preds: pd.DataFrame,
    explanations: pd.DataFrame | None,
    method: str | None,
    errors: int = 200,
    correct: int = 50,
    seed: int = 0,
) -> pd.DataFrame:
    """The rows of :func:`select_reviews` not yet explained with ``method`` (None: with any method)."""
    todo = select_reviews(preds, errors, correct, seed)
    if explanations is None or explanations.empty or "method" not in explanations:
        return todo
    done = explanations if method is None else explanations[explanations["method"] == method]
    return todo[~todo["id"].isin(set(done["id"]))]


def run_default_method(run_dir: str | Path) -> str:
    """The default method for the run's kind of classifier (:func:`~.methods.default_method`), read from the run
    folder without loading the model; SHAP's (the method every kind supports) for a run without a model."""
    try:
        return default_method(run_kind(run_dir).capabilities)
    except RunError:  # no model in the run: nothing can be explained, but the plan still needs a method name
        return default_method(frozenset())


def precompute(
    run_dir: str | Path,
    method: str | None = None,
    errors: int = 200,
    correct: int = 50,
    seed: int = 0,
    flush_every: int = 10,
    classifier=None,
    progress: Callable[[int, int], None] | None = None,
    **settings,
) -> Path:
    """Explain the ``errors`` most confident errors plus ``correct`` random correct predictions (defaults 200
    and 50, sampled with ``seed`` 0) and write ``explanations.parquet`` into the run. Resumable: ids already
    explained with this method are skipped, rows of other methods are kept, and the file is rewritten
    atomically every ``flush_every`` reviews (default 10). ``classifier``: the run's, when already loaded
    (default: loaded here). ``progress(done, total)`` after each review (default: a tqdm bar). ``method``
    default: the run's (:func:`run_default_method`)."""
    method = method or run_default_method(run_dir)
    with run_lock(Path(run_dir), "explaining"):
        run = load_run(run_dir)
        todo = unexplained(run.predictions, run.explanations, method, errors, correct, seed)
        out_path = Path(run_dir) / EXPLANATIONS
        done = run.explanations if run.explanations is not None else pd.DataFrame()
        rows = done.to_dict("records") if not done.empty else []  # every stored row, other methods' too
        if classifier is None:
            explainer = Explainer.from_run(run_dir, method, **settings)
        else:
            explainer = Explainer(classifier, method, **settings)
        bar = tqdm(total=len(todo), desc=f"explain ({method})", unit="review", disable=progress is not None)
        with bar:
            for i, (_, r) in enumerate(todo.iterrows(), 1):
                a = explainer([r["text"]])[0]
                rows.append(
                    {
                        "id": r["id"],
                        "correct": bool(r["correct"]),
                        "label": int(r["label"]),
                        "pred": int(r["pred"]),
                        **attribution_columns(a),
                    }
                )
                bar.update(1)
                if i % flush_every == 0 or i == len(todo):
                    atomic_write_parquet(out_path, pd.DataFrame(rows))
                if progress is not None:
                    progress(i, len(todo))
        if not rows:
            log.info("nothing to explain in %s", run_dir)
    return out_path
