"""One documented configuration for a pipeline run, plus named presets.

Every field can be set from a preset, then a YAML/TOML file (``--config``), then CLI flags
(``--set field=value`` or the dedicated flags), in that order: later wins.
"""
from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

TRUNCATION_MODES = ("head", "tail", "head+tail")


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
    notes: free text stored with the run.
    """

    preset: str = "demo"
    name: str | None = None
    data: str | None = None
    train_size: int | None = 2000
    test_size: int | None = 1000
    val_fraction: float = 0.1
    model: str = "minilm"
    max_length: int = 256
    truncation: str = "head+tail"
    head_tokens: int | None = None
    epochs: int = 1
    batch_size: int = 16
    eval_batch_size: int = 64
    learning_rate: float = 5e-5
    optimizer: str = "adamw"
    schedule: str = "linear"
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    seed: int = 42
    bucket_boundaries: list[int] = field(default_factory=lambda: [64, 128, 192, 256, 320, 384, 448])
    checkpoint_every: int = 200
    calibrate: bool = True
    models_dir: str = "models"
    notes: str | None = None  # free text kept in run.json and the model card (e.g. how a run was finished)

    def validate(self) -> "RunConfig":
        """Raise ``ValueError`` with a readable message for impossible settings."""
        if self.truncation not in TRUNCATION_MODES:
            raise ValueError(f"truncation must be one of {TRUNCATION_MODES}, got {self.truncation!r}")
        if not 8 <= self.max_length <= 512:
            raise ValueError(f"max_length must be between 8 and 512 (BERT's window), got {self.max_length}")
        if not 0.0 < self.val_fraction < 0.5:
            raise ValueError(f"val_fraction must be in (0, 0.5), got {self.val_fraction}")
        if self.epochs < 1 or self.batch_size < 1 or self.eval_batch_size < 1:
            raise ValueError("epochs, batch_size and eval_batch_size must be positive")
        if self.schedule not in ("constant", "linear"):
            raise ValueError(f"schedule must be 'constant' or 'linear', got {self.schedule!r}")
        if self.optimizer not in ("adam", "adamw"):
            raise ValueError(f"optimizer must be 'adam' or 'adamw', got {self.optimizer!r}")
        if self.head_tokens is not None and not 0 <= self.head_tokens <= self.max_length - 2:
            raise ValueError("head_tokens must fit inside max_length - 2")
        return self

    @property
    def head_len(self) -> int:
        """Tokens kept from the start under ``head+tail`` (the rest of the window is the tail)."""
        inner = self.max_length - 2
        return self.head_tokens if self.head_tokens is not None else inner // 4

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# How a transformer run's classifier can score texts: the float32 TF model, or its int8 TFLite copy
# (pipeline.model.quantize_int8), which SHAP uses for its many masked texts.
PRECISIONS = ("float32", "int8")

PRESETS: dict[str, dict[str, Any]] = {
    # Packaged MiniLM, ~2,000 reviews, 1 epoch: a real dashboard within minutes on a laptop.
    "demo": {},
    # The original project's recipe, exactly: bert-base-uncased, 128 tokens (plain head truncation),
    # Adam lr 5e-5 without schedule, batch 8, 3 epochs.
    "seed": dict(model="bert-base-uncased", train_size=None, test_size=None, max_length=128,
                 truncation="head", epochs=3, batch_size=8, learning_rate=5e-5, optimizer="adam",
                 schedule="constant", warmup_ratio=0.0, weight_decay=0.0, checkpoint_every=1000),
    # Sun et al. 2019 style: 512 tokens head+tail, lr 2e-5, batch 32, warm-up + linear decay.
    "best": dict(model="bert-base-uncased", train_size=None, test_size=None, max_length=512,
                 truncation="head+tail", head_tokens=128, epochs=3, batch_size=32, learning_rate=2e-5,
                 optimizer="adamw", schedule="linear", warmup_ratio=0.1, checkpoint_every=300),
    # The offline MiniLM on the full training set, sized for a 2-core CPU (≈ 1.8 h idle, 92.8 % test; see README results).
    "minilm-full": dict(model="minilm", train_size=None, test_size=None, max_length=256,
                        truncation="head+tail", head_tokens=64, epochs=2, batch_size=32,
                        learning_rate=8e-5, optimizer="adamw", schedule="linear", warmup_ratio=0.06,
                        checkpoint_every=300),
}


def _coerce(name: str, raw: Any) -> Any:
    """Turn a CLI string (or file value) into the type of field ``name``."""
    f = {f.name: f for f in fields(RunConfig)}.get(name)
    if f is None:
        known = ", ".join(sorted(x.name for x in fields(RunConfig)))
        raise ValueError(f"unknown config field {name!r}; known fields: {known}")
    if not isinstance(raw, str):
        return raw
    if raw.lower() in ("none", "null"):
        return None
    typ = str(f.type)
    if "bool" in typ:
        return raw.lower() in ("1", "true", "yes", "on")
    if "list" in typ:
        return [int(x) for x in raw.split(",") if x.strip()]
    if "int" in typ:
        return int(raw)
    if "float" in typ:
        return float(raw)
    return raw


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a YAML or TOML file of config fields (a flat mapping)."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"config file not found: {p}")
    text = p.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text) if p.suffix == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"cannot parse config file {p}: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"config file {p} must hold a mapping of field: value")
    return data


def resolve_config(preset: str = "demo", config_file: str | None = None,
                   overrides: dict[str, Any] | None = None) -> RunConfig:
    """Preset, then file, then overrides (``None`` values in overrides are ignored)."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose from {', '.join(PRESETS)}")
    values: dict[str, Any] = {"preset": preset, **PRESETS[preset]}
    if config_file:
        values.update(load_config_file(config_file))
    for k, v in (overrides or {}).items():
        if v is not None:
            values[k] = v
    values = {k: _coerce(k, v) for k, v in values.items()}
    return RunConfig(**values).validate()


def config_from_dict(d: dict[str, Any]) -> RunConfig:
    """Rebuild a config stored in ``run.json`` (unknown keys from newer versions are dropped)."""
    known = {f.name for f in fields(RunConfig)}
    return RunConfig(**{k: v for k, v in d.items() if k in known})
