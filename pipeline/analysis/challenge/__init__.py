"""Robustness on public challenge sets (data beside the repository, never copied into it).

    python -m pipeline challenge --run RUN   →  challenge.parquet (one row per scored text)
                                                challenge.json    (per set and test: n, rate, 95 % CI)

``sets``: one loader class per set, registered by name (CAD, CheckList, iSarcasmEval, AdvGLUE, UCI);
``score``: scoring and the statistics of each set; ``runner``: load, score, write.
"""

from __future__ import annotations

import importlib

from .defaults import DEFAULT_MAX_PER_TEST

# Loaded on first use (PEP 562): the CLI parser reads DEFAULT_MAX_PER_TEST without importing pandas.
_LAZY = {
    "parse_sets": "runner",
    "run_challenge": "runner",
    "summary_lines": "runner",
    "STATISTICS": "score",
    "cad_pairs": "score",
    "proportion": "score",
    "score_frame": "score",
    "SETS": "sets",
    "ChallengeSet": "sets",
    "default_data_dir": "sets",
    "register": "sets",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["DEFAULT_MAX_PER_TEST", *_LAZY]
