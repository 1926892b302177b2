"""A Hugging Face style model card (README.md with ``model-index`` front matter), written with every run."""

from __future__ import annotations

import yaml


def _pct(x) -> str:
    return "n/a" if x is None else f"{100 * x:.2f} %"


def model_card(run: dict, metrics: dict) -> str:
    cfg, o = run["config"], metrics["overall"]
    cal = metrics.get("calibration", {})
    front = {
        "language": ["en"],
        "license": "mit",
        "library_name": "transformers" if run["kind"] != "baseline" else "sklearn",
        "tags": ["text-classification", "sentiment-analysis", "tensorflow", "imdb"],
        "datasets": ["stanfordnlp/imdb"],
        "base_model": cfg.get("model"),
        "model-index": [
            {
                "name": run["name"],
                "results": [
                    {
                        "task": {"type": "text-classification", "name": "Sentiment Analysis"},
                        "dataset": {"type": "stanfordnlp/imdb", "name": "IMDB", "split": "test"},
                        "metrics": [
                            {"type": k, "value": round(o[k], 4), "name": k.replace("_", " ").title()}
                            for k in ("accuracy", "f1", "roc_auc")
                            if o.get(k) is not None
                        ],
                    }
                ],
            }
        ],
    }
    cm = o["confusion_matrix"]
    d = run.get("data", {})
    t = run.get("timings", {})
    train_t = t.get("train", {})
    lines = [
        "---",
        yaml.safe_dump(front, sort_keys=False).strip(),
        "---",
        "",
        f"# {run['name']}",
        "",
        f"Binary sentiment classifier (negative / positive) for movie reviews, {run['kind']} run of preset "
        f"`{cfg.get('preset')}` built on `{cfg.get('model')}`.",
        "",
        "## Results on the IMDB test split",
        "",
        "| metric | value |",
        "| --- | --- |",
        f"| reviews scored | {o['n']:,} |",
        f"| accuracy | {_pct(o['accuracy'])} |",
        f"| F1 | {_pct(o['f1'])} |",
        f"| ROC-AUC | {o['roc_auc']:.4f} |" if o.get("roc_auc") is not None else "| ROC-AUC | n/a |",
        f"| ECE (15 bins) | {o['ece']:.4f} |",
        f"| confusion (tn / fp / fn / tp) | {cm['tn']} / {cm['fp']} / {cm['fn']} / {cm['tp']} |",
        "",
        "## Training",
        "",
        f"- Data: `{d.get('source')}`; train {d.get('train', {}).get('rows', '?')} rows, validation "
        f"{d.get('val', {}).get('rows', '?')} rows (stratified {cfg.get('val_fraction')} of train, seed "
        f"{cfg.get('seed')}), test {d.get('test', {}).get('rows', '?')} rows. The test split was used for "
        "nothing but this report.",
        f"- Input: {cfg.get('max_length')} tokens, truncation `{cfg.get('truncation')}`; markup such as "
        "`<br />` is removed before tokenizing.",
        f"- Optimisation: {cfg.get('epochs')} epoch(s), batch {cfg.get('batch_size')}, {cfg.get('optimizer')} "
        f"lr {cfg.get('learning_rate')} ({cfg.get('schedule')}, warm-up {cfg.get('warmup_ratio')}).",
    ]
    if train_t:
        lines.append(
            f"- Training wall time {train_t.get('seconds', 0) / 60:.1f} min, "
            f"{train_t.get('samples_per_s', 0):.1f} samples/s on {run.get('hardware', {}).get('cpu', '?')}"
            f" ({len(run.get('hardware', {}).get('gpus', []))} GPU)."
        )
    if cal:
        lines.append(
            f"- Calibration: temperature {cal.get('temperature', 1):.3f} fitted on validation; test ECE "
            f"{cal.get('ece_test_before', float('nan')):.4f} → {cal.get('ece_test_after', float('nan')):.4f}."
        )
    if cfg.get("notes"):
        lines += ["", "## Notes", "", str(cfg["notes"])]
    lines += [
        "",
        "## Limitations",
        "",
        "Trained on English IMDB reviews only. Reviews longer than the window are truncated; sarcasm, "
        "negation and mixed reviews are known weak spots — open the dashboard "
        "(`streamlit run dashboard/Home.py`) to inspect them.",
        "",
    ]
    return "\n".join(lines)
