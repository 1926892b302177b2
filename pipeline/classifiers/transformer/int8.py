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

    Rows are right-padded to a multiple of ``width_step`` tokens and scored in calls of a fixed shape per width,
    ``(rows_per_call, width)`` with ``rows_per_call = max(1, batch_tokens // width)``, each shape by its own
    interpreter, allocated once and never resized; a short last call is filled up with copies of its first row.
    Resizing one interpreter between batch shapes (what this class did before issue #17) made its output depend on
    the shapes it had run before: after (3, 64) → (1, 100) → (3, 64) the same (3, 64) batch scored up to 0.076 logit
    differently on the demo MiniLM. With shapes fixed, a row's logits do not depend on its batch-mates (the dynamic
    int8 quantisation of this model's fully-connected layers is per row; tested, 0.0 difference), and padding does not
    change them (padded positions are masked). ``batch_tokens=0`` scores one row per call.
    """

    def __init__(
        self, blob: bytes, threads: int | None = None, width_step: int = 32, batch_tokens: int = INT8_BATCH_TOKENS
    ):
        self._blob, self._threads, self._step = blob, threads or _usable_cpus(), int(width_step)
        self._batch_tokens = int(batch_tokens)
        self._by_shape: dict[tuple[int, int], tuple] = {}

    def rows_per_call(self, width: int) -> int:
        return max(1, self._batch_tokens // width)

    def _interpreter(self, rows: int, width: int) -> tuple:
        if (rows, width) not in self._by_shape:
            import warnings

            with warnings.catch_warnings():  # tf.lite.Interpreter warns that it moves to LiteRT; it works in TF 2.21
                warnings.simplefilter("ignore")
                interp = tf.lite.Interpreter(model_content=self._blob, num_threads=self._threads)
            inputs = {d["name"]: d["index"] for d in interp.get_input_details()}
            ids = next(i for n, i in inputs.items() if "input_ids" in n)
            mask = next(i for n, i in inputs.items() if "attention_mask" in n)
            interp.resize_tensor_input(ids, (rows, width))
            interp.resize_tensor_input(mask, (rows, width))
            interp.allocate_tensors()  # the only allocation this interpreter ever gets
            self._by_shape[(rows, width)] = (interp, ids, mask, interp.get_output_details()[0]["index"])
        return self._by_shape[(rows, width)]

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        width = -(-ids.shape[1] // self._step) * self._step
        rows = self.rows_per_call(width)
        interp, ids_i, mask_i, out_i = self._interpreter(rows, width)
        call_ids = np.zeros((rows, width), dtype=np.int32)
        call_mask = np.zeros((rows, width), dtype=np.int32)
        out = []
        for start in range(0, ids.shape[0], rows):
            part = slice(start, min(start + rows, ids.shape[0]))
            n = part.stop - part.start
            call_ids[:n, : ids.shape[1]] = ids[part]
            call_mask[:n, : ids.shape[1]] = mask[part]
            call_ids[n:], call_mask[n:] = call_ids[0], call_mask[0]  # filler rows: a copy, never an empty row
            interp.set_tensor(ids_i, call_ids)
            interp.set_tensor(mask_i, call_mask)
            interp.invoke()
            out.append(interp.get_tensor(out_i)[:n].astype(np.float32))
        return np.concatenate(out)
