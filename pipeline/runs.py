"""The run folder: the contract between pipeline and dashboard, and the one module that reads it.

Layout of ``models/<run>/``::

    model/               save_pretrained model + tokenizer   (TF runs)
    baseline/model.skops fitted TF-IDF + logistic regression (baseline runs)
    predictions.parquet  one row per test review
    metrics.json         overall + per-slice metrics, calibration
    run.json             resolved config, versions, hardware, timings, data fingerprint
    README.md            model card
    COMPLETE             written last: only folders holding it are runs

A run is built in ``models/<run>.partial/`` and renamed when complete, so a crash never leaves a folder
that looks whole. Files added later (explanations, tags) are written atomically (temp file + rename).
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

REQUIRED_FILES = ("predictions.parquet", "metrics.json", "run.json", "README.md")
PREDICTION_COLUMNS = ("id", "text", "label", "rating", "prob_pos", "pred", "correct", "confidence",
                      "n_tokens", "truncated")
COMPLETE = "COMPLETE"
PARTIAL_SUFFIX = ".partial"


class RunError(ValueError):
    """A run folder that is missing, incomplete or broken; the message says why."""


def default_models_dir() -> Path:
    return Path(os.environ.get("MODELS_DIR", Path(__file__).resolve().parent.parent / "models"))


def resolve_run_dir(run: str, models_dir: str | None = None) -> Path:
    """``--run`` accepts a folder or a run name under the models folder."""
    p = Path(run)
    return p if p.is_dir() else Path(models_dir or default_models_dir()) / run


# ---------------------------------------------------------------- atomic writes


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; run folders are meant to be shared
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, default=_json_default) + "\n")


def atomic_write_parquet(path: Path, df: pd.DataFrame) -> None:
    import io

    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    atomic_write_bytes(path, buf.getvalue())


def _json_default(o: Any):
    import numpy as np

    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


# ---------------------------------------------------------------- writing a run


class RunWriter:
    """Stage a run in ``<models>/<name>.partial/`` and publish it with :meth:`finish`."""

    def __init__(self, models_dir: Path, name: str, resume: bool = False):
        self.models_dir = Path(models_dir)
        self.name = name
        self.final = self.models_dir / name
        self.staging = self.models_dir / (name + PARTIAL_SUFFIX)
        if self.final.exists():
            raise RunError(f"run {name!r} already exists in {self.models_dir}; pick another --name")
        if self.staging.exists() and not resume:
            raise RunError(f"an interrupted run {name!r} exists ({self.staging}); continue it with --resume "
                           "or delete that folder")
        self.staging.mkdir(parents=True, exist_ok=True)

    def path(self, rel: str) -> Path:
        return self.staging / rel

    def write_json(self, rel: str, obj: Any) -> None:
        atomic_write_json(self.path(rel), obj)

    def write_text(self, rel: str, text: str) -> None:
        atomic_write_text(self.path(rel), text)

    def write_predictions(self, df: pd.DataFrame) -> None:
        missing = [c for c in PREDICTION_COLUMNS if c not in df.columns]
        if missing:
            raise RunError(f"predictions lack columns {missing}")
        atomic_write_parquet(self.path("predictions.parquet"), df)

    def finish(self) -> Path:
        """Check every required file, drop training checkpoints, mark complete and publish."""
        missing = [f for f in REQUIRED_FILES if not self.path(f).is_file()]
        if missing:
            raise RunError(f"run {self.name!r} is missing {missing}; not published")
        shutil.rmtree(self.path("checkpoints"), ignore_errors=True)
        atomic_write_text(self.path(COMPLETE), datetime.now(timezone.utc).isoformat() + "\n")
        os.replace(self.staging, self.final)
        return self.final


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
    if not (path / COMPLETE).is_file():
        return RunInfo(name, path, False, "incomplete (no COMPLETE marker)")
    missing = [f for f in REQUIRED_FILES if not (path / f).is_file()]
    if missing:
        return RunInfo(name, path, False, f"broken: missing {', '.join(missing)}")
    try:
        run = json.loads((path / "run.json").read_text(encoding="utf-8"))
        met = json.loads((path / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        return RunInfo(name, path, False, f"broken: unreadable run.json/metrics.json ({type(exc).__name__})")
    cfg = run.get("config", {})
    return RunInfo(name, path, True, model=str(cfg.get("model", run.get("model", "?"))),
                   preset=str(cfg.get("preset", "")), kind=run.get("kind", "transformer"),
                   accuracy=met.get("overall", {}).get("accuracy"), created=run.get("created", ""),
                   n_test=met.get("overall", {}).get("n", 0))


def list_runs(models_dir: Path | None = None) -> list[RunInfo]:
    """Every run-like folder under ``models_dir``: complete ones newest first, then unusable ones."""
    root = Path(models_dir or default_models_dir())
    if not root.is_dir():
        return []
    infos = [inspect_run(p) for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    good = sorted((i for i in infos if i.ok), key=lambda i: i.created, reverse=True)
    bad = sorted((i for i in infos if not i.ok), key=lambda i: i.name)
    return good + bad


@dataclass
class Run:
    """A complete run loaded for reading. Optional artifacts are ``None`` when absent."""
    info: RunInfo
    run: dict
    metrics: dict
    predictions: pd.DataFrame
    model_card: str
    explanations: pd.DataFrame | None = None
    tags: pd.DataFrame | None = None
    behavior: dict | None = None
    tag_stats: dict | None = None

    @property
    def path(self) -> Path:
        return self.info.path


def _optional_parquet(path: Path) -> pd.DataFrame | None:
    try:
        return pd.read_parquet(path) if path.is_file() else None
    except Exception:
        return None


def _optional_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    except (OSError, json.JSONDecodeError):
        return None


def load_run(path: Path | str) -> Run:
    """Read a complete run. Raises :class:`RunError` with the reason when it is not usable."""
    info = inspect_run(Path(path))
    if not info.ok:
        raise RunError(f"run {info.name!r} is {info.reason}")
    p = info.path
    try:
        preds = pd.read_parquet(p / "predictions.parquet")
    except Exception as exc:
        raise RunError(f"run {info.name!r}: cannot read predictions.parquet ({type(exc).__name__})") from None
    missing = [c for c in PREDICTION_COLUMNS if c not in preds.columns]
    if missing:
        raise RunError(f"run {info.name!r}: predictions.parquet lacks {missing}")
    return Run(info, json.loads((p / "run.json").read_text(encoding="utf-8")),
               json.loads((p / "metrics.json").read_text(encoding="utf-8")), preds,
               (p / "README.md").read_text(encoding="utf-8"),
               _optional_parquet(p / "explanations.parquet"), _optional_parquet(p / "tags.parquet"),
               _optional_json(p / "behavior.json"), _optional_json(p / "tags.json"))


def load_classifier(path: Path | str):
    """The run's predictor (``predict_proba(texts) -> P(positive)``), calibrated as the run reports."""
    p = Path(path)
    run = json.loads((p / "run.json").read_text(encoding="utf-8"))
    temperature = run.get("calibration", {}).get("temperature", 1.0)
    if (p / "baseline" / "model.skops").is_file():
        from .baseline import BaselineClassifier

        return BaselineClassifier.load(p / "baseline" / "model.skops")
    if not (p / "model").is_dir():
        raise RunError(f"run {p.name!r} has no model/ folder to predict with")
    from . import model as M
    from .config import config_from_dict

    cfg = config_from_dict(run["config"])
    tok = M.load_tokenizer(str(p / "model"))
    mdl = M.load_model(str(p / "model"))
    return M.TFClassifier(mdl, tok, cfg.max_length, cfg.truncation, cfg.head_len, temperature,
                          cfg.eval_batch_size, int8_path=p / "model" / M.INT8_FILE)
