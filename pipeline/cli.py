"""``python -m pipeline …``: run, train, evaluate, predict, baseline, quantize, explain, tag, behave, challenge.

Each command resolves its configuration once (validated in :class:`~pipeline.config.RunConfig`) and never
changes it afterwards; a bad value or input ends with one ``error: …`` line and exit code 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import time
from datetime import datetime
from pathlib import Path

from .config import PRESETS, RunConfig, resolve_config
from .errors import PipelineError
from .tokens import TRUNCATION_MODES

log = logging.getLogger("pipeline")

# Dedicated flags for the fields people change most; everything else via --set field=value.
FLAG_FIELDS = (
    "data",
    "model",
    "name",
    "epochs",
    "max_length",
    "truncation",
    "batch_size",
    "learning_rate",
    "train_size",
    "test_size",
    "seed",
    "models_dir",
)


def _add_config_args(p: argparse.ArgumentParser, with_preset: bool = True) -> None:
    if with_preset:
        p.add_argument(
            "--preset",
            default="demo",
            choices=list(PRESETS),
            help="starting settings: demo (MiniLM, 1,400 reviews at 128 tokens, ~10 minutes with its analysis), "
            "seed (original recipe), best (bert-base 512 head+tail), minilm-full (full IMDB on CPU)",
        )
    p.add_argument("--config", help="YAML or TOML file of config fields (applied after the preset)")
    for f in FLAG_FIELDS:  # strings: RunConfig parses and checks every value, whatever its origin
        kw = {"choices": TRUNCATION_MODES} if f == "truncation" else {}
        p.add_argument("--" + f.replace("_", "-"), dest=f, default=None, **kw)
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override any RunConfig field, e.g. --set warmup_ratio=0.1 (repeatable)",
    )


def _config(args, name_prefix: str | None = None, **fixed) -> RunConfig:
    """Preset → ``--config`` file → flags and ``--set`` → ``fixed`` (what the command itself decides)."""
    overrides = {f: getattr(args, f, None) for f in FLAG_FIELDS}
    for item in args.set:
        if "=" not in item:
            raise PipelineError(f"--set expects FIELD=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        overrides[k.strip()] = v.strip()
    overrides.update(fixed)
    cfg = resolve_config(getattr(args, "preset", None) or "demo", args.config, overrides)
    if cfg.name is None:  # a name from the model and the time; validated like a given one
        prefix = name_prefix or cfg.preset
        short = Path(cfg.model).name.replace("/", "-") if cfg.model else "model"
        cfg = dataclasses.replace(cfg, name=f"{prefix}-{short}-{datetime.now():%Y%m%d-%H%M%S}")
    return cfg


def _splits(cfg: RunConfig):
    from .data import load_splits

    t0 = time.perf_counter()
    s = load_splits(cfg.data, cfg.train_size, cfg.test_size, cfg.val_fraction, cfg.seed)
    log.info(
        "data from %s: train %d, validation %d, test %d (%.1f s)",
        s.source,
        len(s.train),
        len(s.val),
        len(s.test),
        time.perf_counter() - t0,
    )
    return s


def _splits_and_writer(cfg: RunConfig, resume: bool = False):
    """The data, then the run folder: a taken name fails before loading, and bad data leaves no folder behind."""
    from .run_writer import RunWriter, check_name_free

    check_name_free(Path(cfg.models_dir), cfg.name, resume)
    t0 = time.perf_counter()
    splits = _splits(cfg)
    seconds = round(time.perf_counter() - t0, 2)
    return splits, RunWriter(Path(cfg.models_dir), cfg.name, resume=resume), seconds


def _run_dir(args) -> Path:
    from .runs import resolve_run_dir

    return resolve_run_dir(args.run, args.models_dir)


# ---------------------------------------------------------------- train and score


def cmd_run(args) -> int:
    from .classifiers.transformer.distribution import worker_role

    cfg = _config(args)  # checked before TensorFlow is imported: a typo fails in a second, not ten
    if not worker_role().is_chief:  # TF_CONFIG names several machines and this one is not the chief
        return _train_as_worker(cfg)
    splits, writer, seconds = _splits_and_writer(cfg, args.resume)
    timings = {"load_data": {"seconds": seconds}}
    from .classifiers.transformer.train import fine_tune
    from .evaluate import evaluate_transformer

    log.info("run %s → %s", cfg.name, writer.final)
    try:
        clf, info = fine_tune(cfg, splits, writer.staging, resume=args.resume)
    except KeyboardInterrupt:
        print(
            f"\ninterrupted; continue with: python -m pipeline run --resume --name {cfg.name} "
            f"--preset {cfg.preset} (plus the same options)",
            file=sys.stderr,
        )
        return 130
    timings.update({k: info.pop(k) for k in ("tokenize", "train")})
    clf.save(writer.path("model"), int8=cfg.int8_copy)
    try:
        out = evaluate_transformer(
            clf, splits, cfg, writer, kind="fine-tuned", timings=timings, extra=info, calibrate=cfg.calibrate
        )
    except KeyboardInterrupt:
        _interrupted_scoring("run", cfg)
        return 130
    print(out)
    return _after_scoring(writer.final, clf, challenge=not args.no_challenge, analysis=not args.no_analysis)


def _train_as_worker(cfg: RunConfig) -> int:
    """A non-chief machine of a multi-worker run: trains its share in step with the others, in a scratch
    folder; the chief writes, scores and publishes the run."""
    import tempfile

    from .classifiers.transformer.train import fine_tune

    with tempfile.TemporaryDirectory(prefix=f"{cfg.name}-worker-") as scratch:
        fine_tune(cfg, _splits(cfg), Path(scratch))
    print(f"worker done: the chief writes run {cfg.name!r}")
    return 0


def _after_scoring(run_dir: Path, clf, challenge: bool, analysis: bool) -> int:
    """What ``run`` and ``evaluate`` do once the run folder is published: the challenge sets, then the analysis
    (tags, behavioural tests, explanations), their wall times added to run.json's timings. The run is already
    complete: nothing here fails it."""
    timings = {}
    try:
        if challenge:
            timings.update(_challenge_after_run(run_dir, clf))
        if analysis:
            timings.update(_analysis_after_run(run_dir, clf))
    except KeyboardInterrupt:
        print(
            f"\ninterrupted; run {run_dir.name!r} is complete. Compute the missing analysis with the dashboard's "
            "'Compute missing analysis' button, or python -m pipeline challenge / tag / behave / explain --run "
            + run_dir.name,
            file=sys.stderr,
        )
        return 130
    finally:
        _record_timings(run_dir, timings)
    return 0


def _record_timings(run_dir: Path, timings: dict) -> None:
    from .analysis.run_analysis import record_timings

    try:
        record_timings(run_dir, timings)
    except (PipelineError, OSError) as exc:
        log.warning("could not add the analysis timings to run.json: %s", exc)


def _challenge_after_run(run_dir: Path, clf) -> dict:
    """The challenge sets as part of ``run``'s default analysis: where their data is, never failing the run."""
    from .analysis.challenge import default_data_dir, run_challenge, summary_lines

    if not default_data_dir().is_dir():
        log.info("challenge sets skipped: no data at %s (set CHALLENGE_DATA)", default_data_dir())
        return {}
    t0 = time.perf_counter()
    try:
        print("\n".join(summary_lines(run_challenge(run_dir, classifier=clf))))
    except PipelineError as exc:
        log.warning("challenge sets skipped: %s", exc)
        return {}
    return {"challenge": {"seconds": round(time.perf_counter() - t0, 2)}}


def _analysis_after_run(run_dir: Path, clf) -> dict:
    """Tags, behavioural tests and precomputed explanations (:func:`~pipeline.analysis.run_analysis.analyse_run`)
    with the classifier just used; a failing step is reported on stderr and leaves the run valid."""
    from .analysis.run_analysis import analyse_run

    try:
        res = analyse_run(run_dir, classifier=clf)
    except Exception as exc:  # noqa: BLE001 — the run is published and valid whatever the analysis does
        res = None
        failure = f"{type(exc).__name__}: {exc}"
    else:
        failure = "; ".join(f"{step}: {msg}" for step, msg in res.errors.items())
        print("analysis: " + (" · ".join(res.summary_lines()) or "nothing missing"))
    if failure:
        print(
            f"warning: analysis failed ({failure}). Run {run_dir.name!r} is complete and valid; compute what is "
            "missing with the dashboard's 'Compute missing analysis' button, or python -m pipeline "
            f"tag / behave / explain --run {run_dir.name} (add -v for the traceback)",
            file=sys.stderr,
        )
    return res.timings if res is not None else {}


def cmd_train(args) -> int:
    """Fine-tune only: writes a model folder (no test scoring) that ``evaluate --model`` accepts."""
    import json

    from .classifiers.transformer.train import fine_tune

    cfg = _config(args)
    out = Path(args.output or Path(cfg.models_dir) / f"{cfg.name}.model")
    out.mkdir(parents=True, exist_ok=True)
    splits = _splits(cfg)
    clf, info = fine_tune(cfg, splits, out, resume=args.resume)
    clf.save(out, int8=cfg.int8_copy)
    (out / "training.json").write_text(json.dumps({"config": cfg.to_dict(), **info}, indent=2, default=str))
    print(out)
    return 0


def cmd_evaluate(args) -> int:
    """Score an existing model (hub name or folder) without training; writes a run folder."""
    import json

    from .classifiers.sources import load_tokenizer
    from .classifiers.transformer.checkpoint import load_model, model_facts
    from .classifiers.transformer.classifier import TFClassifier
    from .evaluate import evaluate_transformer

    fixed = {"preset": "evaluate"}
    mdir = Path(args.model or "")
    if (mdir / "training.json").is_file():  # a folder from `train`: reuse its input settings unless given
        stored = json.loads((mdir / "training.json").read_text())["config"]
        given = {"max_length": args.max_length, "truncation": args.truncation}
        fixed.update({k: stored[k] for k in ("max_length", "truncation", "head_tokens") if given.get(k) is None})
    # "evaluate" is not a preset to start from: the demo preset's sizes, recorded as preset "evaluate"
    cfg = _config(args, name_prefix="eval", **fixed)
    if args.resume and not args.name:
        raise PipelineError("--resume continues an interrupted evaluate: give its --name")
    t0 = time.perf_counter()
    splits, writer, _ = _splits_and_writer(cfg, args.resume)
    clf = TFClassifier(load_model(cfg.model), load_tokenizer(cfg.model), cfg.truncation_spec, 1.0, cfg.eval_batch_size)
    timings = {"load": {"seconds": round(time.perf_counter() - t0, 2)}}
    clf.save(writer.path("model"), int8=cfg.int8_copy)
    try:
        out = evaluate_transformer(
            clf,
            splits,
            cfg,
            writer,
            kind="evaluated",
            timings=timings,
            extra={"model_facts": model_facts(clf.model)},
            calibrate=cfg.calibrate,
        )
    except KeyboardInterrupt:
        _interrupted_scoring("evaluate", cfg)
        return 130
    print(out)
    return _after_scoring(writer.final, clf, challenge=False, analysis=not args.no_analysis)


def _interrupted_scoring(command: str, cfg: RunConfig) -> None:
    print(
        f"\ninterrupted; the test chunks scored so far are kept: continue with python -m pipeline {command} "
        f"--resume --name {cfg.name} (plus the same options)",
        file=sys.stderr,
    )


def cmd_baseline(args) -> int:
    from .evaluate import evaluate_baseline

    # the baseline is cheap: full splits unless asked otherwise
    fixed = {
        "model": "tfidf-logreg",
        "preset": "baseline",
        "train_size": args.train_size or "none",
        "test_size": args.test_size or "none",
    }
    cfg = _config(args, name_prefix="baseline", **fixed)
    splits, writer, _ = _splits_and_writer(cfg)
    print(evaluate_baseline(splits, cfg, writer))
    return 0


def cmd_predict(args) -> int:
    """Score a file of reviews in chunks (memory holds one chunk), resumable: rerun the same command after a
    crash or Ctrl-C and the chunks already in ``<output>.parts/`` are kept. ``--engine ray`` scores it on
    Ray Data instead (a local Ray, or the cluster at ``--ray-address``)."""
    from tqdm.auto import tqdm

    from .runs import COMPLETE

    run_dir = _run_dir(args)
    if not (run_dir / COMPLETE).is_file():
        raise PipelineError(f"no complete run at {run_dir}")
    if args.engine == "ray":
        from .distributed import predict_on_ray

        res = predict_on_ray(
            run_dir, args.input, args.output, batch=args.batch, workers=args.workers, address=args.ray_address
        )
        log.info("scored %d reviews on Ray in %.1f s → %s", res.reviews, res.seconds, res.output)
        print(res.output)
        return 0
    from .classifiers import load_classifier
    from .inputs import iter_reviews_file
    from .predict import predict_file

    first = iter_reviews_file(args.input, args.chunk_rows)
    next(first, None)  # a missing or malformed input (or its first chunk) fails before the model loads
    first.close()
    clf = load_classifier(run_dir)
    model_id = {"run": str(run_dir.resolve()), "complete": (run_dir / COMPLETE).read_text().strip()}
    bar = lambda total: tqdm(total=total, desc="scoring", unit="review", mininterval=1.0)
    return _resumable_file_job(
        "scored",
        args.output,
        lambda: predict_file(
            clf, args.input, args.output, model_id=model_id, batch=args.batch, chunk_rows=args.chunk_rows, progress=bar
        ),
    )


def _resumable_file_job(verb: str, output: str, job) -> int:
    """Run ``job()`` (``predict_file`` / ``explain_file``: chunked, resumable), then log what it did and print the
    output path; on Ctrl-C say where the finished chunks are and how to continue (exit code 130)."""
    from .chunked import parts_dir

    try:
        res = job()
    except KeyboardInterrupt:
        print(
            f"\ninterrupted; the chunks {verb} so far are kept in {parts_dir(Path(output))}: rerun the same "
            "command to continue",
            file=sys.stderr,
        )
        return 130
    resumed = f" ({res.resumed_chunks} of {res.chunks} chunks from an earlier run)" if res.resumed_chunks else ""
    log.info("%s %d reviews in %.1f s%s → %s", verb, res.reviews, res.seconds, resumed, res.output)
    if res.blank_rows:
        log.warning("%d input rows have no text: not reviews, so not in the output", res.blank_rows)
    print(res.output)
    return 0


def cmd_quantize(args) -> int:
    """Write ``model/int8.tflite`` (the copy SHAP scores with) into a run written before runs carried it,
    and report how far it is from float32 on up to 64 of the run's test reviews."""
    import numpy as np

    from .atomic import run_lock
    from .classifiers import INT8, load_classifier
    from .runs import load_run

    run_dir = _run_dir(args)
    clf = load_classifier(run_dir)
    if INT8 not in clf.capabilities:
        raise PipelineError(f"run {run_dir.name!r} is a {clf.kind} run; it has no int8 copy to make")
    t0 = time.perf_counter()
    with run_lock(run_dir, "quantizing"):
        path = clf.save_int8(run_dir / "model")
    texts = load_run(run_dir).predictions["text"].head(64).tolist()
    diff = np.abs(clf.prob_positive(texts, precision="int8") - clf.prob_positive(texts))
    print(
        f"{path} ({time.perf_counter() - t0:.0f} s); int8 vs float32 on "
        f"{len(texts)} test reviews: mean |Δp| {diff.mean():.4f}, max {diff.max():.4f}"
    )
    return 0


# ---------------------------------------------------------------- analysis


def cmd_explain(args) -> int:
    """Precompute explanations of a run's most confident errors into the run, or (``--input``/``--output``)
    explain every review of a file, resumably in chunks, or on Ray Data with ``--engine ray``."""
    from .analysis.explain import METHODS, precompute
    from .analysis.explain.precompute_run import run_default_method

    if args.method is None:  # the run's default: the most faithful within the batch budget (IG; SHAP on TF-IDF)
        args.method = run_default_method(_run_dir(args))
    method = METHODS[args.method]
    own = {s.name for s in method.settings_spec}
    given = {
        s.name: getattr(args, s.name)
        for m in METHODS.values()
        for s in m.settings_spec
        if getattr(args, s.name, None) is not None
    }
    ignored = sorted(set(given) - own)
    if ignored:
        log.warning("ignoring %s: not a setting of method %r", ", ".join(ignored), args.method)
    settings = {k: v for k, v in given.items() if k in own}
    if bool(args.input) != bool(args.output):
        raise PipelineError("--input and --output go together: explain FILE and write its explanations to OUTPUT")
    if args.engine == "ray" and not args.input:
        raise PipelineError("--engine ray explains a file of reviews: give --input and --output")
    if args.input:
        if args.errors is not None or args.correct is not None:
            log.warning("ignoring --errors/--correct: with --input every review of the file is explained")
        return _explain_file(args, settings)
    errors, correct = 200 if args.errors is None else args.errors, 50 if args.correct is None else args.correct
    print(precompute(_run_dir(args), args.method, errors, correct, **settings))
    return 0


def _explain_file(args, settings: dict) -> int:
    from tqdm.auto import tqdm

    from .analysis.explain.files import explain_file, resolve_for_run

    run_dir = _run_dir(args)
    if args.engine == "ray":
        from .distributed import explain_on_ray

        res = explain_on_ray(
            run_dir,
            args.input,
            args.output,
            method=args.method,
            settings=resolve_for_run(run_dir, args.method, settings),  # checked before Ray starts
            batch=args.ray_batch,
            workers=args.workers,
            address=args.ray_address,
        )
        log.info("explained %d reviews on Ray in %.1f s → %s", res.reviews, res.seconds, res.output)
        print(res.output)
        return 0
    bar = lambda total: tqdm(total=total, desc=f"explain ({args.method})", unit="review", mininterval=1.0)
    return _resumable_file_job(
        "explained",
        args.output,
        lambda: explain_file(
            run_dir, args.input, args.output, args.method, settings, chunk_rows=args.chunk_rows, progress=bar
        ),
    )


def cmd_tag(args) -> int:
    from .runs import TAGS

    if bool(args.input) != bool(args.output):
        raise PipelineError("--input and --output go together: tag FILE and write the tagged rows to another file")
    if args.input and Path(args.output).suffix.lower() not in (".csv", ".parquet", ".jsonl"):
        raise PipelineError(f"--output {Path(args.output).name}: use a .csv, .parquet or .jsonl file name")
    from .analysis.tags import run_tags, tag_file

    run_dir = _run_dir(args)
    names = [t.strip() for t in args.tags.split(",")] if args.tags else None
    if args.input:
        out = tag_file(run_dir, args.input, args.output, names)
        print(args.output, f"({len(out)} reviews)")
        return 0
    tags = run_tags(run_dir, names, args.sample, data=args.data)
    print(run_dir / TAGS, f"({len(tags)} reviews)")
    return 0


def cmd_behave(args) -> int:
    from .analysis.behavior import behave_run

    res = behave_run(_run_dir(args), args.n)
    for t in res["tests"]:
        rate = "n/a" if t["failure_rate"] is None else f"{t['failure_rate']:.1%}"
        print(f"{t['type']:4} {t['name']:20} {t['cases']:5} cases  failure rate {rate}")
    return 0


def cmd_challenge(args) -> int:
    from .analysis.challenge import parse_sets, run_challenge, summary_lines

    stats = run_challenge(
        _run_dir(args), parse_sets(args.sets), args.data_dir, split=args.split, max_per_test=args.max_per_test
    )
    print("\n".join(summary_lines(stats)))
    return 0


def _engine_args(p: argparse.ArgumentParser, engine_help: str, replicas_help: str) -> None:
    """``--engine local|ray``, ``--workers`` and ``--ray-address``: predict and explain share them."""
    p.add_argument("--engine", default="local", choices=["local", "ray"], help=engine_help)
    p.add_argument("--workers", type=int, default=None, help=f"with --engine ray: {replicas_help}")
    p.add_argument(
        "--ray-address",
        dest="ray_address",
        default=None,
        help="with --engine ray: cluster address (default: local Ray)",
    )


def _run_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--run", required=True, help="run folder or run name under models/")
    p.add_argument("--models-dir", dest="models_dir")


def _no_analysis_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--no-analysis",
        action="store_true",
        help="skip the analysis at the end (error tags, behavioural tests, explanations (IG; SHAP on TF-IDF) of the most "
        "confident errors and a sample of correct predictions)",
    )


def build_parser() -> argparse.ArgumentParser:
    from .analysis.challenge.defaults import DEFAULT_MAX_PER_TEST as CHALLENGE_MAX  # no pandas
    from .analysis.explain import DEFAULT_METHOD, METHODS

    p = argparse.ArgumentParser(
        prog="python -m pipeline",
        description="Fine-tune BERT on IMDB, cache predictions, write run folders "
        "for the dashboard (streamlit run dashboard/Home.py).",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log debug lines and show tracebacks")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="train + evaluate + write models/<run>/")
    _add_config_args(r)
    r.add_argument("--resume", action="store_true", help="continue an interrupted run (give its --name)")
    r.add_argument("--no-challenge", action="store_true", help="skip scoring the challenge sets at the end")
    _no_analysis_arg(r)
    r.set_defaults(func=cmd_run)

    t = sub.add_parser("train", help="fine-tune only; writes a model folder for `evaluate`")
    _add_config_args(t)
    t.add_argument("--output", help="model folder (default models/<name>.model)")
    t.add_argument("--resume", action="store_true")
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("evaluate", help="score an existing model (hub name or folder), no training")
    _add_config_args(e, with_preset=False)
    e.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted evaluate (give its --name): the test chunks already scored are kept",
    )
    _no_analysis_arg(e)
    e.set_defaults(func=cmd_evaluate)

    pr = sub.add_parser("predict", help="score a CSV/TSV/Parquet/JSONL/TXT file of reviews with a run's model")
    _run_arg(pr)
    pr.add_argument("--input", required=True)
    pr.add_argument("--output", required=True, help=".parquet or .csv")
    pr.add_argument("--batch", type=int, default=256, help="reviews per model call (default 256)")
    pr.add_argument(
        "--chunk-rows",
        dest="chunk_rows",
        type=int,
        default=20_000,  # = pipeline.inputs.DEFAULT_CHUNK_ROWS (not imported here: it loads pandas)
        help="input rows read, scored and written at a time: memory holds one chunk; a rerun after a crash "
        "resumes from the last finished chunk (default 20000)",
    )
    _engine_args(
        pr,
        "local: this process (default); ray: Ray Data, on a local Ray or the cluster at --ray-address "
        "(pip install .[ray]; the input needs an id column; --output is a folder of Parquet files)",
        "model replicas (default: one per CPU)",
    )
    pr.set_defaults(func=cmd_predict)

    q = sub.add_parser("quantize", help="add the int8 copy SHAP uses to a run written before runs carried it")
    _run_arg(q)
    q.set_defaults(func=cmd_quantize)

    b = sub.add_parser("baseline", help="TF-IDF 1-2 grams + logistic regression run folder")
    _add_config_args(b, with_preset=False)
    b.set_defaults(func=cmd_baseline)

    x = sub.add_parser(
        "explain",
        help="precompute attributions for a run's most confident errors, or for every review of a file",
        description="Without --input: explain the run's --errors most confident errors and --correct random correct "
        "predictions into the run's explanations.parquet (resumable). With --input FILE --output OUT.parquet: "
        "explain every review of FILE (CSV/TSV/Parquet/JSONL/TXT) in chunks of --chunk-rows, resumable (rerun the same "
        "command after a crash), one row per review: id, pred and the attribution columns of explanations.parquet. "
        "With --engine ray: the same rows on Ray Data, OUT a folder of Parquet files; the input (a file, folder or "
        "glob of Parquet/CSV/JSONL, local or s3://, gs://) needs an id column. On a cluster: ray job submit "
        "--address http://HEAD:8265 --working-dir . -- python -m pipeline explain --engine ray --ray-address auto "
        "--run /shared/models/RUN --input s3://bucket/reviews/ --output /shared/explained/",
    )
    _run_arg(x)
    x.add_argument(
        "--method",
        default=None,
        choices=list(METHODS),
        help=f"attribution method (default: the most faithful within the batch budget for the run's kind, "
        f"measured: {DEFAULT_METHOD} for a transformer run, shap for the TF-IDF baseline)",
    )
    x.add_argument("--errors", type=int, default=None, help="most confident errors to explain (default 200)")
    x.add_argument("--correct", type=int, default=None, help="random correct predictions to add (default 50)")
    x.add_argument("--input", help="explain every review of this file (or, with --engine ray, folder or glob)")
    x.add_argument("--output", help="with --input: a .parquet file (--engine local) or a folder (--engine ray)")
    x.add_argument(
        "--chunk-rows",
        dest="chunk_rows",
        type=int,
        default=50,  # = pipeline.analysis.explain.files.DEFAULT_CHUNK_ROWS (not imported here: it loads pandas)
        help="with --input: reviews explained and written at a time; a rerun after a crash resumes from the last "
        "finished chunk (default 50)",
    )
    _engine_args(
        x,
        "with --input: local (this process, default) or ray (Ray Data, on a local Ray or the cluster at "
        "--ray-address; pip install .[ray])",
        "explainer replicas (default: CPUs minus one)",
    )
    x.add_argument(
        "--ray-batch",
        dest="ray_batch",
        type=int,
        default=16,
        help="with --engine ray: reviews per call of a replica (default 16)",
    )
    for m in METHODS.values():  # each method's settings become flags (defaults: the method's own)
        for s in m.settings_spec:
            x.add_argument(
                s.flag,
                dest=s.name,
                type=s.type,
                choices=s.choices,
                default=None,
                help=f"{s.help} (default {s.default})",
            )
    x.set_defaults(func=cmd_explain)

    tg = sub.add_parser("tag", help="error taxonomy tags + lift per tag for a run, or tag any reviews file")
    _run_arg(tg)
    tg.add_argument("--input", help="tag this CSV/TSV/Parquet/JSONL/TXT of reviews instead of the run's test set")
    tg.add_argument("--output", help="with --input: write the rows + tag columns here (.csv/.parquet/.jsonl)")
    # (the tag names are not listed here: importing the tags loads pandas, and a typo gets the list anyway)
    tg.add_argument("--tags", help="comma-separated subset of the tag names (default all; README lists them)")
    tg.add_argument("--sample", type=int, default=2000, help="reviews scored by model-based tags (default 2000)")
    tg.add_argument("--data", help="IMDB source for train duplicates (default: the run's)")
    tg.set_defaults(func=cmd_tag)

    bh = sub.add_parser("behave", help="CheckList-style behavioural tests for a run → behavior.json")
    _run_arg(bh)
    bh.add_argument("--n", type=int, default=100, help="real test reviews per INV/DIR test (default 100)")
    bh.set_defaults(func=cmd_behave)

    ch = sub.add_parser("challenge", help="score the run on public challenge sets → challenge.parquet/.json")
    _run_arg(ch)
    ch.add_argument("--sets", help="comma-separated subset of cad,checklist,isarcasm,advglue,uci (default all)")
    ch.add_argument(
        "--data-dir", dest="data_dir", help="challenge data (default $CHALLENGE_DATA or ../shared/data/challenge)"
    )
    ch.add_argument("--split", default="test", choices=["test", "dev", "train"], help="CAD split (default test)")
    ch.add_argument(
        "--max-per-test",
        dest="max_per_test",
        type=int,
        default=CHALLENGE_MAX,
        help=f"CheckList cases per test, a seeded sample (default {CHALLENGE_MAX})",
    )
    ch.set_defaults(func=cmd_challenge)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        datefmt="%H:%M:%S",
    )
    try:
        return args.func(args)
    except (PipelineError, ValueError, OSError) as exc:  # PipelineError covers data/model/run/config errors
        if args.verbose:
            raise
        msg = f"{exc.strerror}: {exc.filename}" if isinstance(exc, OSError) and exc.filename else str(exc)
        print(f"error: {msg}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 — a bug: still one line, with how to see the traceback
        if args.verbose:
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc} (rerun with -v for the traceback)", file=sys.stderr)
        return 1
