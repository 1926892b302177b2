"""Fine-tune a transformer with Keras ``fit``: bucketed input, best epoch by validation, resumable."""
from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import numpy as np

from . import model as M
from .config import RunConfig
from .data import Splits

log = logging.getLogger(__name__)
TINY_ALIAS = "tiny-random"  # a 2-layer random BERT on the MiniLM vocab: smoke tests, never for results


def _progress(log_every: int | None, total: int):
    """Keras callback counting the batches trained in this process; with ``log_every`` it also logs a line
    every that many batches (used when stdout is not a terminal)."""
    import tensorflow as tf

    class Progress(tf.keras.callbacks.Callback):
        batches = 0

        def on_train_begin(self, logs=None):
            self.t0 = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            self.batches += 1
            if log_every and (batch + 1) % log_every == 0:
                log.info("step %d/%d loss %.4f acc %.4f (%.0f s)", batch + 1, total,
                         logs.get("loss", float("nan")), logs.get("accuracy", float("nan")),
                         time.perf_counter() - self.t0)

    return Progress()


def build(cfg: RunConfig):
    """Tokenizer and model for ``cfg.model`` (``tiny-random`` builds a small random BERT)."""
    if cfg.model == TINY_ALIAS:
        tok = M.load_tokenizer(M.MINILM_ALIAS)
        return tok, M.tiny_bert(tok.vocab_size, cfg.seed)
    return M.load_tokenizer(cfg.model), M.load_model(cfg.model)


def fine_tune(cfg: RunConfig, splits: Splits, workdir: Path, resume: bool = False,
              extra_callbacks: list | None = None) -> tuple[M.TFClassifier, dict]:
    """Train on ``splits.train``, keep the epoch with the best validation accuracy.

    Checkpoints go to ``workdir/checkpoints``; with ``resume`` an interrupted fit continues from the last
    one (Keras ``BackupAndRestore``). Returns the classifier and timing/history facts.
    """
    import tensorflow as tf

    devices = M.setup_devices()
    M.set_seed(cfg.seed)
    with devices["strategy"].scope():
        tok, mdl = build(cfg)
        mdl(mdl.dummy_inputs, training=False)  # build weights now: BackupAndRestore needs a built model
    t0 = time.perf_counter()
    tr = M.encode(splits.train["text"], tok, cfg.max_length, cfg.truncation, cfg.head_len)
    va = M.encode(splits.val["text"], tok, cfg.max_length, cfg.truncation, cfg.head_len)
    t_tok = time.perf_counter() - t0
    y_tr, y_va = splits.train["label"].to_numpy(), splits.val["label"].to_numpy()
    train_ds = M.train_dataset(tr.ids, y_tr, cfg.batch_size, cfg.bucket_boundaries, cfg.seed)
    val_ds = M.train_dataset(va.ids, y_va, cfg.eval_batch_size, cfg.bucket_boundaries, cfg.seed)
    steps = int(train_ds.cardinality())  # exact: the dataset declares its batch count
    with devices["strategy"].scope():
        opt = M.make_optimizer(cfg.optimizer, cfg.learning_rate, steps * cfg.epochs, cfg.warmup_ratio,
                               cfg.schedule, cfg.weight_decay)
        M.compile_model(mdl, opt)
    ckpt = Path(workdir) / "checkpoints"
    resumed = bool(resume and (ckpt / "backup").is_dir() and any((ckpt / "backup").rglob("*.index")))
    if not resume and ckpt.exists():
        import shutil
        shutil.rmtree(ckpt)
    best = ckpt / "best" / "weights"
    callbacks = [
        tf.keras.callbacks.BackupAndRestore(str(ckpt / "backup"), save_freq=cfg.checkpoint_every or "epoch",
                                            delete_checkpoint=False),
        tf.keras.callbacks.ModelCheckpoint(str(best), monitor="val_accuracy", mode="max",
                                           save_best_only=True, save_weights_only=True),
    ]
    interactive = sys.stdout.isatty()
    seen = _progress(None if interactive else 50, steps)
    callbacks += [seen] + list(extra_callbacks or [])
    t1 = time.perf_counter()
    hist = mdl.fit(train_ds, validation_data=val_ds, epochs=cfg.epochs, callbacks=callbacks,
                   verbose=1 if interactive else 2)
    t_fit = time.perf_counter() - t1
    if best.with_suffix(".index").exists():
        mdl.load_weights(str(best))
    history = {k: [float(x) for x in v] for k, v in hist.history.items()}
    best_epoch = int(np.argmax(history.get("val_accuracy", [0]))) + 1 if history.get("val_accuracy") else None
    samples = len(tr.ids) * len(history.get("loss", [1]))
    if resumed:  # count only batches trained in this process (bucket tails are partial: a slight overstatement)
        samples = min(seen.batches * cfg.batch_size, samples)
    info = {"tokenize": {"seconds": round(t_tok, 2)},
            "train": {"seconds": round(t_fit, 2), "samples": int(samples),
                      "samples_per_s": round(samples / max(t_fit, 1e-9), 2)},
            "history": history, "best_epoch": best_epoch,
            "gpu_names": [d.name for d in tf.config.list_physical_devices("GPU")],
            "mixed_precision": devices["mixed_precision"], "model_facts": M.model_facts(mdl),
            "train_truncated_share": float(tr.truncated.mean()),
            # a resumed fit's history and train time cover only what ran in this process
            "resumed_from_checkpoint": resumed}
    clf = M.TFClassifier(mdl, tok, cfg.max_length, cfg.truncation, cfg.head_len, 1.0, cfg.eval_batch_size)
    return clf, info
