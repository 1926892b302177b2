"""``python -m pipeline …``: run, train, evaluate, predict, baseline (and explain/tag/behave when present)."""
from __future__ import annotations

import argparse
import logging
import re
import sys
import time
from datetime import datetime
from pathlib import Path

from .config import PRESETS, TRUNCATION_MODES, RunConfig, resolve_config

log = logging.getLogger("pipeline")

# Dedicated flags for the fields people change most; everything else via --set field=value.
FLAG_FIELDS = {"data": str, "model": str, "name": str, "epochs": int, "max_length": int,
               "truncation": str, "batch_size": int, "learning_rate": float, "train_size": str,
               "test_size": str, "seed": int, "models_dir": str}


def _add_config_args(p: argparse.ArgumentParser, with_preset: bool = True) -> None:
    if with_preset:
        p.add_argument("--preset", default="demo", choices=list(PRESETS),
                       help="starting settings: demo (MiniLM, 2k reviews, minutes), seed (original recipe), "
                            "best (bert-base 512 head+tail), minilm-full (full IMDB on CPU)")
    p.add_argument("--config", help="YAML or TOML file of config fields (applied after the preset)")
    for f, typ in FLAG_FIELDS.items():
        kw = {"choices": TRUNCATION_MODES} if f == "truncation" else {}
        p.add_argument("--" + f.replace("_", "-"), dest=f, type=typ, default=None, **kw)
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="override any RunConfig field, e.g. --set warmup_ratio=0.1 (repeatable)")


def _config(args) -> RunConfig:
    overrides = {f: getattr(args, f, None) for f in FLAG_FIELDS}
    for item in args.set:
        if "=" not in item:
            raise ValueError(f"--set expects FIELD=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        overrides[k.strip()] = v.strip()
    return resolve_config(getattr(args, "preset", "demo") or "demo", args.config, overrides)


def _run_name(cfg: RunConfig, prefix: str | None = None) -> str:
    if cfg.name:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,100}", cfg.name) or cfg.name.endswith(".partial"):
            raise ValueError(f"run name {cfg.name!r}: use letters, digits, '.', '_' or '-'")
        return cfg.name
    short = Path(cfg.model).name.replace("/", "-") if cfg.model else "model"
    return f"{prefix or cfg.preset}-{short}-{datetime.now():%Y%m%d-%H%M%S}"


def _splits(cfg: RunConfig):
    from .data import load_splits

    t0 = time.perf_counter()
    s = load_splits(cfg.data, cfg.train_size, cfg.test_size, cfg.val_fraction, cfg.seed)
    log.info("data from %s: train %d, validation %d, test %d (%.1f s)", s.source, len(s.train), len(s.val),
             len(s.test), time.perf_counter() - t0)
    return s


def cmd_run(args) -> int:
    from .evaluate import evaluate_transformer
    from .runs import RunWriter
    from .train import fine_tune

    cfg = _config(args)
    name = _run_name(cfg)
    cfg.name = name
    writer = RunWriter(Path(cfg.models_dir), name, resume=args.resume)
    log.info("run %s → %s", name, writer.final)
    t0 = time.perf_counter()
    splits = _splits(cfg)
    timings = {"load_data": {"seconds": round(time.perf_counter() - t0, 2)}}
    try:
        clf, info = fine_tune(cfg, splits, writer.staging, resume=args.resume)
    except KeyboardInterrupt:
        print(f"\ninterrupted; continue with: python -m pipeline run --resume --name {name} "
              f"--preset {cfg.preset} (plus the same options)", file=sys.stderr)
        return 130
    timings.update({k: info.pop(k) for k in ("tokenize", "train")})
    clf.save(writer.path("model"))
    print(evaluate_transformer(clf, splits, cfg, writer, kind="fine-tuned", timings=timings, extra=info,
                               calibrate=cfg.calibrate))
    return 0


def cmd_train(args) -> int:
    """Fine-tune only: writes a model folder (no test scoring) that ``evaluate --model`` accepts."""
    import json

    from .train import fine_tune

    cfg = _config(args)
    name = _run_name(cfg)
    cfg.name = name
    out = Path(args.output or Path(cfg.models_dir) / f"{name}.model")
    out.mkdir(parents=True, exist_ok=True)
    splits = _splits(cfg)
    clf, info = fine_tune(cfg, splits, out, resume=args.resume)
    clf.save(out)
    (out / "training.json").write_text(json.dumps({"config": cfg.to_dict(), **info}, indent=2, default=str))
    print(out)
    return 0


def cmd_quantize(args) -> int:
    """Write ``model/int8.tflite`` (the copy SHAP scores with) into a run written before runs carried it,
    and report how far it is from float32 on up to 64 of the run's test reviews."""
    import numpy as np

    from .runs import load_classifier, load_run, resolve_run_dir

    run_dir = resolve_run_dir(args.run, args.models_dir)
    clf = load_classifier(run_dir)
    if not hasattr(clf, "save_int8"):
        raise ValueError(f"run {run_dir.name!r} is not a transformer run; nothing to quantize")
    t0 = time.perf_counter()
    path = clf.save_int8(run_dir / "model")
    texts = load_run(run_dir).predictions["text"].head(64).tolist()
    diff = np.abs(clf.predict_proba(texts, precision="int8") - clf.predict_proba(texts))
    print(f"{path} ({time.perf_counter() - t0:.0f} s); int8 vs float32 on "
          f"{len(texts)} test reviews: mean |Δp| {diff.mean():.4f}, max {diff.max():.4f}")
    return 0


def cmd_evaluate(args) -> int:
    """Score an existing model (hub name or folder) without training; writes a run folder."""
    import json

    from . import model as M
    from .evaluate import evaluate_transformer
    from .runs import RunWriter

    cfg = _config(args)
    mdir = Path(cfg.model)
    if (mdir / "training.json").is_file():  # a folder from `train`: reuse its input settings
        stored = json.loads((mdir / "training.json").read_text())["config"]
        for k in ("max_length", "truncation", "head_tokens"):
            if getattr(args, k, None) is None:
                setattr(cfg, k, stored[k])
    cfg.preset = "evaluate"
    name = _run_name(cfg, prefix="eval")
    cfg.name = name
    writer = RunWriter(Path(cfg.models_dir), name)
    t0 = time.perf_counter()
    splits = _splits(cfg)
    clf = M.TFClassifier(M.load_model(cfg.model), M.load_tokenizer(cfg.model), cfg.max_length, cfg.truncation,
                         cfg.head_len, 1.0, cfg.eval_batch_size)
    timings = {"load": {"seconds": round(time.perf_counter() - t0, 2)}}
    clf.save(writer.path("model"))
    print(evaluate_transformer(clf, splits, cfg, writer, kind="evaluated", timings=timings,
                               extra={"model_facts": M.model_facts(clf.model)}, calibrate=cfg.calibrate))
    return 0


def cmd_predict(args) -> int:
    from tqdm.auto import tqdm

    from .data import read_reviews_file
    from .runs import atomic_write_parquet, load_classifier, resolve_run_dir

    run_dir = resolve_run_dir(args.run, args.models_dir)
    if not (run_dir / "COMPLETE").is_file():
        raise ValueError(f"no complete run at {run_dir}")
    df = read_reviews_file(args.input)
    clf = load_classifier(run_dir)
    texts = df["text"].tolist()
    probs = []
    t0 = time.perf_counter()
    with tqdm(total=len(texts), desc="scoring", unit="review") as bar:
        for i in range(0, len(texts), args.batch):
            probs.extend(clf.predict_proba(texts[i:i + args.batch]).tolist())
            bar.update(min(args.batch, len(texts) - i))
    import numpy as np

    df["prob_pos"] = np.asarray(probs, dtype="float32")
    df["pred"] = (df["prob_pos"] >= 0.5).astype("int8")
    df["pred_label"] = df["pred"].map({0: "negative", 1: "positive"})
    out = Path(args.output)
    if out.suffix == ".csv":
        out.write_text(df.to_csv(index=False), encoding="utf-8")
    else:
        atomic_write_parquet(out, df)
    log.info("scored %d reviews in %.1f s → %s", len(df), time.perf_counter() - t0, out)
    print(out)
    return 0


def cmd_baseline(args) -> int:
    from .baseline import run_baseline
    from .runs import RunWriter

    for f in ("train_size", "test_size"):  # the baseline is cheap: full splits unless asked otherwise
        if getattr(args, f) is None:
            setattr(args, f, "none")
    cfg = _config(args)
    cfg.model = "tfidf-logreg"
    cfg.preset = "baseline"
    name = _run_name(cfg, prefix="baseline")
    cfg.name = name
    writer = RunWriter(Path(cfg.models_dir), name)
    print(run_baseline(_splits(cfg), cfg, writer))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m pipeline",
                                description="Fine-tune BERT on IMDB, cache predictions, write run folders "
                                            "for the dashboard (streamlit run dashboard/Home.py).")
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="train + evaluate + write models/<run>/")
    _add_config_args(r)
    r.add_argument("--resume", action="store_true", help="continue an interrupted run (give its --name)")
    r.set_defaults(func=cmd_run)

    t = sub.add_parser("train", help="fine-tune only; writes a model folder for `evaluate`")
    _add_config_args(t)
    t.add_argument("--output", help="model folder (default models/<name>.model)")
    t.add_argument("--resume", action="store_true")
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("evaluate", help="score an existing model (hub name or folder), no training")
    _add_config_args(e, with_preset=False)
    e.set_defaults(func=cmd_evaluate)

    pr = sub.add_parser("predict", help="score a CSV/Parquet/JSONL/TXT file of reviews with a run's model")
    pr.add_argument("--run", required=True, help="run folder or run name under models/")
    pr.add_argument("--input", required=True)
    pr.add_argument("--output", required=True, help=".parquet or .csv")
    pr.add_argument("--batch", type=int, default=256)
    pr.add_argument("--models-dir", dest="models_dir")
    pr.set_defaults(func=cmd_predict)

    q = sub.add_parser("quantize", help="add the int8 copy SHAP uses to a run written before runs carried it")
    q.add_argument("--run", required=True, help="run folder or run name under models/")
    q.add_argument("--models-dir", dest="models_dir")
    q.set_defaults(func=cmd_quantize)

    b = sub.add_parser("baseline", help="TF-IDF 1-2 grams + logistic regression run folder")
    _add_config_args(b, with_preset=False)
    b.set_defaults(func=cmd_baseline)

    for extra in ("explain", "tags", "behavior"):
        try:
            mod = __import__(f"pipeline.{extra}", fromlist=["add_cli"])
        except ImportError:
            continue
        if hasattr(mod, "add_cli"):
            mod.add_cli(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S")
    from .data import DataError
    from .model import ModelError
    from .runs import RunError

    try:
        return args.func(args)
    except (DataError, ModelError, RunError, ValueError, FileNotFoundError) as exc:
        if args.verbose:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2
