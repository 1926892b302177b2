"""Attribution widgets shared by the error-analysis and live-inference pages."""

from __future__ import annotations

import json

import streamlit as st

from dashboard import state
from pipeline.analysis.explain import METHODS, Attribution, Explainer, methods_for
from pipeline.analysis.explain.methods import LIVE_BUDGET_SECONDS, best_method, faithfulness_label, measured
from pipeline.classifiers import run_kind
from pipeline.render import attribution_html
from pipeline.render import md_escape as md


def method_label(name: str) -> str:
    """The picker's label: name and measured cost (faithfulness goes in the caption below the picker)."""
    m, row = METHODS[name], measured().get(name)
    return f"{m.label} ({row['seconds_p50']:.1f} s)" if row else f"{m.label} ({m.cost})"


def run_methods(run) -> list[str]:
    """The attribution methods this run's model supports (known from its kind, before loading it)."""
    return methods_for(run_kind(run.path).capabilities)


def live_default(run) -> str:
    """The most faithful method (measured comprehensiveness) within the interactive budget."""
    return best_method(run_kind(run.path).capabilities, LIVE_BUDGET_SECONDS)


def methods_caption(options: list[str]) -> str:
    """One line per method: what it is good for and its measured faithfulness and cost (markdown, escaped)."""
    lines = []
    for name in options:
        m, measured = METHODS[name], faithfulness_label(name)
        parts = [f"**{md(m.label)}**", md(m.use) if m.use else "", md(measured) if measured else "not measured"]
        lines.append(" — ".join(p for p in parts if p))
    return "  \n".join(lines)


@st.cache_resource(show_spinner=False, max_entries=8)
def _explainer(path: str, stamp: float, method: str) -> Explainer:
    return Explainer(state.classifier(path, stamp), method)


@st.cache_data(show_spinner=False, max_entries=512)
def explain_cached(path: str, stamp: float, method: str, text: str) -> dict:
    """One explanation, cached per (run, method, text) for every session of this server."""
    return _explainer(path, stamp, method)([text])[0].to_dict()


def precomputed(run, review_id: str) -> Attribution | None:
    ex = run.explanations
    if ex is None or "id" not in ex.columns:
        return None
    rows = ex[ex["id"] == review_id]
    if rows.empty:
        return None
    r = rows.iloc[0]
    return Attribution(
        list(r["tokens"]),
        [float(s) for s in r["scores"]],
        float(r["base_value"]),
        float(r["prob_pos"]),
        str(r["method"]),
        json.loads(r["settings"]),
        str(r["units"]),
        None if r["completeness_gap"] != r["completeness_gap"] else float(r["completeness_gap"]),
        float(r["seconds"]),
        bool(r["truncated"]),
    )


def show_attribution(run, text: str, review_id: str | None = None, key: str = "attr") -> Attribution | None:
    """Precomputed attribution when the run has one for ``review_id``, else a method picker + compute."""
    pre = precomputed(run, review_id) if review_id is not None else None
    options = run_methods(run)
    choices = (["precomputed"] if pre is not None else []) + options
    method = st.radio(
        "Attribution method",
        choices,
        index=0 if pre is not None else choices.index(live_default(run)),
        horizontal=True,
        key=f"{key}_method",
        format_func=lambda m: f"precomputed ({pre.method})" if m == "precomputed" else method_label(m),
        help="Faithfulness: ERASER comprehensiveness (AOPC over 1–50 % of words; higher = the words it names matter "
        "more to the model), measured on 100 median-length test reviews of a MiniLM run (benchmarks/faithfulness.py).",
    )
    st.caption(methods_caption(options))
    if method == "precomputed":
        attr = pre
    else:
        try:
            with st.spinner(f"Computing {method_label(method)}…"):
                stamp = state.model_stamp(run.path)
                attr = Attribution(**explain_cached(str(run.path), stamp, method, text))
        except Exception as exc:
            st.error(f"Could not compute attributions: {type(exc).__name__}: {md(exc)}")
            return None
    st.html(attribution_html(attr))
    extra = [f"computed in {attr.seconds:.2f} s"]
    if attr.method == "shap" and attr.settings.get("precision") == "int8" and attr.completeness_gap is not None:
        # the scores add up to the int8 copy's output; the probability shown is the float32 model's
        extra.append(f"int8 copy differs from the model by {attr.completeness_gap:.4f} probability")
    elif attr.completeness_gap is not None:
        extra.append(f"completeness gap {attr.completeness_gap:.4f} {attr.units}")
    st.caption(" · ".join(extra) + f" · settings {attr.settings}")
    cols = st.columns(2)
    cols[0].write("**Pushes toward positive**")
    cols[0].dataframe(
        [{"token": t, "score": round(s, 4)} for t, s in attr.merged_words().top(8, 1)], hide_index=True, width="stretch"
    )
    cols[1].write("**Pushes toward negative**")
    cols[1].dataframe(
        [{"token": t, "score": round(s, 4)} for t, s in attr.merged_words().top(8, -1)],
        hide_index=True,
        width="stretch",
    )
    return attr
