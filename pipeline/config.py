"""One documented configuration for a pipeline run, plus named presets.

Every field can be set from a preset, then a YAML/TOML file (``--config``), then CLI flags
(``--set field=value`` or the dedicated flags), in that order: later wins. Values are checked in one place,
:meth:`RunConfig.__post_init__`, whatever their origin (a file, a flag, ``run.json`` or
``dataclasses.replace``); a bad one raises :class:`~pipeline.errors.ConfigError` naming the field.
"""

from __future__ import annotations

import dataclasses
import math
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError
from .tokens import TRUNCATION_MODES, Truncation

RUN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,100}")
OPTIMIZERS = ("adam", "adamw")
SCHEDULES = ("constant", "linear")


@dataclass
class RunConfig:
    """Resolved settings of one run. Defaults are the ``demo`` preset's.

    Data
        data: where IMDB comes from — ``"hub"`` (``stanfordnlp/imdb``), a folder with
            ``train.parquet``/``test.parquet``, a raw ``aclImdb/`` folder, or ``"TRAIN_FILE,TEST_FILE"``
            (CSV/Parquet/JSONL). ``None`` means env ``IMDB_DATA``, else the hub.
        train_size: number of training reviews to sample (stratified) before the validation split;
            ``None`` keeps all.
        test_size: number of test reviews to score (stratified sample); ``None`` keeps all 25k.
        val_fraction: share of train carved out, stratified and seeded, for model selection and
            calibration. The test set is never used for any choice.
    Model
        model: hub name or local directory of a BERT-family checkpoint; ``"minilm"`` is the packaged
            offline all-MiniLM-L6-v2.
        max_length: tokens the model sees, special tokens included.
        truncation: ``head`` | ``tail`` | ``head+tail`` (Sun et al. 2019: keep the first
            ``head_tokens`` and fill the rest from the end).
        head_tokens: tokens kept from the start in ``head+tail``; ``None`` means a quarter of the window.
    Training
        epochs, batch_size, learning_rate, warmup_ratio (0 = constant rate), schedule
        (``constant`` | ``linear``), weight_decay, optimizer (``adam`` | ``adamw``), seed.
        bucket_boundaries: token lengths at which batches are split so that padding stays small.
        checkpoint_every: optimizer steps between resumable checkpoints (0 = at each epoch end only).
        calibrate: fit a temperature on the validation split and apply it to every reported probability.
        score_chunk_rows: test reviews scored and written per chunk; an interrupted ``evaluate``/``run`` resumes
            at the first chunk not written (``--resume --name RUN``).
        int8_copy: write ``model/int8.tflite`` (the quantized copy SHAP scores masked texts with) with the run;
            ``false`` skips the conversion (~20 s for MiniLM, ~95 s for bert-base; SHAP then converts on first
            use, or ``python -m pipeline quantize`` adds it later).
    notes: free text stored with the run.
    """

    preset: str = "demo"
    name: str | None = None
    data: str | None = None
    train_size: int | None = 1400
    test_size: int | None = 1000
    val_fraction: float = 0.1
    model: str = "minilm"
    max_length: int = 128
    truncation: str = "head+tail"
    head_tokens: int | None = None
    epochs: int = 1
    batch_size: int = 16
    eval_batch_size: int = 64
    score_chunk_rows: int = 5000
    learning_rate: float = 5e-5
    optimizer: str = "adamw"
    schedule: str = "linear"
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    seed: int = 42
    bucket_boundaries: list[int] = field(default_factory=lambda: [64, 128, 192, 256, 320, 384, 448])
    checkpoint_every: int = 200
    calibrate: bool = True
    int8_copy: bool = True
    models_dir: str = "models"
    notes: str | None = None  # free text kept in run.json and the model card (e.g. how a run was finished)

    def __post_init__(self) -> None:
        for f in fields(self):
            setattr(self, f.name, _check_type(f.name, getattr(self, f.name)))
        self._check_values()

    def _check_values(self) -> None:
        def bad(name: str, message: str):
            raise ConfigError(name, f"{message}, got {getattr(self, name)!r}")

        if self.name is not None and (not RUN_NAME.fullmatch(self.name) or self.name.endswith(".partial")):
            bad("name", "use letters, digits, '.', '_' or '-' (not ending in .partial)")
        for n in ("train_size", "test_size"):
            if getattr(self, n) is not None and getattr(self, n) < 1:
                bad(n, "must be a positive number of reviews or none (all)")
        if not 0.0 < self.val_fraction < 0.5:
            bad("val_fraction", "must be in (0, 0.5)")
        if not self.model:
            bad("model", "must name a checkpoint")
        if not 8 <= self.max_length <= 512:
            bad("max_length", "must be between 8 and 512 (BERT's window)")
        if self.truncation not in TRUNCATION_MODES:
            bad("truncation", f"must be one of {TRUNCATION_MODES}")
        if self.head_tokens is not None and not 0 <= self.head_tokens <= self.max_length - 2:
            bad("head_tokens", f"must fit inside max_length - 2 = {self.max_length - 2}")
        for n in ("epochs", "batch_size", "eval_batch_size", "score_chunk_rows"):
            if getattr(self, n) < 1:
                bad(n, "must be at least 1")
        if not self.learning_rate > 0:
            bad("learning_rate", "must be a positive number")
        if self.optimizer not in OPTIMIZERS:
            bad("optimizer", f"must be one of {OPTIMIZERS}")
        if self.schedule not in SCHEDULES:
            bad("schedule", f"must be one of {SCHEDULES}")
        if not 0.0 <= self.warmup_ratio < 1.0:
            bad("warmup_ratio", "must be in [0, 1)")
        if self.weight_decay < 0:
            bad("weight_decay", "must be ≥ 0")
        if self.seed < 0:
            bad("seed", "must be ≥ 0")
        if (
            not self.bucket_boundaries
            or any(b < 1 for b in self.bucket_boundaries)
            or sorted(set(self.bucket_boundaries)) != self.bucket_boundaries
        ):
            bad("bucket_boundaries", "must be increasing positive token lengths")
        if self.checkpoint_every < 0:
            bad("checkpoint_every", "must be ≥ 0 (0 = at each epoch end only)")

    @property
    def head_len(self) -> int:
        """Tokens kept from the start under ``head+tail`` (the rest of the window is the tail)."""
        inner = self.max_length - 2
        return self.head_tokens if self.head_tokens is not None else inner // 4

    @property
    def truncation_spec(self) -> Truncation:
        """Which word-pieces the model sees (:class:`pipeline.tokens.Truncation`)."""
        return Truncation(self.max_length, self.truncation, self.head_len)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_HINTS = typing.get_type_hints(RunConfig)


def _field_type(name: str) -> tuple[type, bool]:
    """``(base type, optional)`` of a field: ``int | None`` → ``(int, True)``, ``list[int]`` → ``(list, False)``."""
    hint = _HINTS[name]
    args = typing.get_args(hint)
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        base = next(a for a in args if a is not type(None))
        return typing.get_origin(base) or base, True
    return typing.get_origin(hint) or hint, False


def _check_type(name: str, value: Any) -> Any:
    """``value`` as field ``name``'s type; strings (flags, ``--set``, TOML/YAML text) are parsed first."""
    typ, optional = _field_type(name)
    if isinstance(value, str) and optional and value.strip().lower() in ("none", "null"):
        return None
    if isinstance(value, str) and typ is not str:
        value = _parse(name, value, typ, optional)
    if value is None:
        if optional:
            return None
        raise ConfigError(name, "must be set (none is not allowed)")
    if typ is bool:
        if not isinstance(value, bool):
            raise ConfigError(name, f"expected true or false, got {value!r}")
    elif typ is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(name, f"expected a whole number, got {value!r}")
    elif typ is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ConfigError(name, f"expected a finite number, got {value!r}")
        value = float(value)
    elif typ is list:
        if not isinstance(value, (list, tuple)) or any(isinstance(x, bool) or not isinstance(x, int) for x in value):
            raise ConfigError(name, f"expected a list of whole numbers, got {value!r}")
        value = list(value)
    elif typ is str and not isinstance(value, str):
        raise ConfigError(name, f"expected text, got {value!r}")
    return value


def _parse(name: str, raw: str, typ: type, optional: bool) -> Any:
    text = raw.strip()
    if text.lower() == "all" and optional:  # train_size=all
        return None
    try:
        if typ is bool:
            truth = {
                "1": True,
                "true": True,
                "yes": True,
                "on": True,
                "0": False,
                "false": False,
                "no": False,
                "off": False,
            }
            return truth[text.lower()]
        if typ is int:
            return int(text)
        if typ is float:
            return float(text)
        if typ is list:
            return [int(x) for x in text.split(",") if x.strip()]
    except (KeyError, ValueError):
        kind = {bool: "true or false", int: "a whole number", float: "a number", list: "comma-separated whole numbers"}[
            typ
        ]
        raise ConfigError(name, f"expected {kind}, got {raw!r}") from None
    return text


PRESETS: dict[str, dict[str, Any]] = {
    # Packaged MiniLM, 1,400 reviews (1,260 train + 140 validation) at 128 tokens head+tail, 1 epoch: a real
    # dashboard with its analysis in about 10 minutes on 2 CPU cores (2,000 reviews at 256 tokens took 16 min there,
    # 8.7 of them training; a training step costs 2.6 s at 128 tokens and 6.7 s at 256, batch 16).
    "demo": {},
    # The original project's recipe, exactly: bert-base-uncased, 128 tokens (plain head truncation),
    # Adam lr 5e-5 without schedule, batch 8, 3 epochs.
    "seed": dict(
        model="bert-base-uncased",
        train_size=None,
        test_size=None,
        max_length=128,
        truncation="head",
        epochs=3,
        batch_size=8,
        learning_rate=5e-5,
        optimizer="adam",
        schedule="constant",
        warmup_ratio=0.0,
        weight_decay=0.0,
        checkpoint_every=1000,
    ),
    # Sun et al. 2019 style: 512 tokens head+tail, lr 2e-5, batch 32, warm-up + linear decay.
    "best": dict(
        model="bert-base-uncased",
        train_size=None,
        test_size=None,
        max_length=512,
        truncation="head+tail",
        head_tokens=128,
        epochs=3,
        batch_size=32,
        learning_rate=2e-5,
        optimizer="adamw",
        schedule="linear",
        warmup_ratio=0.1,
        checkpoint_every=300,
    ),
    # The offline MiniLM on the full training set, sized for a 2-core CPU (≈ 1.8 h idle, 92.8 % test; see README results).
    "minilm-full": dict(
        model="minilm",
        train_size=None,
        test_size=None,
        max_length=256,
        truncation="head+tail",
        head_tokens=64,
        epochs=2,
        batch_size=32,
        learning_rate=8e-5,
        optimizer="adamw",
        schedule="linear",
        warmup_ratio=0.06,
        checkpoint_every=300,
    ),
}


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a YAML or TOML file of config fields (a flat mapping)."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(None, f"config file not found: {p}")
    text = p.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text) if p.suffix == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(None, f"cannot parse config file {p}: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise ConfigError(None, f"config file {p} must hold a mapping of field: value")
    return data


def _known(values: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(RunConfig)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ConfigError(unknown[0], f"unknown config field; known fields: {', '.join(sorted(names))}")
    return values


def resolve_config(
    preset: str = "demo", config_file: str | None = None, overrides: dict[str, Any] | None = None
) -> RunConfig:
    """Preset, then file, then overrides (``None`` values in overrides are ignored)."""
    if preset not in PRESETS:
        raise ConfigError("preset", f"unknown preset {preset!r}; choose from {', '.join(PRESETS)}")
    values: dict[str, Any] = {"preset": preset, **PRESETS[preset]}
    if config_file:
        values.update(load_config_file(config_file))
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return RunConfig(**_known(values))


def config_from_dict(d: dict[str, Any]) -> RunConfig:
    """Rebuild a config stored in ``run.json`` (unknown keys from newer versions are dropped)."""
    known = {f.name for f in fields(RunConfig)}
    return RunConfig(**{k: v for k, v in d.items() if k in known})
