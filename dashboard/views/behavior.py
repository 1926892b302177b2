"""Where the model fails by error tag (lift), and CheckList-style behavioural tests."""

import shlex

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import analysis_ui, state
from pipeline.analysis.tags import REGISTRY as TAGS
from pipeline.analysis.tags.base import validation_records

st.title("Error tags & behavioral tests")
run = state.current_run()
if run is None:
    st.stop()
analysis_ui.offer_missing_analysis(run, key="behavior")


def validation_summary(recs: list[dict]) -> str:
    """'AUC 0.83 [0.75, 0.90], precision 0.45 / recall 0.60 at the threshold on <data> (n=300)' per record."""
    parts = []
    for r in recs:
        bits = []
        if r.get("roc_auc") is not None:
            ci = r.get("roc_auc_ci95")
            bits.append(f"AUC {r['roc_auc']:.2f}" + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else ""))
        if r.get("precision") is not None:
            bits.append(f"precision {r['precision']:.2f}")
        if r.get("recall") is not None:
            bits.append(f"recall {r['recall']:.2f}")
        parts.append(f"{', '.join(bits)} on {r['data']} (n={r['n']:,}, {r['date']})")
    return " · ".join(parts) or "not validated"


st.subheader("Where the model fails, by tag")
stats = (run.tag_stats or {}).get("tags")
if not stats:
    st.info("This run has no error tags yet: **Compute missing analysis** above adds them, or the command line:")
    st.code(f"python -m pipeline tag --run {shlex.quote(run.info.name)}", language="bash")
else:
    # tags defined on disagreement with the label (label issues, the old suspected_label_noise) are never ranked
    ranked = [r for r in stats if r["tag"] in TAGS and TAGS[r["tag"]].ranked_by_lift]
    df = pd.DataFrame(ranked).dropna(subset=["lift"]).sort_values("lift")
    records = {**validation_records(), **(run.tag_stats or {}).get("validation", {})}
    df["validated"] = df["tag"].map(lambda t: validation_summary(records.get(t, [])))
    fig = go.Figure(
        go.Bar(
            x=df["lift"],
            y=df["tag"],
            orientation="h",
            error_x=dict(
                type="data", symmetric=False, array=df["lift_hi"] - df["lift"], arrayminus=df["lift"] - df["lift_lo"]
            ),
            customdata=df[["support", "error_rate", "description"]],
            hovertemplate="%{y}: lift %{x:.2f}<br>support %{customdata[0]}, error rate %{customdata[1]:.1%}"
            "<br>%{customdata[2]}<extra></extra>",
            # red / blue only where the 95 % interval excludes 1: a tag that does not separate errors stays grey
            marker_color=[
                "#dc2626" if lo > 1 else "#2563eb" if hi < 1 else "#9ca3af"
                for lo, hi in zip(df["lift_lo"], df["lift_hi"])
            ],
        )
    )
    # the label sits above the plot area, where no bar can hide it
    fig.add_vline(x=1.0, line_dash="dot", annotation_text="average", annotation_position="top", annotation_yshift=8)
    fig.update_layout(
        xaxis_title="error rate / overall error rate (95 % CI)",
        height=80 + 34 * len(df),
        margin=dict(l=10, r=10, t=30, b=10),
    )
    st.plotly_chart(fig, width="stretch")
    show = df.sort_values("lift", ascending=False)[
        ["tag", "support", "evaluated", "error_rate", "lift", "lift_lo", "lift_hi", "validated", "description"]
    ]
    st.dataframe(
        show,
        hide_index=True,
        width="stretch",
        column_config={
            "error_rate": st.column_config.NumberColumn(format="%.3f"),
            "lift": st.column_config.NumberColumn(format="%.2f"),
            "lift_lo": st.column_config.NumberColumn(format="%.2f"),
            "lift_hi": st.column_config.NumberColumn(format="%.2f"),
        },
    )
    with st.expander("How far to trust each tag: validation records"):
        for t in show["tag"]:
            st.markdown(f"**{t}**: {state.md(validation_summary(records.get(t, [])))}")
    tag = st.selectbox("Open the errors of a tag", show["tag"].tolist(), index=None, placeholder="choose a tag…")
    if tag:
        st.query_params["tag"] = tag
        st.switch_page("views/errors.py", query_params={"tag": tag, "run": run.info.name})

st.subheader("Likely mislabeled (cleanlab)")
found = state.ask(run, "label_issues", 500)
if found is None:
    st.info("No label-issue scores in this run yet (they come with the tags).")
else:
    issues, n_issues = found
    summary = (run.tag_stats or {}).get("label_issues", {})
    st.caption(
        f"{n_issues:,} of {summary.get('of', state.ask(run, 'summary')['n']):,} test reviews"
        + (f" (the {len(issues):,} most doubtful shown)" if n_issues > len(issues) else "")
        + ": cleanlab's confident learning "
        "doubts the given label (`cleanlab.filter.find_label_issues` on the run's out-of-sample test probabilities). "
        "Sorted by label quality (P(given label)): lowest first. Not ranked by lift: it is defined on disagreement "
        "with the label, so nearly all of them are errors by construction. Read them; check the star rating."
    )
    st.dataframe(
        issues,
        hide_index=True,
        width="stretch",
        column_config={
            "label_quality": st.column_config.NumberColumn(format="%.3f"),
            "prob_pos": st.column_config.NumberColumn("P(positive)", format="%.3f"),
        },
    )

st.subheader("Behavioral tests")
beh = run.behavior
if not beh:
    st.info("No behavioral test results in this run: **Compute missing analysis** above runs them, or:")
    st.code(f"python -m pipeline behave --run {shlex.quote(run.info.name)}", language="bash")
else:
    rows = [
        {
            "test": t["name"],
            "type": t["type"],
            "cases": t["cases"],
            "failures": t["failures"],
            "failure rate": t["failure_rate"],
            "what it checks": t["description"],
        }
        for t in beh["tests"]
    ]
    st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        column_config={"failure rate": st.column_config.ProgressColumn(min_value=0, max_value=1, format="%.3f")},
    )
    for t in beh["tests"]:
        if t["examples"]:
            with st.expander(f"{t['type']} · {t['name']}: worst failing examples"):
                st.dataframe(pd.DataFrame(t["examples"]), hide_index=True, width="stretch")

st.subheader("Try your own case")
with st.form("own_case"):
    text = st.text_input("Sentence or review", max_chars=5000)
    expected = st.radio("Expected label", ["positive", "negative"], horizontal=True)
    submitted = st.form_submit_button("Check")
if submitted:
    if not text.strip():
        st.warning("Type a sentence first.")
    elif (clf := state.get_classifier(run)) is not None:  # loaded only when needed: opening the page stays fast
        p = float(clf.prob_positive([text])[0])
        ok = (p >= 0.5) == (expected == "positive")
        st.session_state.setdefault("own_cases", []).append(
            {"text": text, "expected": expected, "P(positive)": round(p, 4), "result": "pass" if ok else "FAIL"}
        )
if st.session_state.get("own_cases"):
    st.dataframe(pd.DataFrame(st.session_state["own_cases"]), hide_index=True, width="stretch")
