"""Which ``tf.distribute`` strategy training uses, decided from the environment (no TensorFlow imported here,
so the CLI can ask before loading it).

- ``TF_CONFIG`` naming a cluster of two or more tasks → ``MultiWorkerMirroredStrategy``: every machine runs
  the same ``python -m pipeline run …`` with its own ``TF_CONFIG`` (same ``cluster``, its own ``task``);
  the chief (task ``chief``, or ``worker`` 0 when there is no chief) writes the run folder.
- several local GPUs → ``MirroredStrategy``;
- otherwise the default (one device): the single-machine path, unchanged when ``TF_CONFIG`` is unset.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from ...errors import ConfigError

MULTI_WORKER, MIRRORED, DEFAULT = "multi_worker", "mirrored", "default"


@dataclass(frozen=True)
class WorkerRole:
    strategy: str  # MULTI_WORKER, MIRRORED or DEFAULT
    workers: int  # machines training together (1 unless multi-worker)
    is_chief: bool  # writes the run folder; the others only train


def worker_role(n_gpus: int = 0, tf_config: str | None = None) -> WorkerRole:
    """The strategy for ``TF_CONFIG`` (``tf_config``, default the environment variable) and ``n_gpus``.

    A ``TF_CONFIG`` of one task (a common leftover on single machines) trains as if unset. Raises
    ``ConfigError`` for a ``TF_CONFIG`` that is not the JSON TensorFlow expects, naming what is wrong.
    """
    raw = os.environ.get("TF_CONFIG") if tf_config is None else tf_config
    if raw:
        try:
            conf = json.loads(raw)
            cluster, task = conf.get("cluster") or {}, conf.get("task") or {}
            tasks = sum(len(cluster.get(kind, [])) for kind in ("chief", "worker"))
            kind, index = task.get("type"), int(task.get("index", 0))
        except (ValueError, AttributeError, TypeError) as exc:
            raise ConfigError(
                None, f"TF_CONFIG is not valid ({exc}); see README 'Training on several machines'"
            ) from None
        if tasks > 1:
            if kind not in ("chief", "worker") or index >= len(cluster.get(kind, [])):
                raise ConfigError(None, f"TF_CONFIG task {task} is not one of its cluster's chief/worker tasks")
            has_chief = bool(cluster.get("chief"))
            chief = kind == "chief" or (not has_chief and kind == "worker" and index == 0)
            return WorkerRole(MULTI_WORKER, tasks, chief)
    return WorkerRole(MIRRORED if n_gpus > 1 else DEFAULT, 1, True)
