"""Confusion matrix with a live threshold, ROC/PR, reliability, slice metrics, reviews of a cell.

Every number comes from a query over the run's parquet (:func:`dashboard.state.ask`): the threshold moves two
columns' worth of work, curves are drawn from a score histogram, and only one page of reviews is read."""

import streamlit as st

from dashboard import charts, state
from pipeline import metrics

PAGE_ROWS = 100

st.title("Confusion matrix & metrics")
run = state.current_run()
if run is None:
    st.stop()

thr = st.slider(
    "Decision threshold on P(positive)",
    0.01,
    0.99,
    0.50,
    0.01,
    key="threshold",
    help="Reviews with P(positive) ≥ threshold are predicted positive. Moves every number below.",
)
m = metrics.confusion_metrics(state.ask(run, "confusion", thr))
cm = m["confusion_matrix"]

k = st.columns(6)
k[0].metric("Accuracy", state.fmt_pct(m["accuracy"]))
k[1].metric("Precision", state.fmt_pct(m["precision"]))
k[2].metric("Recall", state.fmt_pct(m["recall"]))
k[3].metric("F1", state.fmt_pct(m["f1"]))
k[4].metric("False positives", f"{cm['fp']:,}")
k[5].metric("False negatives", f"{cm['fn']:,}")

left, right = st.columns([1, 1])
with left:
    normalise = st.toggle("Colour by row-normalised rate", value=True)
    st.plotly_chart(charts.confusion_figure(cm, normalise), width="stretch")
with right:
    roc, pr = charts.roc_figure(state.ask(run, "curves", 1000), cm, thr)
    t1, t2, t3 = st.tabs(["ROC", "Precision-recall", "Reliability"])
    t1.plotly_chart(roc, width="stretch")
    t2.plotly_chart(pr, width="stretch")
    table = state.ask(run, "reliability", 15)
    t3.plotly_chart(charts.reliability_figure(table, metrics.ece_of_table(table)), width="stretch")
    st.caption("Curves drawn at 1,000 thresholds (steps of 0.001); ROC-AUC on the overview is exact.")

st.subheader("Reviews in a cell")
cells = ["FP", "FN", "TP", "TN"]
# Plotly heatmap cells emit no selection event in Streamlit (checked in Chromium), so a control picks the cell.
cell = st.segmented_control("Cell", cells, default="FP", key="cell_pick") or "FP"
size = cm[cell.lower()]
pages = max(1, -(-size // PAGE_ROWS))
page = st.number_input(f"Page (of {pages:,})", 1, pages, 1, key=f"cell_page_{cell}_{pages}") if pages > 1 else 1
rows, total = state.ask(run, "cell", cell, thr, PAGE_ROWS, (page - 1) * PAGE_ROWS)
st.caption(
    f"**{cell}** at threshold {thr:.2f}: {total:,} reviews, most confident first; rows "
    f"{(page - 1) * PAGE_ROWS + 1:,}–{(page - 1) * PAGE_ROWS + len(rows):,}. Open one on the Error analysis page "
    "for its full text and attributions."
)
st.dataframe(
    rows.drop(columns="row"),
    hide_index=True,
    width="stretch",
    column_config={
        "snippet": st.column_config.TextColumn("review (start)", width="large"),
        "prob_pos": st.column_config.ProgressColumn("P(positive)", min_value=0, max_value=1, format="%.3f"),
    },
)
st.subheader("Metrics per slice (threshold 0.5)")
slices = state.ask(run, "slices")  # by query over the predictions: any tool's parquet, any size
tab_names = list(slices)
if not tab_names:
    st.caption("No slice columns (n_tokens, truncated, rating) in this run's predictions.")
for tab, name in zip(st.tabs(tab_names) if tab_names else [], tab_names):
    table = slices[name]
    tab.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "accuracy": st.column_config.NumberColumn(format="%.4f"),
            "f1": st.column_config.NumberColumn(format="%.4f"),
            "roc_auc": st.column_config.NumberColumn(format="%.4f"),
            "ece": st.column_config.NumberColumn(format="%.4f"),
        },
    )
