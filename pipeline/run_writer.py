"""Writing a run: staged in ``<models>/<name>.partial/`` and published by a rename when every file is there."""

from __future__ import annotations

import os
import shutil
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from .atomic import atomic_write_json, atomic_write_parquet, atomic_write_text, run_lock
from .errors import RunError
from .runs import COMPLETE, PARTIAL_SUFFIX, PREDICTION_COLUMNS, PREDICTIONS, REQUIRED_FILES


def check_name_free(models_dir: Path, name: str, resume: bool = False) -> tuple[Path, Path]:
    """``(final, staging)`` folders for run ``name``; raises :class:`RunError` when the name is taken (or an
    interrupted run of that name exists and ``resume`` is off). Creates nothing: commands call it before
    loading data, so a bad ``--data`` never leaves a ``.partial`` folder behind."""
    final, staging = Path(models_dir) / name, Path(models_dir) / (name + PARTIAL_SUFFIX)
    if final.exists():
        raise RunError(f"run {name!r} already exists in {models_dir}; pick another --name")
    if staging.exists() and not resume:
        raise RunError(
            f"an interrupted run {name!r} exists ({staging}); continue it with --resume or delete that folder"
        )
    return final, staging


class RunWriter:
    """Stage a run in ``<models>/<name>.partial/`` and publish it with :meth:`finish`."""

    def __init__(self, models_dir: Path, name: str, resume: bool = False):
        self.models_dir = Path(models_dir)
        self.name = name
        self.final, self.staging = check_name_free(self.models_dir, name, resume)
        self.staging.mkdir(parents=True, exist_ok=True)
        # held until finish() (or until this process dies): a second `run --resume` of the same name is refused
        self._lock = ExitStack()
        self._lock.enter_context(run_lock(self.staging, "training"))

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
        atomic_write_parquet(self.path(PREDICTIONS), df)

    def finish(self) -> Path:
        """Check every required file, drop training checkpoints, mark complete and publish."""
        missing = [f for f in REQUIRED_FILES if not self.path(f).is_file()]
        if missing:
            raise RunError(f"run {self.name!r} is missing {missing}; not published")
        shutil.rmtree(self.path("checkpoints"), ignore_errors=True)
        atomic_write_text(self.path(COMPLETE), datetime.now(UTC).isoformat() + "\n")
        self._lock.close()
        os.replace(self.staging, self.final)
        return self.final
