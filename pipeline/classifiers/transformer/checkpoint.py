"""Load a TF sequence classifier from a hub name or folder (safetensors-only included), or build a tiny one."""

from __future__ import annotations

from pathlib import Path

import tensorflow as tf

from ...errors import ModelError
from ..base import LABELS
from ..sources import resolve_source


def load_model(source: str, num_labels: int = 2):
    """A TF sequence classifier from a hub name or folder, with our label names in its config.

    Safetensors-only checkpoints (no ``tf_model.h5``) are loaded without torch: the TF model is built from
    its config and the numpy weights are mapped in (transformers cannot do this itself, issue #40028).
    A folder holding a plain ``BertModel`` gets a freshly initialised classification head.
    """
    from transformers import AutoConfig, TFAutoModelForSequenceClassification
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    src = resolve_source(source)
    # trust_remote_code=False: never run code shipped with a checkpoint (`auto_map`), never prompt for it
    kw = dict(
        num_labels=num_labels, id2label=LABELS, label2id={v: k for k, v in LABELS.items()}, trust_remote_code=False
    )
    local = Path(src)
    if local.is_dir() and not (local / "tf_model.h5").exists() and (local / "model.safetensors").exists():
        from safetensors.numpy import load_file
        from transformers.modeling_tf_pytorch_utils import load_pytorch_state_dict_in_tf2_model

        try:
            config = AutoConfig.from_pretrained(src, **kw)
        except Exception as exc:  # noqa: BLE001 — e.g. a config that needs remote code
            raise ModelError(
                f"cannot read the config of {source!r} ({type(exc).__name__}: {str(exc).splitlines()[0][:160]})"
            ) from None
        model = TFAutoModelForSequenceClassification.from_config(config, trust_remote_code=False)
        state = load_file(str(local / "model.safetensors"))
        prefix = model.base_model_prefix + "."
        if not any(k.startswith(prefix) for k in state):  # a bare encoder: add the prefix the head model expects
            state = {prefix + k: v for k, v in state.items()}
        load_pytorch_state_dict_in_tf2_model(model, state, allow_missing_keys=True, skip_logger_warnings=True)
        return model
    try:
        return TFAutoModelForSequenceClassification.from_pretrained(src, **kw)
    except Exception as exc:
        raise ModelError(
            f"cannot load model {source!r} ({type(exc).__name__}: {str(exc).splitlines()[0][:160]}). "
            "Use a local folder, 'minilm' (offline), or a hub name with network access"
        ) from None


def tiny_bert(vocab_size: int, seed: int = 0):
    """A randomly initialised 2-layer BERT for tests and smoke runs (no download)."""
    from transformers import BertConfig, TFBertForSequenceClassification

    tf.keras.utils.set_random_seed(seed)
    config = BertConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        num_labels=2,
        id2label=LABELS,
        label2id={v: k for k, v in LABELS.items()},
    )
    return TFBertForSequenceClassification(config)


def model_facts(model) -> dict:
    cfg = model.config
    return {
        "model_type": cfg.model_type,
        "layers": cfg.num_hidden_layers,
        "hidden": cfg.hidden_size,
        "parameters": int(model.count_params()) if model.built else None,
        "transformers_class": type(model).__name__,
    }
