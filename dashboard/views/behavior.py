"""Where the model fails by error tag (lift), and CheckList-style behavioural tests."""

import shlex

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import analysis_ui, state

st.title("Error tags & behavioral tests")
run = state.current_run()
if run is None:
    st.stop()
analysis_ui.offer_missing_analysis(run, key="behavior")

st.subheader("Where the model fails, by tag")
stats = (run.tag_stats or {}).get("tags")
if not stats:
    st.info("This run has no error tags yet: **Compute missing analysis** above adds them, or the command line:")
    st.code(f"python -m pipeline tag --run {shlex.quote(run.info.name)}", language="bash")
else:
    df = pd.DataFrame(stats).dropna(subset=["lift"]).sort_values("lift")
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
            marker_color=["#dc2626" if v > 1 else "#2563eb" for v in df["lift"]],
        )
    )
    fig.add_vline(x=1.0, line_dash="dot", annotation_text="average")
    fig.update_layout(
        xaxis_title="error rate / overall error rate (95 % CI)",
        height=60 + 34 * len(df),
        margin=dict(l=10, r=10, t=10, b=10),
    )
    st.plotly_chart(fig, width="stretch")
    show = df.sort_values("lift", ascending=False)[
        ["tag", "support", "evaluated", "error_rate", "lift", "lift_lo", "lift_hi", "description"]
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
    tag = st.selectbox("Open the errors of a tag", show["tag"].tolist(), index=None, placeholder="choose a tag…")
    if tag:
        st.query_params["tag"] = tag
        st.switch_page("views/errors.py", query_params={"tag": tag, "run": run.info.name})

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
