"""Score and explain very large inputs on Ray Data (``predict --engine ray``, ``explain --engine ray``): one
process on a laptop, many machines on a Ray cluster, the same code. Optional: ``pip install '.[ray]'``.

Why Ray Data and not Apache Beam's RunInference: both load the model once per worker and batch the rows, but
``apache-beam`` 2.77 pins protobuf < 7, pyarrow < 26, pillow < 13 and python-dateutil < 3, so installing it
downgrades four packages this project's stack runs on (measured with ``pip install --dry-run``), while
``ray[data]`` 2.60 adds two packages (ray, msgpack) and changes none; it can therefore be a dev extra that CI
tests. The cost: Ray runs on a Ray cluster (KubeRay, Anyscale, ``ray up`` on a cloud), not on
Dataflow/Flink/Spark.

The pipeline: read the input (Parquet, CSV, JSONL: a file, a folder, a glob, or ``s3://``/``gs://`` with
the filesystem's credentials) → :class:`ReviewScorer` actors (each loads the run's classifier once,
applies the input rules of :func:`pipeline.inputs.normalise_reviews` and adds ``prob_pos, pred,
pred_label`` like the local ``predict``), or :class:`ReviewExplainer` actors (each makes the run's
``Explainer`` once; rows like the local ``explain --input``) → Parquet files in the output folder, in input
order. Every worker must see the run folder at the same path (a shared filesystem). Nothing here imports a
framework: the actors go through the classifier and explainer interfaces.

Limits, by design: the input needs an ``id`` column (rows are scored on many machines at once, so there is
no global row number to make one from); the output is a folder, written by the driver as ``<output>.partial``
(:func:`_write_in_order`) and renamed when complete. A failed task is retried by Ray; a crash of the driver restarts the whole job (no resume of
finished blocks, unlike the local engine).
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .errors import DataError, PipelineError

log = logging.getLogger(__name__)

# Read by TensorFlow and transformers when a worker imports them: the driver's values go to every worker.
WORKER_ENV = ("TF_USE_LEGACY_KERAS", "TF_CPP_MIN_LOG_LEVEL", "HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "HF_HOME")
READERS = {".parquet": "read_parquet", ".csv": "read_csv", ".jsonl": "read_json"}


@dataclass(frozen=True)
class RayResult:
    output: Path
    reviews: int
    files: int
    seconds: float


class ReviewScorer:
    """A Ray Data actor: the run's classifier, loaded once, scoring pandas batches of ``id, text, …``."""

    def __init__(self, run_dir: str, batch: int, source_name: str):
        from .classifiers import load_classifier

        self.clf, self.batch, self.source_name = load_classifier(run_dir), batch, source_name

    def __call__(self, frame):
        from .classifiers import score_texts
        from .inputs import STREAM_LIMITS, normalise_reviews, restore_text_column
        from .predict import add_predictions

        df = normalise_reviews(frame, self.source_name, STREAM_LIMITS)
        return restore_text_column(add_predictions(df, score_texts(self.clf, df["text"].tolist(), self.batch)))


def _reader(source: str):
    """The Ray Data reader for ``source`` (a file, folder or glob; local or remote), from its suffix."""
    suffix = Path(source.rstrip("/")).suffix.lower()
    if suffix not in READERS and Path(source).is_dir():
        found = {p.suffix.lower() for p in Path(source).iterdir() if p.suffix.lower() in READERS}
        suffix = found.pop() if len(found) == 1 else suffix
    if suffix not in READERS:
        raise DataError(f"{source}: --engine ray reads .parquet, .csv or .jsonl (a file or a folder of them)")
    return READERS[suffix]


def _local_columns(path: Path) -> list[str]:
    import json

    import pyarrow.parquet as pq

    if path.suffix.lower() == ".parquet":
        return pq.read_schema(path).names
    with path.open(encoding="utf-8", errors="replace") as f:
        first = f.readline()
    if path.suffix.lower() == ".csv":
        import csv

        return next(csv.reader([first]), [])
    try:
        return list(json.loads(first))
    except ValueError:
        raise DataError(f"{path.name}: cannot parse its first line as JSON") from None


def _check_id_column(src: str, names: list[str]) -> None:
    if "id" not in names:
        raise DataError(f"{src}: --engine ray needs an 'id' column (found {list(names)[:10]})")


class ReviewExplainer:
    """A Ray Data actor: the run's classifier and an :class:`~pipeline.analysis.explain.Explainer`, made once,
    explaining pandas batches of ``id, text, …`` into rows of ``explanations.parquet``'s format."""

    def __init__(self, run_dir: str, method: str, settings: dict, source_name: str):
        from .analysis.explain import Explainer
        from .classifiers import load_classifier

        self.explainer = Explainer(load_classifier(run_dir), method, **settings)
        self.source_name = source_name

    def __call__(self, frame):
        from .analysis.explain.rows import as_arrow, explain_frame
        from .inputs import STREAM_LIMITS, normalise_reviews

        return as_arrow(explain_frame(self.explainer, normalise_reviews(frame, self.source_name, STREAM_LIMITS)))


def predict_on_ray(
    run_dir: str | Path,
    source: str | Path,
    output: str | Path,
    *,
    batch: int = 256,
    workers: int | None = None,
    address: str | None = None,
) -> RayResult:
    """Score ``source`` with the run at ``run_dir`` on Ray Data into the folder ``output``.

    ``workers``: model replicas (default: the cluster's CPUs minus one, at least one: a CPU stays free for
    reading and writing). ``address``: a Ray cluster (``ray://head:10001`` or ``auto``); default a local Ray,
    started here and stopped at the end. Raises ``PipelineError`` without Ray, ``DataError`` for a bad input
    (a missing file, no ``id`` column, a review over the length limit: Ray's wrapping removed).
    """
    kwargs = {"run_dir": str(Path(run_dir).resolve()), "batch": batch, "source_name": Path(str(source)).name}
    return _map_on_ray(ReviewScorer, kwargs, source, output, max(batch, 1024), workers, address)


def explain_on_ray(
    run_dir: str | Path,
    source: str | Path,
    output: str | Path,
    *,
    method: str,
    settings: dict,
    batch: int = 16,
    workers: int | None = None,
    address: str | None = None,
) -> RayResult:
    """Explain every review of ``source`` with ``method`` and its (resolved) ``settings`` on Ray Data into the
    folder ``output``: one row per review, the columns of ``explain --input`` (``FILE_COLUMNS``). ``batch``:
    reviews per actor call (explaining one takes seconds, so batches stay small and spread over the workers).
    Same input rules, workers, address and errors as :func:`predict_on_ray`."""
    if batch < 1:
        raise PipelineError(f"--ray-batch must be at least 1 review, got {batch}")
    kwargs = {
        "run_dir": str(Path(run_dir).resolve()),
        "method": method,
        "settings": settings,
        "source_name": Path(str(source)).name,
    }
    return _map_on_ray(ReviewExplainer, kwargs, source, output, batch, workers, address)


def _import_ray():
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise PipelineError("--engine ray needs Ray Data: pip install 'imdb-bert-errors[ray]'") from None
    return ray


@contextmanager
def ray_session(address: str | None = None):
    """Ray, connected: the session already running in this process, else one started here (a local Ray when
    ``address`` is None) with the driver's TensorFlow/HF environment and stopped on exit."""
    ray = _import_ray()
    if ray.is_initialized():
        yield ray
        return
    runtime_env = {"env_vars": {k: os.environ[k] for k in WORKER_ENV if k in os.environ}}
    if address is None:  # a local Ray's workers import this very code; on a cluster, `--working-dir .` ships it
        runtime_env["py_modules"] = [str(Path(__file__).resolve().parent)]
    ray.init(address=address, runtime_env=runtime_env, include_dashboard=False, logging_level=logging.WARNING)
    try:
        yield ray
    finally:
        ray.shutdown()


def _map_on_ray(actor, kwargs: dict, source, output, batch_rows: int, workers, address) -> RayResult:
    """``source`` through ``actor`` (a callable class made once per replica) into the Parquet folder ``output``,
    written as ``<output>.partial`` and renamed, rows in input order."""
    _import_ray()  # what is missing is said before the input is read
    src, out = str(source), Path(output)
    if "://" not in src and not Path(src).exists() and not any(c in src for c in "*?["):
        raise DataError(f"input file not found: {src}")
    read = _reader(src)
    if Path(src).is_file():  # checked before a Ray starts: a missing id column fails in a second
        _check_id_column(src, _local_columns(Path(src)))
    staging = out.with_name(out.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)  # a crashed job's leftovers: Ray restarts from the start
    t0 = time.perf_counter()
    with ray_session(address) as ray:
        try:
            ctx = ray.data.DataContext.get_current()
            ctx.execution_options.preserve_order = True  # output rows in input order, like the local engine
            ds = getattr(ray.data, read)(src, **({"lines": True} if read == "read_json" else {}))
            _check_id_column(src, ds.schema().names)
            cpus = int(ray.cluster_resources().get("CPU", 1))
            replicas = workers or max(1, cpus - 1)
            done = ds.map_batches(
                actor,
                fn_constructor_kwargs=kwargs,
                batch_size=batch_rows,
                batch_format="pandas",
                compute=ray.data.ActorPoolStrategy(size=replicas),
                num_cpus=1,
            )
            files, reviews = _write_in_order(done, staging)
        except Exception as exc:
            raise _user_error(exc) from None
    if out.exists():
        shutil.rmtree(out) if out.is_dir() else out.unlink()
    os.replace(staging, out)
    return RayResult(out, reviews, files, time.perf_counter() - t0)


def _write_in_order(ds, staging: Path) -> tuple[int, int]:
    """The dataset's blocks, in input order, as ``part-000000.parquet``… in ``staging``: ``(files, rows)``.

    Not ``Dataset.write_parquet``: Ray 2.60's Parquet sink hands a task's blocks to ``pyarrow.dataset.write_dataset``
    with ``use_threads=True`` and without ``preserve_order``, so the rows of one file can come out of order (seen: a
    batch of 16 explained reviews written after the last one). The driver writes the blocks as they stream in,
    ordered by ``preserve_order``; the output passes through it, which costs little next to scoring or explaining."""
    import pyarrow.parquet as pq

    staging.mkdir(parents=True)
    files = rows = 0
    for block in ds.iter_batches(batch_size=None, batch_format="pyarrow"):
        if block.num_rows == 0:
            continue
        pq.write_table(block, staging / f"part-{files:06d}.parquet")
        files, rows = files + 1, rows + block.num_rows
    return files, rows


def _user_error(exc: BaseException) -> BaseException:
    """The ``PipelineError`` a Ray task raised (Ray wraps it, possibly twice), else ``exc`` itself."""
    seen = exc
    for _ in range(10):
        if isinstance(seen, PipelineError):
            return type(seen)(str(seen).splitlines()[0])
        nxt = getattr(seen, "cause", None) or seen.__cause__
        if nxt is None:
            break
        seen = nxt
    text = str(exc)
    for kind in (DataError, PipelineError):
        marker = f"{kind.__name__}: "
        if marker in text:  # a cause not kept as an object: its message is in the text
            return kind(text.split(marker, 1)[1].splitlines()[0])
    return exc
