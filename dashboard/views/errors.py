"""Misclassified reviews: filters, a paged table, detail view with attributions, CSV export, permalinks.

Filters become one :class:`~pipeline.run_query.ErrorFilter`; the count, the page on screen and the export are
queries over the run's parquet, so the page costs the same at 25,000 and at 1,000,000 reviews."""

import tempfile

import streamlit as st

from dashboard import analysis_ui, explain_ui, state
from pipeline.analysis.explain.wrong_side import explained_errors, main_method, wrong_side_tokens
from pipeline.analysis.tags import REGISTRY as TAGS
from pipeline.render import md_escape as md
from pipeline.render import safe_review_html
from pipeline.run_query import ErrorFilter

PAGE_ROWS = 100

st.title("Error analysis")
run = state.current_run()
if run is None:
    st.stop()
analysis_ui.offer_missing_analysis(run, key="errors")
facts = state.ask(run, "summary")
tag_names = [c for c in run.query.tag_columns if c in TAGS]

with st.container(border=True):
    f = st.columns([2, 2, 2, 1, 2])
    kinds = f[0].multiselect(
        "Error type",
        ["FP", "FN"],
        default=["FP", "FN"],
        help="FP: negative review predicted positive; FN: positive predicted negative",
    )
    conf = f[1].slider("Confidence", 0.5, 1.0, (0.5, 1.0), 0.01)
    max_len = max(facts["max_tokens"], 1)
    length = f[2].slider("Length (word-pieces)", 0, max_len, (0, max_len))
    trunc = f[3].selectbox("Truncated", ["any", "yes", "no"])
    rating = f[4].multiselect("Star rating", facts["ratings"], default=[], placeholder="any")
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

flt = ErrorFilter(
    kinds=tuple(kinds),
    confidence=(float(conf[0]), float(conf[1])),
    tokens=None if tuple(length) == (0, max_len) else (int(length[0]), int(length[1])),
    truncated=None if trunc == "any" else trunc == "yes",
    ratings=tuple(int(r) for r in rating),
    search=search.strip(),
    tags=tuple(chosen_tags),
)
if flt.search and not run.query.index_ready:
    st.caption("Indexing this run's texts for fast search (first open only); searching the parquet meanwhile.")
total = state.ask(run, "error_count", flt)
pages = max(1, -(-total // PAGE_ROWS))
pager = st.columns([1, 4])
page = pager[0].number_input(f"Page (of {pages:,})", 1, pages, 1, key=f"error_page_{pages}") if pages > 1 else 1
view = state.ask(run, "errors", flt, PAGE_ROWS, (page - 1) * PAGE_ROWS)
pager[1].caption(
    f"**{total:,}** of {facts['errors']:,} errors match ({facts['n']:,} test reviews); most confident first. "
    f"Rows {(page - 1) * PAGE_ROWS + min(1, len(view)):,}–{(page - 1) * PAGE_ROWS + len(view):,}."
)
cols = ["id", "error_type", "confidence", "prob_pos", "rating", "n_tokens", "truncated", "snippet"] + list(flt.tags)
event = st.dataframe(
    view[cols],
    hide_index=True,
    width="stretch",
    height=320,
    on_select="rerun",
    selection_mode="single-row",
    key=f"error_table_{page}",
    column_config={
        "snippet": st.column_config.TextColumn("review (start)", width="large"),
        "confidence": st.column_config.NumberColumn(format="%.3f"),
        "prob_pos": st.column_config.NumberColumn("P(positive)", format="%.3f"),
    },
)


def export_csv():
    """Written when the button is clicked (not on every rerun), chunk by chunk into a temporary file: memory
    stays bounded by a chunk whatever the number of matching errors."""
    out = tempfile.TemporaryFile(mode="w+b")
    for piece in run.query.export_errors_csv(flt):
        out.write(piece.encode("utf-8"))
    out.seek(0)
    return out


st.download_button(
    f"Download the {total:,} filtered errors (CSV, full texts)",
    export_csv,
    file_name=f"{run.info.name}-errors.csv",
    mime="text/csv",
    disabled=total == 0,
)

if run.explanations is not None and not run.explanations.empty:
    with st.expander("Words that most often push errors to the wrong side (precomputed explanations)"):
        method = main_method(run.explanations)
        agg = wrong_side_tokens(run.explanations, method=method)
        n_err = len(explained_errors(run.explanations, method))
        st.caption(
            f"Across {n_err} errors explained with {md(str(method))}: how many errors have the word among their 5 strongest "
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
if rows and rows[0] < len(view):
    selected = str(view.iloc[rows[0]]["id"])
    st.query_params["review"] = selected
    st.query_params["run"] = run.info.name
elif st.query_params.get("review"):
    selected = st.query_params.get("review")

st.divider()
if selected is None:
    st.info("Click a row to read the full review and see which words pushed the model to its answer.")
    st.stop()
r = state.ask(run, "review", str(selected))
if r is None:
    st.warning(f"Review {md(selected)} is not in run {md(run.info.name)}.")
    st.stop()
verdict = "correct" if r["correct"] else f"misclassified ({r['error_type']})"
st.subheader(f"Review {md(r['id'])} — {verdict}")
st.write(
    f"True label **{'positive' if r['label'] else 'negative'}** ({r['rating']}★) · predicted "
    f"**{'positive' if r['pred'] else 'negative'}** with P(positive) = {r['prob_pos']:.3f} · "
    f"{r['n_tokens']} word-pieces{' · truncated' if r['truncated'] else ''}"
)
st.caption(f"Permalink: ?run={md(run.info.name)}&review={md(r['id'])} on this page.")
if tag_names:
    on = [t for t in state.ask(run, "tags_of", str(selected)) if t in tag_names]  # not computed for it: none
    st.write("Tags: " + (", ".join(f"`{t}`" for t in on) if on else "none"))
left, right = st.columns(2)
with left:
    st.write("**Full review**")
    st.html(f'<div style="max-height:420px;overflow:auto;line-height:1.5">{safe_review_html(r["text"])}</div>')
with right:
    st.write("**What the model saw, coloured by attribution**")
    explain_ui.show_attribution(run, r["text"], review_id=r["id"], key="err")
