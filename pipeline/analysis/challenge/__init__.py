"""Robustness on public challenge sets (data beside the repository, never copied into it).

    python -m pipeline challenge --run RUN   →  challenge.parquet (one row per scored text)
                                                challenge.json    (per set and test: n, rate, 95 % CI)

``sets``: one loader class per set, registered by name (CAD, CheckList, iSarcasmEval, AdvGLUE, UCI);
``score``: scoring and the statistics of each set; ``runner``: load, score, write.
"""

from .runner import DEFAULT_MAX_PER_TEST, parse_sets, run_challenge, summary_lines
from .score import STATISTICS, cad_pairs, proportion, score_frame
from .sets import SETS, ChallengeSet, default_data_dir, register

__all__ = [
    "DEFAULT_MAX_PER_TEST",
    "SETS",
    "STATISTICS",
    "ChallengeSet",
    "cad_pairs",
    "default_data_dir",
    "parse_sets",
    "proportion",
    "register",
    "run_challenge",
    "score_frame",
    "summary_lines",
]
