"""Fine-tune with Keras ``fit``: bucketed input, warm-up + linear decay, best epoch by validation, resumable."""

from __future__ import annotations

import logging
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import tensorflow as tf

from ...config import RunConfig
from ...data import Splits
from ...tokens import encode
from ..sources import MINILM_ALIAS, TINY_ALIAS, load_tokenizer
from .batching import train_dataset
from .checkpoint import load_model, model_facts, tiny_bert
from .classifier import TFClassifier
from .distribution import MIRRORED, MULTI_WORKER, worker_role

log = logging.getLogger(__name__)


def make_optimizer(name: str, lr: float, total_steps: int, warmup_ratio: float, schedule: str, weight_decay: float):
    """Adam (the original recipe) or AdamW with warm-up + linear decay (transformers' ``create_optimizer``)."""
    if name == "adam" and schedule == "constant" and warmup_ratio == 0:
        return tf.keras.optimizers.Adam(learning_rate=lr)
    from transformers import create_optimizer

    warmup = int(total_steps * warmup_ratio)
    opt, _ = create_optimizer(
        init_lr=lr,
        num_train_steps=total_steps if schedule == "linear" else 10**9,
        num_warmup_steps=warmup,
        weight_decay_rate=weight_decay if name == "adamw" else 0.0,
    )
    return opt


def compile_model(model, optimizer) -> None:
    model.compile(
        optimizer=optimizer,
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[tf.keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )


def setup_devices() -> dict:
    """Pick a distribution strategy (:func:`~.distribution.worker_role`): ``TF_CONFIG`` naming several
    machines → MultiWorkerMirrored; several GPUs → Mirrored; one → default, with mixed precision on a GPU."""
    gpus = tf.config.list_physical_devices("GPU")
    for g in gpus:
        try:
            tf.config.experimental.set_memory_growth(g, True)
        except RuntimeError:
            pass
    if gpus:
        tf.keras.mixed_precision.set_global_policy("mixed_float16")
    role = worker_role(len(gpus))
    if role.strategy == MULTI_WORKER:  # reads TF_CONFIG itself; must exist before any other TF op
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    elif role.strategy == MIRRORED:
        strategy = tf.distribute.MirroredStrategy()
    else:
        strategy = tf.distribute.get_strategy()
    return {"gpus": len(gpus), "strategy": strategy, "mixed_precision": bool(gpus), "role": role}


def set_seed(seed: int) -> None:
    tf.keras.utils.set_random_seed(seed)


class BatchCounter(tf.keras.callbacks.Callback):
    """Counts the batches trained in this process; with ``log_every`` it also logs a line every that many
    batches (used when stdout is not a terminal, where Keras' own bar is unreadable)."""

    def __init__(self, log_every: int | None, total: int):
        super().__init__()
        self.log_every, self.total, self.batches = log_every, total, 0

    def on_train_begin(self, logs=None):
        self.t0 = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1
        if self.log_every and (batch + 1) % self.log_every == 0:
            logs = logs or {}
            log.info(
                "step %d/%d loss %.4f acc %.4f (%.0f s)",
                batch + 1,
                self.total,
                logs.get("loss", float("nan")),
                logs.get("accuracy", float("nan")),
                time.perf_counter() - self.t0,
            )


def build(cfg: RunConfig):
    """Tokenizer and model for ``cfg.model`` (``tiny-random`` builds a small random BERT)."""
    if cfg.model == TINY_ALIAS:
        tok = load_tokenizer(MINILM_ALIAS)
        return tok, tiny_bert(tok.vocab_size, cfg.seed)
    return load_tokenizer(cfg.model), load_model(cfg.model)


def fine_tune(
    cfg: RunConfig, splits: Splits, workdir: Path, resume: bool = False, extra_callbacks: list | None = None
) -> tuple[TFClassifier, dict]:
    """Train on ``splits.train``, keep the epoch with the best validation accuracy.

    Checkpoints go to ``workdir/checkpoints``; with ``resume`` an interrupted fit continues from the last
    one (Keras ``BackupAndRestore``). Returns the classifier and timing/history facts.
    """
    devices = setup_devices()
    set_seed(cfg.seed)
    with devices["strategy"].scope():
        tok, mdl = build(cfg)
        mdl(mdl.dummy_inputs, training=False)  # build weights now: BackupAndRestore needs a built model
    t0 = time.perf_counter()
    tr = encode(splits.train["text"], tok, cfg.truncation_spec)
    va = encode(splits.val["text"], tok, cfg.truncation_spec)
    t_tok = time.perf_counter() - t0
    y_tr, y_va = splits.train["label"].to_numpy(), splits.val["label"].to_numpy()
    train_ds = train_dataset(tr.ids, y_tr, cfg.batch_size, cfg.bucket_boundaries, cfg.seed)
    val_ds = train_dataset(va.ids, y_va, cfg.eval_batch_size, cfg.bucket_boundaries, cfg.seed)
    steps = int(train_ds.cardinality())  # exact: the dataset declares its batch count
    with devices["strategy"].scope():
        opt = make_optimizer(
            cfg.optimizer, cfg.learning_rate, steps * cfg.epochs, cfg.warmup_ratio, cfg.schedule, cfg.weight_decay
        )
        compile_model(mdl, opt)
    ckpt = Path(workdir) / "checkpoints"
    resumed = bool(resume and (ckpt / "backup").is_dir() and any((ckpt / "backup").rglob("*.index")))
    if not resume and ckpt.exists():
        shutil.rmtree(ckpt)
    best = ckpt / "best" / "weights"
    callbacks = [
        tf.keras.callbacks.BackupAndRestore(
            str(ckpt / "backup"), save_freq=cfg.checkpoint_every or "epoch", delete_checkpoint=False
        ),
        tf.keras.callbacks.ModelCheckpoint(
            str(best), monitor="val_accuracy", mode="max", save_best_only=True, save_weights_only=True
        ),
    ]
    interactive = sys.stdout.isatty()
    seen = BatchCounter(None if interactive else 50, steps)
    callbacks += [seen] + list(extra_callbacks or [])
    t1 = time.perf_counter()
    hist = mdl.fit(
        train_ds, validation_data=val_ds, epochs=cfg.epochs, callbacks=callbacks, verbose=1 if interactive else 2
    )
    t_fit = time.perf_counter() - t1
    if best.with_suffix(".index").exists():
        mdl.load_weights(str(best))
    history = {k: [float(x) for x in v] for k, v in hist.history.items()}
    best_epoch = int(np.argmax(history["val_accuracy"])) + 1 if history.get("val_accuracy") else None
    samples = len(tr.ids) * len(history.get("loss", [1]))
    if resumed:  # count only batches trained in this process (bucket tails are partial: a slight overstatement)
        samples = min(seen.batches * cfg.batch_size, samples)
    info = {
        "tokenize": {"seconds": round(t_tok, 2)},
        "train": {
            "seconds": round(t_fit, 2),
            "samples": int(samples),
            "samples_per_s": round(samples / max(t_fit, 1e-9), 2),
        },
        "history": history,
        "best_epoch": best_epoch,
        "gpu_names": [d.name for d in tf.config.list_physical_devices("GPU")],
        "mixed_precision": devices["mixed_precision"],
        "strategy": devices["role"].strategy,
        "workers": devices["role"].workers,
        "model_facts": model_facts(mdl),
        "train_truncated_share": float(tr.truncated.mean()),
        # a resumed fit's history and train time cover only what ran in this process
        "resumed_from_checkpoint": resumed,
    }
    clf = TFClassifier(mdl, tok, cfg.truncation_spec, 1.0, cfg.eval_batch_size)
    return clf, info
