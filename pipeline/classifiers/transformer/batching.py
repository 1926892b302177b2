"""Batches for training (length-bucketed ``tf.data``) and inference (length-sorted, padded per batch)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf


def padded_width(length: int, multiple: int = 8) -> int:
    """``length`` rounded up to ``multiple`` so tf.function retraces rarely."""
    return -(-length // multiple) * multiple


def pad(batch_ids: Sequence[np.ndarray], multiple: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Pad to the longest in the batch; returns ``(input_ids, attention_mask)``."""
    width = padded_width(max(len(x) for x in batch_ids), multiple)
    ids = np.zeros((len(batch_ids), width), dtype=np.int32)
    for j, x in enumerate(batch_ids):
        ids[j, : len(x)] = x
    return ids, (ids != 0).astype(np.int32)


def _bucket_bounds(lengths: np.ndarray, boundaries: list[int]) -> list[int]:
    return [b for b in boundaries if b < int(lengths.max())] or [int(lengths.max())]


def batches_per_epoch(
    ids: list[np.ndarray], batch_size: int, boundaries: list[int], fixed_length: int | None = None
) -> int:
    """Exact number of batches :func:`train_dataset` yields per epoch.

    Bucket membership depends only on lengths, not on the shuffle, so the count is fixed: each bucket
    contributes ``ceil(size / batch_size)`` batches (its last one partial).
    """
    if fixed_length or not len(ids):
        return -(-len(ids) // batch_size)
    lengths = np.asarray([len(x) for x in ids], dtype=np.int64)
    # bucket_by_sequence_length puts length l in bucket i when edge[i-1] <= l < edge[i]
    edges = np.asarray([b + 1 for b in _bucket_bounds(lengths, boundaries)])
    sizes = np.bincount(np.searchsorted(edges, lengths, side="right"))
    return int(sum(-(-int(n) // batch_size) for n in sizes))


def train_dataset(
    ids: list[np.ndarray],
    labels: np.ndarray,
    batch_size: int,
    boundaries: list[int],
    seed: int,
    fixed_length: int | None = None,
) -> tf.data.Dataset:
    """Shuffled, length-bucketed, dynamically padded batches of ``({input_ids, attention_mask}, label)``.

    Reviews of similar length share a batch, so little compute goes to padding. ``fixed_length`` pads
    every batch to that length instead (the naive recipe, kept for benchmarks). The dataset declares its
    exact length (:func:`batches_per_epoch`): Keras needs it to resume a fit in the middle of an epoch.
    """
    lengths = np.asarray([len(x) for x in ids], dtype=np.int64)
    ragged = tf.RaggedTensor.from_row_lengths(np.concatenate(ids).astype(np.int32), lengths)
    ds = tf.data.Dataset.from_tensor_slices((ragged, labels.astype(np.int32)))
    ds = ds.shuffle(len(ids), seed=seed, reshuffle_each_iteration=True)
    if fixed_length:
        ds = ds.batch(batch_size).map(lambda x, y: (x.to_tensor(0, shape=[None, fixed_length]), y))
    else:
        bounds = _bucket_bounds(lengths, boundaries)
        # Not a no-op: slices of a RaggedTensor arrive as ragged elements, which padded_batch rejects;
        # passing them through map turns each into a dense 1-D tensor.
        ds = ds.map(lambda x, y: (x, y))
        ds = ds.bucket_by_sequence_length(
            element_length_func=lambda x, y: tf.shape(x)[0],
            bucket_boundaries=[b + 1 for b in bounds],
            bucket_batch_sizes=[batch_size] * (len(bounds) + 1),
            padded_shapes=([None], []),
            padding_values=(0, 0),
            drop_remainder=False,
        )
    ds = ds.map(lambda x, y: ({"input_ids": x, "attention_mask": tf.cast(x != 0, tf.int32)}, y))
    n_batches = batches_per_epoch(ids, batch_size, boundaries, fixed_length)
    return ds.apply(tf.data.experimental.assert_cardinality(n_batches)).prefetch(tf.data.AUTOTUNE)


def length_sorted_batches(
    ids: list[np.ndarray], batch_size: int, fixed_length: int | None = None, max_tokens: int | None = None
):
    """Yield ``(positions, input_ids, attention_mask)`` for inference, longest first, padded per batch.

    ``max_tokens`` caps rows × padded width: batches of long texts get fewer rows, so a batch whose lengths
    vary a lot (SHAP's masked variants of one review) is split instead of being padded to its longest row.
    """
    if fixed_length:
        for i in range(0, len(ids), batch_size):
            pos = np.arange(i, min(i + batch_size, len(ids)))
            batch = np.zeros((len(pos), fixed_length), dtype=np.int32)
            for j, p in enumerate(pos):
                batch[j, : len(ids[p])] = ids[p]
            yield pos, batch, (batch != 0).astype(np.int32)
        return
    order = np.argsort([-len(x) for x in ids], kind="stable")
    i = 0
    while i < len(order):
        width = padded_width(len(ids[order[i]]))  # the longest row left sets the batch's width
        n = min(batch_size, max(1, max_tokens // width)) if max_tokens else batch_size
        pos = order[i : i + n]
        i += n
        yield (pos, *pad([ids[p] for p in pos]))
