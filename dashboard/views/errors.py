"""Misclassified reviews: filters, sortable table, detail view with attributions, CSV, permalinks."""

import pandas as pd
import streamlit as st

from dashboard import analysis_ui, explain_ui, state
from pipeline.analysis.explain import wrong_side_tokens
from pipeline.analysis.tags import REGISTRY as TAGS
from pipeline.render import csv_safe, safe_review_html
from pipeline.render import md_escape as md

st.title("Error analysis")
run = state.current_run()
if run is None:
    st.stop()
analysis_ui.offer_missing_analysis(run, key="errors")
preds = run.predictions
errors = preds[~preds["correct"]]
tags = state.tags_frame(run)
tag_names = [c for c in tags.columns if c in TAGS] if tags is not None else []
if tags is not None:
    errors = errors.join(tags[tag_names], on="id")

with st.container(border=True):
    f = st.columns([2, 2, 2, 1, 2])
    kinds = f[0].multiselect(
        "Error type",
        ["FP", "FN"],
        default=["FP", "FN"],
        help="FP: negative review predicted positive; FN: positive predicted negative",
    )
    conf = f[1].slider("Confidence", 0.5, 1.0, (0.5, 1.0), 0.01)
    max_len = int(preds["n_tokens"].max())
    length = f[2].slider("Length (word-pieces)", 0, max_len, (0, max_len))
    trunc = f[3].selectbox("Truncated", ["any", "yes", "no"])
    ratings = sorted(int(r) for r in preds["rating"].unique())
    rating = f[4].multiselect("Star rating", ratings, default=[], placeholder="any")
    g = st.columns([3, 2])
    search = g[0].text_input("Search text (case-insensitive, plain text)", max_chars=200)
    if tag_names:
        preset_tag = st.query_params.get("tag")
        chosen_tags = g[1].multiselect(
            "Error tags (all must match)", tag_names, default=[preset_tag] if preset_tag in tag_names else []
        )
    else:
        chosen_tags = []
        g[1].caption(
            "No error tags in this run yet: **Compute missing analysis** above or `python -m pipeline tag --run RUN` "
            "adds them."
        )

view = errors[
    errors["error_type"].isin(kinds) & errors["confidence"].between(*conf) & errors["n_tokens"].between(*length)
]
if trunc != "any":
    view = view[view["truncated"] == (trunc == "yes")]
if rating:
    view = view[view["rating"].isin(rating)]
if search.strip():
    view = view[view["text"].str.contains(search.strip(), case=False, regex=False)]
for t in chosen_tags:
    view = view[view[t].fillna(False).astype(bool)]
view = view.sort_values("confidence", ascending=False)

st.caption(f"**{len(view):,}** of {len(errors):,} errors match ({len(preds):,} test reviews); most confident first.")
cols = ["id", "error_type", "confidence", "prob_pos", "rating", "n_tokens", "truncated", "snippet"] + chosen_tags
event = st.dataframe(
    view[cols].head(2000),
    hide_index=True,
    width="stretch",
    height=320,
    on_select="rerun",
    selection_mode="single-row",
    key="error_table",
    column_config={
        "snippet": st.column_config.TextColumn("review (start)", width="large"),
        "confidence": st.column_config.NumberColumn(format="%.3f"),
        "prob_pos": st.column_config.NumberColumn("P(positive)", format="%.3f"),
    },
)
if len(view) > 2000:
    st.caption("Showing the first 2,000 rows; narrow the filters or download the full set.")
st.download_button(
    "Download filtered errors (CSV)",
    csv_safe(view.drop(columns=["snippet"])),
    file_name=f"{run.info.name}-errors.csv",
    mime="text/csv",
    disabled=view.empty,
)

if run.explanations is not None and not run.explanations.empty:
    with st.expander("Words that most often push errors to the wrong side (precomputed explanations)"):
        agg = wrong_side_tokens(run.explanations)
        n_err = int((~run.explanations["correct"]).sum())
        st.caption(
            f"Across {n_err} explained errors: how many errors have the word among their 5 strongest "
            "pushes toward the wrong answer (positive for a false positive, negative for a false negative), "
            "out of the errors containing it (`in_errors`)."
        )
        st.dataframe(
            agg,
            hide_index=True,
            width="stretch",
            column_config={
                "share": st.column_config.NumberColumn(format="%.2f"),
                "total_push": st.column_config.NumberColumn(format="%.3f"),
                "mean_push": st.column_config.NumberColumn(format="%.4f"),
            },
        )

# Which review to open: a clicked row, else the permalink's ?review=ID, else none.
selected = None
rows = event.selection.rows if event and event.selection else []
if rows:
    selected = view.iloc[rows[0]]["id"]
    st.query_params["review"] = selected
    st.query_params["run"] = run.info.name
elif st.query_params.get("review"):
    selected = st.query_params.get("review")

st.divider()
if selected is None:
    st.info("Click a row to read the full review and see which words pushed the model to its answer.")
    st.stop()
match = preds[preds["id"] == selected]
if match.empty:
    st.warning(f"Review {md(selected)} is not in run {md(run.info.name)}.")
    st.stop()
r = match.iloc[0]
verdict = "correct" if r["correct"] else f"misclassified ({r['error_type']})"
st.subheader(f"Review {md(r['id'])} — {verdict}")
st.write(
    f"True label **{'positive' if r['label'] else 'negative'}** ({r['rating']}★) · predicted "
    f"**{'positive' if r['pred'] else 'negative'}** with P(positive) = {r['prob_pos']:.3f} · "
    f"{r['n_tokens']} word-pieces{' · truncated' if r['truncated'] else ''}"
)
st.caption(f"Permalink: ?run={md(run.info.name)}&review={md(r['id'])} on this page.")
if tags is not None and selected in tags.index:
    on = [t for t in tag_names if pd.notna(tags.loc[selected, t]) and bool(tags.loc[selected, t])]  # NaN: not computed
    st.write("Tags: " + (", ".join(f"`{t}`" for t in on) if on else "none"))
left, right = st.columns(2)
with left:
    st.write("**Full review**")
    st.html(f'<div style="max-height:420px;overflow:auto;line-height:1.5">{safe_review_html(r["text"])}</div>')
with right:
    st.write("**What the model saw, coloured by attribution**")
    explain_ui.show_attribution(run, r["text"], review_id=r["id"], key="err")
