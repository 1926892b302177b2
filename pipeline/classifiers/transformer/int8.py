"""An int8 TFLite copy of the classifier for many small forwards (SHAP's masked texts).

Measured (benchmarks/results/attributions-2026-11-26.json, MiniLM, 2-core CPU): SHAP at 1,000 evaluations
is 4.0× faster scored in int8 than in float32; the int8 probability is within 0.008 of float32 on average.
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

INT8_FILE = "int8.tflite"
# rows × padded width per int8 forward. Measured on SHAP's masked reviews: 256 → 3.6 ms per row,
# 2,048 → 6.1 ms (XNNPACK is fastest while a batch's activations stay in the core's cache)
INT8_BATCH_TOKENS = 256


def quantize_int8(model) -> bytes:
    """The forward pass ``(input_ids, attention_mask) -> logits`` as a TFLite model with int8 weights and
    dynamically quantized activations (``tf.lite.Optimize.DEFAULT``). ~20 s for MiniLM on 2 cores."""
    spec = tf.TensorSpec([None, None], tf.int32)

    @tf.function(input_signature=[spec, spec])
    def forward(input_ids, attention_mask):
        return model(input_ids=input_ids, attention_mask=attention_mask, training=False).logits

    converter = tf.lite.TFLiteConverter.from_concrete_functions([forward.get_concrete_function()], model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    return converter.convert()


def _usable_cpus() -> int:
    # the CPUs this process may run on (containers often allow fewer than cpu_count); macOS has no affinity call
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class Int8Scorer:
    """``scorer(ids, mask) -> logits`` on a TFLite model. Not thread-safe: :class:`TFClassifier` calls it
    under its lock. Inputs are resized only when the batch shape changes."""

    def __init__(self, blob: bytes, threads: int | None = None):
        import warnings

        with warnings.catch_warnings():  # tf.lite.Interpreter warns that it moves to LiteRT; it works in TF 2.21
            warnings.simplefilter("ignore")
            self._interp = tf.lite.Interpreter(model_content=blob, num_threads=threads or _usable_cpus())
        inputs = {d["name"]: d["index"] for d in self._interp.get_input_details()}
        self._ids = next(i for n, i in inputs.items() if "input_ids" in n)
        self._mask = next(i for n, i in inputs.items() if "attention_mask" in n)
        self._out = self._interp.get_output_details()[0]["index"]
        self._shape: tuple | None = None

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if ids.shape != self._shape:
            self._interp.resize_tensor_input(self._ids, ids.shape)
            self._interp.resize_tensor_input(self._mask, ids.shape)
            self._interp.allocate_tensors()
            self._shape = ids.shape
        self._interp.set_tensor(self._ids, ids.astype(np.int32))
        self._interp.set_tensor(self._mask, mask.astype(np.int32))
        self._interp.invoke()
        return self._interp.get_tensor(self._out).astype(np.float32)
