"""The run folder: the contract between pipeline and dashboard, and the one module that reads it.

Layout of ``models/<run>/``::

    model/               save_pretrained model + tokenizer   (TF runs)
    baseline/model.skops fitted TF-IDF + logistic regression (baseline runs)
    predictions.parquet  one row per test review
    metrics.json         overall + per-slice metrics, calibration
    run.json             resolved config, versions, hardware, timings, data fingerprint
    README.md            model card
    COMPLETE             written last: only folders holding it are runs

A run is built in ``models/<run>.partial/`` and renamed when complete (:mod:`pipeline.run_writer`), so a
crash never leaves a folder that looks whole. Files added later (explanations, tags, behaviour, challenge sets:
``challenge.parquet`` one row per scored text, ``challenge.json`` statistics per set) are written atomically
(:mod:`pipeline.atomic`). This module only reads; the file names below are the one definition of the layout.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from .errors import RunError

RUN_JSON = "run.json"
METRICS_JSON = "metrics.json"
PREDICTIONS = "predictions.parquet"
MODEL_CARD = "README.md"
EXPLANATIONS = "explanations.parquet"
TAGS = "tags.parquet"
TAG_STATS = "tags.json"
BEHAVIOR = "behavior.json"
CHALLENGE = "challenge.parquet"
CHALLENGE_STATS = "challenge.json"
REQUIRED_FILES = (PREDICTIONS, METRICS_JSON, RUN_JSON, MODEL_CARD)
PREDICTION_COLUMNS = (
    "id",
    "text",
    "label",
    "rating",
    "prob_pos",
    "pred",
    "correct",
    "confidence",
    "n_tokens",
    "truncated",
)
COMPLETE = "COMPLETE"
PARTIAL_SUFFIX = ".partial"


def run_file(run_dir: Path | str, rel: str) -> Path:
    """``run_dir/rel``, refused (:class:`RunError`) when it resolves outside the run folder: a symlink to
    ``/proc/self/environ`` or ``~/.ssh`` inside a shared run must never be read or shown. Every file this
    module (and the classifier registry) reads goes through here."""
    root = Path(run_dir).resolve()
    real = (Path(run_dir) / rel).resolve()
    if not real.is_relative_to(root):
        raise RunError(f"run {Path(run_dir).name!r}: {rel} points outside the run folder; refused")
    return real


def check_tree(run_dir: Path | str, rel: str) -> Path:
    """:func:`run_file` for a folder and everything below it (a model folder read by a framework)."""
    top = run_file(run_dir, rel)
    root = Path(run_dir).resolve()
    for child in (Path(run_dir) / rel).rglob("*") if top.is_dir() else ():
        if not child.resolve().is_relative_to(root):
            raise RunError(
                f"run {Path(run_dir).name!r}: {child.relative_to(run_dir)} points outside the run folder; refused"
            )
    return top


def default_models_dir() -> Path:
    return Path(os.environ.get("MODELS_DIR", Path(__file__).resolve().parent.parent / "models"))


def resolve_run_dir(run: str, models_dir: str | None = None) -> Path:
    """``--run`` accepts a folder or a run name under the models folder."""
    p = Path(run)
    return p if p.is_dir() else Path(models_dir or default_models_dir()) / run


# ---------------------------------------------------------------- reading runs


@dataclass
class RunInfo:
    """One entry of the run picker."""

    name: str
    path: Path
    ok: bool
    reason: str = ""
    model: str = ""
    preset: str = ""
    kind: str = ""
    accuracy: float | None = None
    created: str = ""
    n_test: int = 0

    @property
    def label(self) -> str:
        if not self.ok:
            return f"{self.name} — unavailable: {self.reason}"
        acc = f"{self.accuracy:.2%}" if self.accuracy is not None else "n/a"
        return f"{self.name} · {self.model} · {self.preset} · acc {acc} · {self.created[:16].replace('T', ' ')}"


def inspect_run(path: Path) -> RunInfo:
    """Describe one folder without loading predictions; never raises."""
    path = Path(path)
    name = path.name
    if name.endswith(PARTIAL_SUFFIX):
        return RunInfo(name[: -len(PARTIAL_SUFFIX)], path, False, "incomplete (training running or interrupted)")
    try:
        if not run_file(path, COMPLETE).is_file():
            return RunInfo(name, path, False, "incomplete (no COMPLETE marker)")
        missing = [f for f in REQUIRED_FILES if not run_file(path, f).is_file()]
    except RunError as exc:
        return RunInfo(name, path, False, f"broken: {str(exc).split(': ', 1)[-1]}")
    if missing:
        return RunInfo(name, path, False, f"broken: missing {', '.join(missing)}")
    try:
        run = json.loads(run_file(path, RUN_JSON).read_text(encoding="utf-8"))
        met = json.loads(run_file(path, METRICS_JSON).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        return RunInfo(name, path, False, f"broken: unreadable run.json/metrics.json ({type(exc).__name__})")
    cfg = run.get("config", {})
    return RunInfo(
        name,
        path,
        True,
        model=str(cfg.get("model", run.get("model", "?"))),
        preset=str(cfg.get("preset", "")),
        kind=run.get("kind", "transformer"),
        accuracy=met.get("overall", {}).get("accuracy"),
        created=run.get("created", ""),
        n_test=met.get("overall", {}).get("n", 0),
    )


def list_runs(models_dir: Path | None = None) -> list[RunInfo]:
    """Every run-like folder under ``models_dir``: complete ones newest first, then unusable ones."""
    root = Path(models_dir or default_models_dir())
    if not root.is_dir():
        return []
    real_root = root.resolve()
    infos = [
        inspect_run(p)
        if p.resolve().is_relative_to(real_root)
        else RunInfo(p.name, p, False, "links outside the models folder; refused")
        for p in root.iterdir()
        if p.is_dir() and not p.name.startswith(".")
    ]
    good = sorted((i for i in infos if i.ok), key=lambda i: i.created, reverse=True)
    bad = sorted((i for i in infos if not i.ok), key=lambda i: i.name)
    return good + bad


class Run:
    """A complete run opened for reading. Optional artifacts are ``None`` when absent.

    Opening reads only the small files. ``predictions`` and ``tags`` are read in full on first access (the
    pipeline's analysis steps need whole frames); the dashboard never touches them and asks :attr:`query`
    instead, which answers from the parquet in place (a million reviews do not fit a rerun).
    """

    def __init__(
        self,
        info: RunInfo,
        run_json: dict,
        metrics: dict,
        model_card: str,
        explanations: pd.DataFrame | None = None,
        behavior: dict | None = None,
        tag_stats: dict | None = None,
        challenge: pd.DataFrame | None = None,
        challenge_stats: dict | None = None,
    ):
        self.info, self.run_json, self.metrics, self.model_card = info, run_json, metrics, model_card
        self.explanations, self.behavior, self.tag_stats = explanations, behavior, tag_stats
        self.challenge, self.challenge_stats = challenge, challenge_stats
        self._predictions: pd.DataFrame | None = None
        self._tags: pd.DataFrame | None | bool = False  # False: not read yet
        self._query = None
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        return self.info.path

    @property
    def config(self) -> dict:
        """The resolved config stored in ``run.json``."""
        return self.run_json.get("config", {})

    @property
    def predictions(self) -> pd.DataFrame:
        """The whole ``predictions.parquet`` (read once, on first access)."""
        with self._lock:
            if self._predictions is None:
                try:
                    self._predictions = pd.read_parquet(run_file(self.path, PREDICTIONS))
                except Exception as exc:
                    raise RunError(
                        f"run {self.info.name!r}: cannot read predictions.parquet ({type(exc).__name__})"
                    ) from None
            return self._predictions

    def has(self, rel: str) -> bool:
        """Whether the run holds the file ``rel`` (e.g. :data:`TAGS`), without reading it."""
        try:
            return run_file(self.path, rel).is_file()
        except RunError:
            return False

    def columns(self, names: list[str]) -> pd.DataFrame:
        """Only these columns of ``predictions.parquet``, in file order (cheap next to the full frame, whose
        texts are most of the bytes)."""
        if self._predictions is not None:
            return self._predictions[names]
        return pd.read_parquet(run_file(self.path, PREDICTIONS), columns=names)

    @property
    def tags(self) -> pd.DataFrame | None:
        """``tags.parquet`` (read once, on first access), or ``None`` when absent or unreadable."""
        with self._lock:
            if self._tags is False:
                self._tags = _optional_parquet(self.path, TAGS)
            return self._tags

    @property
    def query(self):
        """The run's :class:`~pipeline.run_query.RunQuery` (DuckDB over the parquet; built on first use)."""
        from .run_query import RunQuery  # DuckDB is imported only by readers that query

        with self._lock:
            if self._query is None:
                self._query = RunQuery(run_file(self.path, PREDICTIONS), run_file(self.path, TAGS))
            return self._query


def _optional_parquet(run_dir: Path, rel: str) -> pd.DataFrame | None:
    try:
        path = run_file(run_dir, rel)
        return pd.read_parquet(path) if path.is_file() else None
    except Exception:
        return None


def _optional_json(run_dir: Path, rel: str) -> dict | None:
    try:
        path = run_file(run_dir, rel)
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    except (OSError, json.JSONDecodeError):
        return None


def load_run(path: Path | str) -> Run:
    """Open a complete run (small files only; see :class:`Run`). Raises :class:`RunError` with the reason
    when it is not usable, including a ``predictions.parquet`` that is unreadable or lacks a required column
    (checked from its schema, without reading the rows)."""
    info = inspect_run(Path(path))
    if not info.ok:
        raise RunError(f"run {info.name!r} is {info.reason}")
    p = info.path
    try:
        columns = pq.read_schema(run_file(p, PREDICTIONS)).names
    except Exception as exc:
        raise RunError(f"run {info.name!r}: cannot read predictions.parquet ({type(exc).__name__})") from None
    missing = [c for c in PREDICTION_COLUMNS if c not in columns]
    if missing:
        raise RunError(f"run {info.name!r}: predictions.parquet lacks {missing}")
    return Run(
        info,
        read_run_json(p),
        json.loads(run_file(p, METRICS_JSON).read_text(encoding="utf-8")),
        run_file(p, MODEL_CARD).read_text(encoding="utf-8"),
        _optional_parquet(p, EXPLANATIONS),
        _optional_json(p, BEHAVIOR),
        _optional_json(p, TAG_STATS),
        _optional_parquet(p, CHALLENGE),
        _optional_json(p, CHALLENGE_STATS),
    )


def read_run_json(path: Path | str) -> dict:
    """``run.json`` of the run folder at ``path`` (config, calibration, versions, timings)."""
    p = run_file(path, RUN_JSON)
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise RunError(f"run {Path(path).name!r}: cannot read {RUN_JSON} ({type(exc).__name__})") from None
