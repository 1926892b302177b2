"""Which error tags separate errors on a run: its ``tags.json`` lift table (support, error rate, lift with 95 % CI)
and cleanlab's label-issue count, with the run's accuracy and training facts, as a committed JSON and a README table.

    python -m pipeline tag --run RUN --sample 2000        # first: the tags (model-based ones on a 2,000 sample)
    python benchmarks/tag_lift.py --run RUN

Writes ``benchmarks/results/tags-<run>-<date>.json`` and prints the markdown table. A tag *separates* errors when
its lift CI lies above 1. Tags defined on errors (``label_issue``) are never in the lift table (see tags.json).
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True, help="run folder (or name under MODELS_DIR)")
    a = ap.parse_args()

    from pipeline.runs import resolve_run_dir

    run_dir = resolve_run_dir(a.run)
    tags = json.loads((run_dir / "tags.json").read_text())
    metrics = json.loads((run_dir / "metrics.json").read_text())["overall"]
    run = json.loads((run_dir / "run.json").read_text())
    cfg = run.get("config", {})
    out = {
        "benchmark": "tag lift",
        "date": str(date.today()),
        "run": run_dir.name,
        "model": cfg.get("model"),
        "train_size": cfg.get("train_size"),
        "max_length": cfg.get("max_length"),
        "truncation": cfg.get("truncation"),
        "epochs": cfg.get("epochs"),
        "accuracy": metrics.get("accuracy"),
        "n": max((t["evaluated"] for t in tags["tags"]), default=0),
        "sample": tags.get("sample"),
        "seed": tags.get("seed"),
        "tags": tags["tags"],
        "separates_errors": [t["tag"] for t in tags["tags"] if t["lift_lo"] > 1],
        "label_issues": tags.get("label_issues"),
    }
    path = ROOT / "benchmarks" / "results" / f"tags-{run_dir.name}-{date.today()}.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"{run_dir.name}: accuracy {out['accuracy']:.4f}; wrote {path.relative_to(ROOT)}\n")
    print("| tag | support / evaluated | error rate (base) | lift [95 % CI] |")
    print("|---|---|---|---|")
    for t in sorted(tags["tags"], key=lambda t: -t["lift"]):
        mark = " **separates**" if t["lift_lo"] > 1 else ""
        print(
            f"| `{t['tag']}` | {t['support']:,} / {t['evaluated']:,} | {t['error_rate']:.3f} ({t['base_error_rate']:.3f}) "
            f"| {t['lift']:.2f} [{t['lift_lo']:.2f}, {t['lift_hi']:.2f}]{mark} |"
        )
    li = out["label_issues"]
    if li:
        print(f"\ncleanlab label issues: {li['count']:,} of {li['of']:,} ({li['errors_among_them']:,} of them errors)")


if __name__ == "__main__":
    main()
