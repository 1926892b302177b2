"""Overview: KPI tiles, comparison deltas, config/hardware/timings, dataset facts, model card."""

import plotly.express as px
import streamlit as st

from dashboard import state
from pipeline.render import md_escape as md

st.title("Overview")
run = state.current_run()
if run is None:
    st.stop()
cmp = state.compare_run()

o = run.metrics["overall"]
co = cmp.metrics["overall"] if cmp else None
cm = o["confusion_matrix"]


def delta(key, pct=True, invert=False):
    if not co or co.get(key) is None or o.get(key) is None:
        return None
    d = o[key] - co[key]
    return f"{100 * d:+.2f} pp vs {md(cmp.info.name)}" if pct else f"{d:+.4f} vs {md(cmp.info.name)}"


st.caption(
    f"Run **{md(run.info.name)}** · model {md(run.config.get('model'))} · preset "
    f"{md(run.config.get('preset'))} · {o['n']:,} test reviews · created {md(run.run_json.get('created', '?'))}"
)
c = st.columns(4)
c[0].metric("Accuracy", state.fmt_pct(o["accuracy"]), delta("accuracy"))
c[1].metric("F1", state.fmt_pct(o["f1"]), delta("f1"))
c[2].metric("ROC-AUC", f"{o['roc_auc']:.4f}" if o.get("roc_auc") is not None else "n/a", delta("roc_auc", False))
c[3].metric("ECE", f"{o['ece']:.4f}", delta("ece", False), delta_color="inverse")
errors = cm["fp"] + cm["fn"]
c = st.columns(4)
c[0].metric(
    "Errors",
    f"{errors:,}",
    f"{errors - co['confusion_matrix']['fp'] - co['confusion_matrix']['fn']:+,} vs {md(cmp.info.name)}" if co else None,
    delta_color="inverse",
)
c[1].metric("False positives", f"{cm['fp']:,}", help="negative reviews predicted positive")
c[2].metric("False negatives", f"{cm['fn']:,}", help="positive reviews predicted negative")
c[3].metric("FP share of errors", f"{cm['fp'] / errors:.0%}" if errors else "n/a")

cal = run.metrics.get("calibration", {})
if cal.get("temperature") not in (None, 1.0):
    st.caption(
        f"Probabilities are temperature-scaled (T = {cal['temperature']:.3f}, fitted on validation); "
        f"test ECE {cal.get('ece_test_before', float('nan')):.4f} before → "
        f"{cal.get('ece_test_after', float('nan')):.4f} after."
    )

left, right = st.columns(2)
with left:
    st.subheader("Dataset facts")
    facts = state.ask(run, "summary")
    window = run.config.get("max_length")
    st.write(
        f"{facts['n']:,} test reviews, {facts['positives']:,} positive. "
        f"Median length {int(facts['median_tokens'])} word-pieces; **{facts['truncated_share']:.1%}** are longer "
        f"than the model's window of {window} tokens and were truncated ({run.config.get('truncation')})."
    )
    hist = state.ask(run, "length_histogram", 1500, 25)  # counts per bin, never one point per review
    fig = px.bar(
        hist.assign(correct=hist["correct"].map({True: "correct", False: "error"})),
        x="bin_low",
        y="count",
        color="correct",
        labels={"bin_low": "word-pieces per review (bins of 25, capped at 1,500)", "count": "reviews", "correct": ""},
        color_discrete_map={"correct": "#2563eb", "error": "#dc2626"},
        height=320,
    )
    fig.update_traces(width=25, offset=0)
    if window:
        fig.add_vline(x=window, line_dash="dash", annotation_text=f"window {window}")
    fig.update_layout(margin=dict(l=10, r=10, t=30, b=10), bargap=0.05)
    st.plotly_chart(fig, width="stretch")
with right:
    st.subheader("Configuration, hardware, timings")
    t = run.run_json.get("timings", {})
    rows = []
    for stage, v in t.items():
        if isinstance(v, dict):
            rate = v.get("samples_per_s") or v.get("reviews_per_s")
            rows.append({"stage": stage, "seconds": v.get("seconds"), "per second": rate})
    if rows:
        st.dataframe(rows, hide_index=True, width="stretch")
    hw = run.run_json.get("hardware", {})
    st.write(
        f"Hardware: {md(hw.get('cpu', '?'))} · {md(hw.get('cores', '?'))} cores · GPUs: "
        f"{md(', '.join(map(str, hw.get('gpus', []))) or 'none')}"
    )
    with st.expander("Resolved config"):
        st.json(run.config)
    with st.expander("Versions, git commit, data fingerprint"):
        st.json(
            {
                "versions": run.run_json.get("versions"),
                "git_commit": run.run_json.get("git_commit"),
                "data": run.run_json.get("data"),
            }
        )

if cmp:
    st.subheader(f"Side by side: {md(run.info.name)} vs {md(cmp.info.name)}")
    keys = ["accuracy", "precision", "recall", "f1", "roc_auc", "log_loss", "brier", "ece"]
    table = [
        {
            "metric": k,
            run.info.name: o.get(k),
            cmp.info.name: co.get(k),
            "difference": (o[k] - co[k]) if o.get(k) is not None and co.get(k) is not None else None,
        }
        for k in keys
    ]
    st.dataframe(table, hide_index=True, width="stretch")
    both = state.compare(run, cmp)
    if both:
        st.write(
            f"On the {both['shared']:,} shared reviews: both wrong **{both['both_wrong']:,}**, "
            f"only this run wrong **{both['only_this']:,}**, only {md(cmp.info.name)} wrong **{both['only_other']:,}**."
        )

with st.expander("Model card (README.md of the run)"):
    # shown as source, not rendered: a shared run folder's card could link out or load remote images
    card = run.model_card.split("---", 2)[-1] if run.model_card.startswith("---") else run.model_card
    st.code(card.strip(), language="markdown", wrap_lines=True)
