"""Explain every review of a file (``python -m pipeline explain --input FILE --output OUT.parquet``): chunk by
chunk, resumable (:func:`pipeline.chunked.map_file`, the machinery ``predict`` uses), one row per review in the
format of :mod:`.rows`. ``explain --engine ray`` makes the same rows on Ray Data (:mod:`pipeline.distributed`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ...chunked import ChunkedResult, map_file
from ...errors import PipelineError
from ...runs import COMPLETE
from .explainer import method_for

DEFAULT_CHUNK_ROWS = 50  # reviews per part: at SHAP's ~8–16 s per review, a crash loses minutes, not hours


def resolve_for_run(run_dir: Path, method: str, settings: dict) -> dict:
    """``method``'s settings (defaults overlaid with ``settings``) for the complete run at ``run_dir``, checked
    from the run's kind alone: a method the run cannot do, or a bad value, fails before any model loads."""
    from ...classifiers import run_kind

    if not (Path(run_dir) / COMPLETE).is_file():
        raise PipelineError(f"no complete run at {run_dir}")
    caps = run_kind(run_dir).capabilities
    return method_for(method, caps).resolve_for(caps, settings)


def explain_file(
    run_dir: Path,
    input_path: str | Path,
    output: str | Path,
    method: str,
    settings: dict,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: Callable[[int | None], object] | None = None,
) -> ChunkedResult:
    """Explain every review of ``input_path`` into the Parquet file ``output`` with the run's classifier.

    Rerunning after a crash or Ctrl-C keeps the chunks in ``<output>.parts/``; another input, run, method,
    settings or ``chunk_rows`` is refused (``PipelineError``). ``progress(total rows or None)`` returns a
    tqdm-like bar. Raises ``DataError`` for a bad input before the model loads."""
    from ...classifiers import load_classifier
    from ...inputs import iter_reviews_file
    from .explainer import Explainer
    from .rows import explain_frame

    if Path(output).suffix.lower() != ".parquet":
        raise PipelineError(f"--output {Path(output).name}: explanations are written as Parquet (.parquet)")
    resolved = resolve_for_run(run_dir, method, settings)
    first = iter_reviews_file(input_path, chunk_rows)
    next(first, None)  # a missing or malformed input (or its first chunk) fails before the model loads
    first.close()
    explainer = Explainer(load_classifier(run_dir), method, **resolved)
    identity = {
        "run": str(Path(run_dir).resolve()),
        "complete": (Path(run_dir) / COMPLETE).read_text().strip(),
        "method": method,
        "settings": resolved,
    }
    return map_file(
        lambda df, on_rows: explain_frame(explainer, df, on_rows),
        input_path,
        output,
        identity=identity,
        chunk_rows=chunk_rows,
        progress=progress,
        what="input, run, method, method settings or --chunk-rows",
    )
