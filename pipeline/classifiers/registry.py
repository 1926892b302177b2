"""Run kinds: how to recognise a run folder's model and build its :class:`~pipeline.classifiers.base.Classifier`.

Each kind names the file that marks it, the capabilities its classifier has (known without loading it, so
the dashboard can offer the right attribution methods before any model is in memory) and a loader. Loaders
import their framework lazily: building a baseline never imports TensorFlow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import RunError
from ..runs import check_tree, read_run_json
from .base import GRADIENTS, INT8, TOKENIZER, Classifier


@dataclass(frozen=True)
class RunKind:
    name: str
    marker: str  # path inside the run folder whose presence identifies the kind
    capabilities: frozenset[str]
    load: Callable[[Path, dict], Classifier]  # (run folder, run.json) -> classifier


RUN_KINDS: dict[str, RunKind] = {}


def register_run_kind(kind: RunKind) -> RunKind:
    RUN_KINDS[kind.name] = kind
    return kind


def _load_baseline(path: Path, run: dict) -> Classifier:
    from .baseline import MODEL_FILE, BaselineClassifier

    return BaselineClassifier.load(check_tree(path, MODEL_FILE))


def _load_transformer(path: Path, run: dict) -> Classifier:
    from ..config import config_from_dict
    from .transformer.classifier import TFClassifier

    cfg = config_from_dict(run["config"])
    temperature = run.get("calibration", {}).get("temperature", 1.0)
    model_dir = check_tree(path, "model")  # nothing the framework reads may point outside the run
    return TFClassifier.from_folder(model_dir, cfg.truncation_spec, temperature, cfg.eval_batch_size)


register_run_kind(RunKind("baseline", "baseline/model.skops", frozenset(), _load_baseline))
register_run_kind(RunKind("transformer", "model", frozenset({TOKENIZER, GRADIENTS, INT8}), _load_transformer))


def run_kind(path: Path | str) -> RunKind:
    """The kind of the run at ``path`` (the first whose marker exists)."""
    p = Path(path)
    for kind in RUN_KINDS.values():
        if (p / kind.marker).exists():
            return kind
    raise RunError(
        f"run {p.name!r} has no model to predict with (none of {', '.join(k.marker for k in RUN_KINDS.values())})"
    )


def load_classifier(path: Path | str) -> Classifier:
    """The run's classifier, calibrated as the run reports."""
    p = Path(path)
    return run_kind(p).load(p, read_run_json(p))
