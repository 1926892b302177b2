"""Lift per tag: how much more often the model errs on tagged reviews than on all reviews where the tag
was computed, with a 95 % Wilson interval."""

from __future__ import annotations

import math

import pandas as pd

from .base import REGISTRY


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return (float("nan"), float("nan"))
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (c - h, c + h)


def lift_table(tags: pd.DataFrame, correct: pd.Series) -> list[dict]:
    """Per tag: support, error rate, lift = error rate / error rate of the reviews where the tag was computed,
    with a 95 % Wilson interval on the tag's error rate carried over to the lift. Tags defined on disagreement
    with the label (``ranked_by_lift = False``, e.g. ``label_issue``) are left out: their lift is circular."""
    out = []
    for name in [c for c in tags.columns if c in REGISTRY and REGISTRY[c].ranked_by_lift]:
        col = tags[name]
        known = col.notna()
        if not known.any():
            continue
        base_err = float((~correct[known]).mean())
        on = known & col.fillna(False).astype(bool)
        n, k = int(on.sum()), int((~correct[on]).sum())
        rate = k / n if n else float("nan")
        lo, hi = wilson(k, n)
        out.append(
            {
                "tag": name,
                "description": REGISTRY[name].description,
                "support": n,
                "evaluated": int(known.sum()),
                "errors": k,
                "error_rate": rate,
                "base_error_rate": base_err,
                "lift": rate / base_err if base_err and n else float("nan"),
                "lift_lo": lo / base_err if base_err and n else float("nan"),
                "lift_hi": hi / base_err if base_err and n else float("nan"),
            }
        )
    return sorted(out, key=lambda r: -(r["lift"] if r["lift"] == r["lift"] else -1))
