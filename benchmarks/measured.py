"""Write ``pipeline/analysis/explain/measured.json``: each method's measured faithfulness and cost, which the defaults
are chosen from (``methods.best_method``) and the dashboard shows beside each method's name.

    python benchmarks/measured.py --faithfulness benchmarks/results/faithfulness-RUN-DATE.json \
        [--first-call benchmarks/results/first-call-DATE.json] [--seconds METHOD=P50 ...]

Faithfulness comes from the ``faithfulness`` benchmark (the registry methods' rows with their default settings);
``seconds_p50`` from that benchmark too, unless ``--seconds`` gives a figure measured on median-length reviews (say
where from in ``--seconds-source``); first calls from ``first_call.py`` (after the dashboard's warm-up).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "pipeline" / "analysis" / "explain" / "measured.json"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--faithfulness", type=Path, required=True)
    ap.add_argument("--first-call", type=Path)
    ap.add_argument("--seconds", nargs="*", default=[], help="METHOD=P50 seconds per median-length review")
    ap.add_argument("--seconds-source", default="")
    a = ap.parse_args()
    faith = json.loads(a.faithfulness.read_text())
    first = json.loads(a.first_call.read_text())["warm"] if a.first_call else {}
    seconds = {k: float(v) for k, v in (s.split("=") for s in a.seconds)}
    from pipeline.analysis.explain import METHODS

    methods = {}
    for name in METHODS:  # the registry methods at their default settings (the benchmark's rows named plainly)
        row = faith["methods"].get(name)
        if row is None:
            continue
        methods[name] = {
            "comprehensiveness_aopc": row["comprehensiveness_aopc"],
            "comprehensiveness_ci95": row["comprehensiveness_ci95"],
            "sufficiency_aopc": row["sufficiency_aopc"],
            "sufficiency_ci95": row["sufficiency_ci95"],
            "reviews": row["reviews_scored"],
            "seconds_p50": seconds.get(name, row["seconds_p50"]),
            "first_call_seconds": first.get(name, {}).get("first_call_seconds"),
        }
    out = {
        "sources": {
            "faithfulness": str(a.faithfulness.resolve().relative_to(ROOT)),
            "first_call": str(a.first_call.resolve().relative_to(ROOT)) if a.first_call else None,
            "seconds": a.seconds_source or "the faithfulness benchmark's p50",
        },
        "run": faith["run"],
        "pick": faith["pick"],
        "removal": faith["removal"],
        "methods": methods,
    }
    OUT.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
