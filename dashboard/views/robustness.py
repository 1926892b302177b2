"""Robustness on public challenge sets: every set/test with its 95 % CI (and the comparison run's), CheckList
failure rates per capability with each failing test's worst cases, and a viewer for CAD pairs."""

import html
import shlex

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import explain_ui, state
from pipeline.analysis.challenge import cad_pairs
from pipeline.render import md_escape as md
from pipeline.render import word_diff_html

st.title("Robustness on challenge sets")
run = state.current_run()
if run is None:
    st.stop()

stats = run.challenge_stats
if not stats or not stats.get("sets"):
    st.info("This run has no challenge-set results yet. Score them (a few minutes on a laptop) with:")
    st.code(f"python -m pipeline challenge --run {shlex.quote(run.info.name)}", language="bash")
    st.stop()

cmp = state.compare_run()
cmp_stats = (cmp.challenge_stats or {}) if cmp is not None else {}
sets = stats["sets"]
ok = {k: v for k, v in sets.items() if v.get("status") == "ok"}
max_per_test = next((v.get("settings", {}).get("max_per_test") for k, v in ok.items() if k == "checklist"), None)

st.caption(
    "Everything else in this dashboard is measured on IMDB test reviews; these sets were written elsewhere, by "
    "other people. Scored with the run's float32 model, P(positive) ≥ 0.5 = positive; 95 % Wilson intervals."
    + (f" CheckList: a seeded sample of at most **{max_per_test}** cases per test." if max_per_test else "")
)
for name, s in sets.items():
    if s.get("status") != "ok":
        st.caption(f"Skipped **{md(name)}**: {md(s.get('reason', ''))}")
if "cad" in ok:
    st.warning(f"CAD: {md(ok['cad'].get('leakage') or ok['cad'].get('note', ''))}", icon=":material/warning:")


def rows_of(all_stats: dict) -> pd.DataFrame:
    """One row per (set, test, metric), CheckList capabilities included."""
    out = []
    for s in all_stats.get("sets", {}).values():
        if s.get("status") == "ok":
            out += s.get("tests", []) + s.get("capabilities", [])
    cols = ["set", "test", "metric", "type", "n", "value", "lo", "hi", "higher_is_better", "description"]
    return pd.DataFrame(out, columns=cols) if out else pd.DataFrame(columns=cols)


table = rows_of(stats)
key = ["set", "test", "metric"]
if cmp is not None:
    other = rows_of(cmp_stats)[key + ["n", "value", "lo", "hi"]].rename(
        columns={"n": "n (cmp)", "value": "value (cmp)", "lo": "lo (cmp)", "hi": "hi (cmp)"}
    )
    table = table.merge(other, on=key, how="left")
    table["Δ"] = table["value"] - table["value (cmp)"]
    if other.empty:
        st.info(f"The comparison run **{md(cmp.info.name)}** has no challenge results; add them with:")
        st.code(f"python -m pipeline challenge --run {shlex.quote(cmp.info.name)}", language="bash")


def bar_chart(df: pd.DataFrame, title: str) -> go.Figure:
    """Horizontal bars with 95 % CI error bars, one trace per run."""
    labels = (df["set"] + " · " + df["test"] + " · " + df["metric"]).tolist()
    fig = go.Figure()
    traces = [(run.info.name, "", "#2563eb")]
    if cmp is not None and "value (cmp)" in df and df["value (cmp)"].notna().any():
        traces.append((cmp.info.name, " (cmp)", "#f59e0b"))
    for name, suffix, colour in traces:
        v, lo, hi = (df[c + suffix].astype(float) for c in ("value", "lo", "hi"))
        fig.add_trace(
            go.Bar(
                x=v,
                y=labels,
                orientation="h",
                name=name,
                marker_color=colour,
                error_x=dict(type="data", symmetric=False, array=hi - v, arrayminus=v - lo),
                hovertemplate="%{y}: %{x:.1%}<extra>" + html.escape(name) + "</extra>",
            )
        )
    fig.update_layout(
        title=title,
        barmode="group",
        xaxis=dict(range=[0, 1], tickformat=".0%"),
        yaxis=dict(autorange="reversed"),
        height=90 + 26 * len(df) * len(traces),
        margin=dict(l=10, r=10, t=40, b=10),
        legend=dict(orientation="h", y=-0.08),
    )
    return fig


st.subheader("Every set and test")
higher = table[(table["higher_is_better"] == True) & (table["set"] != "checklist")]  # noqa: E712 — None = neither
if not higher.empty:
    st.plotly_chart(bar_chart(higher, "Accuracy and agreement (higher is better)"), width="stretch")
caps = table[(table["set"] == "checklist") & table["test"].str.startswith("capability: ")]
if not caps.empty:
    st.plotly_chart(bar_chart(caps, "CheckList failure rate per capability (lower is better)"), width="stretch")
pct = st.column_config.NumberColumn(format="percent")
st.dataframe(
    table.drop(columns=["higher_is_better"]),
    hide_index=True,
    width="stretch",
    column_config={c: pct for c in ("value", "lo", "hi", "value (cmp)", "lo (cmp)", "hi (cmp)", "Δ")},
)
with st.expander("What each set measures, sources and licenses"):
    for name, s in sets.items():
        secs = f" · scored in {s['score_seconds']:.1f} s" if "score_seconds" in s else ""
        st.markdown(
            f"**{md(s.get('title', name))}** ({md(s.get('citation', ''))}; {md(s.get('license', ''))}){md(secs)}  \n"
            f"{md(s.get('measures', ''))}  \n*{md(s.get('note', ''))}*"
        )

# ---------------------------------------------------------------- CheckList: failing tests → worst cases
frame = run.challenge
if "checklist" in ok and frame is not None:
    st.subheader("CheckList: failing tests and their worst cases")
    tests = pd.DataFrame(ok["checklist"]["tests"]).sort_values("value", ascending=False)
    failing = tests[tests["k"] > 0]
    if failing.empty:
        st.success("No CheckList test has a failing case.")
    else:
        names = failing["test"].tolist()
        wanted = st.query_params.get("checklist_test")
        pick = st.selectbox(
            "Open the worst cases of a failing test",
            names,
            index=names.index(wanted) if wanted in names else 0,
            format_func=lambda t: f"{t} — {failing.set_index('test').loc[t, 'value']:.0%} fail",
            key="checklist_test",
        )
        row = failing.set_index("test").loc[pick]
        st.caption(f"{md(row['type'])} · {md(row['capability'])} · rule: {md(row['description'])}")
        rows = frame[(frame["set"] == "checklist") & (frame["test"] == pick) & (frame["passed"] == False)]  # noqa: E712
        if row["type"] == "MFT":
            worst = rows.sort_values("badness", ascending=False)[["text", "label", "prob_pos"]]
        else:  # the case's unperturbed text beside its worst variant
            orig = rows[rows["variant"] == "0"].set_index("pair_id")
            var = rows[rows["variant"] != "0"].sort_values("badness", ascending=False).drop_duplicates("pair_id")
            worst = pd.DataFrame(
                {
                    "text": orig.loc[var["pair_id"], "text"].to_numpy(),
                    "P(pos)": orig.loc[var["pair_id"], "prob_pos"].to_numpy(),
                    "worst variant": var["text"].to_numpy(),
                    "P(pos) variant": var["prob_pos"].to_numpy(),
                    "how far off": var["badness"].to_numpy(),
                }
            )
        st.dataframe(worst.head(20), hide_index=True, width="stretch")

# ---------------------------------------------------------------- CAD pair viewer
if "cad" in ok and frame is not None:
    st.subheader("CAD pairs: original vs counterfactual")
    pairs = cad_pairs(frame[frame["set"] == "cad"])
    c1, c2 = st.columns(2)
    outcome = c1.selectbox(
        "Prediction", ["all", "flipped correctly", "not flipped", "flipped the wrong way"], key="cad_outcome"
    )
    consistency = c2.selectbox("Consistency", ["all", "both sides right", "a side wrong"], key="cad_consistency")
    sel = pairs
    if outcome == "not flipped":
        sel = sel[~sel["pred_changed"]]
    elif outcome != "all":
        sel = sel[sel["outcome"] == outcome]
    if consistency != "all":
        sel = sel[sel["consistent"] == (consistency == "both sides right")]
    # the pairs whose prediction moved least first; the revisions that left the text unchanged last
    sel = sel.assign(abs_delta=sel["delta"].abs()).sort_values(["identical", "abs_delta"])
    st.caption(
        f"**{len(sel):,}** of {len(pairs):,} pairs · mean |Δ P(positive)| "
        f"{pairs['delta'].abs().mean():.3f} · smallest change in P(positive) first · "
        "removed words struck through in red, added words in green"
    )
    if sel.empty:
        st.info("No pair matches these filters.")
    else:
        ids = sel["pair_id"].tolist()
        pid = st.selectbox(
            "Pair",
            ids,
            key="cad_pair",
            format_func=lambda i: f"{i} · Δ P(pos) {sel.set_index('pair_id').loc[i, 'delta']:+.3f}",
        )
        p = sel.set_index("pair_id").loc[pid]
        if p["identical"]:
            st.warning("The revision left this review unchanged, so one of its two labels is wrong (CAD label noise).")
        left, right = word_diff_html(p["text_o"], p["text_c"])
        lab = {0: "negative", 1: "positive"}
        cols = st.columns(2)
        for col, side, body, suffix in ((cols[0], "Original (seen in training by a full-IMDB model)", left, "o"),
                                        (cols[1], "Counterfactual (unseen)", right, "c")):  # fmt: skip
            with col:
                right_ = p[f"right_{suffix}"]
                st.markdown(f"**{side}**")
                st.caption(
                    f"label **{lab[int(p[f'label_{suffix}'])]}** · P(positive) **{p[f'prob_{suffix}']:.3f}** · "
                    f"predicted {lab[int(p[f'pred_{suffix}'])]} · {'right' if right_ else 'WRONG'}"
                )
                st.html(body)
        if st.toggle("Attributions on both sides", value=True, key="cad_attr"):
            a1, a2 = st.columns(2)
            with a1:
                explain_ui.show_attribution(run, p["text_o"], key="cad_o")
            with a2:
                explain_ui.show_attribution(run, p["text_c"], key="cad_c")
