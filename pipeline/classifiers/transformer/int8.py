"""An int8 TFLite copy of the classifier for many small forwards (SHAP's masked texts).

Measured (benchmarks/results/attributions-2026-11-26.json, MiniLM, 2-core CPU): SHAP at 1,000 evaluations
is 4.0× faster scored in int8 than in float32; the int8 probability is within 0.008 of float32 on average.
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

INT8_FILE = "int8.tflite"
# rows × padded width per call of the int8 scorer. It scores row by row (see Int8Scorer), so this only bounds the
# batch copied per call; the 256 was measured (3.6 ms per row vs 6.1 ms at 2,048) before that change, not since
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
    under its lock.

    Rows are scored one at a time, right-padded to a multiple of ``width_step`` tokens, each width by its own
    interpreter, allocated once and never resized. Resizing one interpreter between batch shapes (what this class
    did before) made its output depend on the shapes it had run before: after (3, 64) → (1, 100) → (3, 64) the same
    (3, 64) batch scored up to 0.076 logit differently on the demo MiniLM, so SHAP's values for a review depended on
    the reviews explained before it (issue #17). Padding does not change a row's logits (padded positions are masked).
    """

    def __init__(self, blob: bytes, threads: int | None = None, width_step: int = 32):
        self._blob, self._threads, self._step = blob, threads or _usable_cpus(), int(width_step)
        self._by_width: dict[int, tuple] = {}

    def _interpreter(self, width: int) -> tuple:
        if width not in self._by_width:
            import warnings

            with warnings.catch_warnings():  # tf.lite.Interpreter warns that it moves to LiteRT; it works in TF 2.21
                warnings.simplefilter("ignore")
                interp = tf.lite.Interpreter(model_content=self._blob, num_threads=self._threads)
            inputs = {d["name"]: d["index"] for d in interp.get_input_details()}
            ids = next(i for n, i in inputs.items() if "input_ids" in n)
            mask = next(i for n, i in inputs.items() if "attention_mask" in n)
            interp.resize_tensor_input(ids, (1, width))
            interp.resize_tensor_input(mask, (1, width))
            interp.allocate_tensors()  # the only allocation this interpreter ever gets
            self._by_width[width] = (interp, ids, mask, interp.get_output_details()[0]["index"])
        return self._by_width[width]

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        width = -(-ids.shape[1] // self._step) * self._step
        interp, ids_i, mask_i, out_i = self._interpreter(width)
        row_ids = np.zeros((1, width), dtype=np.int32)
        row_mask = np.zeros((1, width), dtype=np.int32)
        out = []
        for r in range(ids.shape[0]):
            row_ids[:] = 0
            row_mask[:] = 0
            row_ids[0, : ids.shape[1]] = ids[r]
            row_mask[0, : ids.shape[1]] = mask[r]
            interp.set_tensor(ids_i, row_ids)
            interp.set_tensor(mask_i, row_mask)
            interp.invoke()
            out.append(interp.get_tensor(out_i)[0].astype(np.float32))
        return np.stack(out)
