"""Behavioural tests (CheckList-style) and where the model fails by error tag."""
import pandas as pd
import plotly.express as px
import streamlit as st

import state

st.title("Behavioral tests & error tags")
run = state.current_run()
if run is None:
    st.stop()

tags = run.metrics.get("tags") or (run.behavior or {}).get("tags")
st.subheader("Where the model fails, by tag")
if not run.tags is not None and not tags:
    st.info("This run has no error tags yet. Add them with `python -m pipeline tag --run "
            f"{run.info.name}`.")
elif tags:
    df = pd.DataFrame(tags).sort_values("lift", ascending=True)
    fig = px.bar(df, x="lift", y="tag", orientation="h", error_x=df["lift_hi"] - df["lift"],
                 error_x_minus=df["lift"] - df["lift_lo"], hover_data=["support", "error_rate"], height=420)
    fig.add_vline(x=1.0, line_dash="dot")
    st.plotly_chart(fig, width="stretch")

st.subheader("Behavioral tests")
if not run.behavior:
    st.info("No behavioral test results in this run. Run them with `python -m pipeline behave --run "
            f"{run.info.name}`.")
else:
    rows = [{"test": t["name"], "type": t["type"], "cases": t["cases"], "failure rate": t["failure_rate"]}
            for t in run.behavior.get("tests", [])]
    st.dataframe(rows, hide_index=True, width="stretch")
