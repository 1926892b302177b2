"""Live inference: type or pick a review → prediction, latency, attributions, what-if variants; batch upload."""

import time

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import explain_ui, state
from pipeline.analysis.perturb import variants
from pipeline.errors import DataError
from pipeline.inputs import UPLOAD_LIMITS, has_text, parse_reviews, restore_text_column
from pipeline.predict import score_rows
from pipeline.render import csv_safe

BLANK = "empty text: not scored"  # the prediction cell of an uploaded row with no text

EXAMPLES = {
    "(write your own)": "",
    "Sarcastic": "Oh great, another two hours of my life I will never get back. The plot was so 'brilliant' that "
    "I fell asleep twice. Yeah right, best movie of the year.",
    "Mixed": "The cinematography is stunning and the score is beautiful, but the story drags and the ending "
    "made no sense at all. I wanted to love it.",
    "Negation": "This film is not bad at all. I was never bored, and I would not call the acting weak.",
    "Clearly positive": "A wonderful, moving film with superb performances. I loved every minute of it.",
    "Clearly negative": "Dreadful. Wooden acting, a lazy script and jokes that fall flat. Avoid.",
}
LONG_TEXT = 100_000

st.title("Live inference")
run = state.current_run()
if run is None:
    st.stop()
clf = state.get_classifier(run)
if clf is None:
    st.stop()


def score_one(text: str) -> None:
    if not text.strip():
        st.info(
            "Type a review above (or pick an example) to get a prediction."
            if not text
            else "The review is only whitespace: type some words to get a prediction."
        )
        return
    if len(text) > LONG_TEXT:
        st.warning(
            f"This review is {len(text):,} characters. It is scored as the model sees it: "
            f"{run.config.get('truncation', 'head')} truncation to "
            f"{run.config.get('max_length', '?')} tokens."
        )
    t0 = time.perf_counter()
    prob = float(clf.prob_positive([text])[0])
    ms = (time.perf_counter() - t0) * 1000
    lat = st.session_state.setdefault("latencies_ms", [])
    lat.append(ms)
    c = st.columns(4)
    c[0].metric("Prediction", "positive" if prob >= 0.5 else "negative")
    c[1].metric("P(positive)", f"{prob:.3f}")
    c[2].metric("Confidence", f"{max(prob, 1 - prob):.1%}")
    c[3].metric(
        "Latency",
        f"{ms:.0f} ms",
        help=f"model forward incl. tokenization; p50 of this session "
        f"{sorted(lat)[len(lat) // 2]:.0f} ms over {len(lat)} calls",
    )
    st.progress(prob, text=f"negative ← {prob:.3f} → positive")

    st.subheader("Why: token attributions")
    explain_ui.show_attribution(run, text, key="live")

    st.subheader("What if…")
    vs = variants(text[:20_000])
    probs = clf.prob_positive(list(vs.values())) if vs else []
    rows = [
        {"variant": k, "P(positive)": float(p), "change": float(p) - prob, "text": v if len(v) < 300 else v[:300] + "…"}
        for (k, v), p in zip(vs.items(), probs)
    ]
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        width="stretch",
        column_config={
            "P(positive)": st.column_config.ProgressColumn(min_value=0, max_value=1, format="%.3f"),
            "change": st.column_config.NumberColumn(format="%+.3f"),
        },
    )


tab_one, tab_batch = st.tabs(["One review", "Batch (upload a file)"])
with tab_one:
    ex = st.selectbox("Example", list(EXAMPLES), index=1, key="example")
    if st.session_state.get("_last_example") != ex:
        st.session_state["_last_example"] = ex
        st.session_state["review_text"] = EXAMPLES[ex]
    text = st.text_area(
        "Review",
        key="review_text",
        height=150,
        max_chars=UPLOAD_LIMITS.max_text_chars,  # the browser refuses more; the model reads 256 tokens anyway
        placeholder="Type or paste a movie review (any language)…",
    )
    score_one(text)

with tab_batch:
    st.write(
        "Upload a **CSV/TSV/JSONL/Parquet** with a `text` column (or `review`, `review_body`, `Review Text`, … any "
        "case), or a **TXT** with one review per line. Scored with this run's model; download the result."
    )
    up = st.file_uploader("Reviews file", type=["csv", "tsv", "txt", "jsonl", "parquet"], key="batch_file")
    if up is not None:
        # parsed and scored once per (file, run, model): reruns (any widget) show the stored result
        key = (up.file_id, str(run.path), state.model_stamp(run.path))
        done = st.session_state.get("batch_result")
        if done is None or done[0] != key:
            try:
                # every row comes back in its place; rows with no text are listed, not scored
                df = parse_reviews(up.getvalue(), up.name, UPLOAD_LIMITS, keep_empty=True)
            except DataError as exc:
                st.session_state["batch_result"] = (key, None, str(exc), 0.0)
            else:
                n = int(has_text(df["text"]).sum())
                bar = st.progress(0.0, text="scoring…")
                t0 = time.perf_counter()
                df["prob_pos"] = score_rows(
                    clf, df, 64, on_batch=lambda k: bar.progress(k / n, text=f"scoring… {k:,}/{n:,}")
                )
                bar.empty()
                df["prediction"] = np.select(
                    [df["prob_pos"].isna(), df["prob_pos"] >= 0.5], [BLANK, "positive"], "negative"
                )
                df = restore_text_column(df)  # the file's own name for its text column, as uploaded
                st.session_state["batch_result"] = (key, df, None, time.perf_counter() - t0)
        _, df, error, seconds = st.session_state["batch_result"]
        if error:
            st.error(error)
        else:
            if df.attrs.get("rows_dropped"):
                st.warning(
                    f"The file has more than {UPLOAD_LIMITS.max_rows:,} reviews: the first {UPLOAD_LIMITS.max_rows:,} "
                    "were scored here. Score the whole file with: python -m pipeline predict --run RUN --input FILE"
                )
            blank = int((df["prediction"] == BLANK).sum())
            st.success(
                f"Scored {len(df) - blank:,} reviews in {seconds:.1f} s."
                + (f" {blank:,} rows have no text: listed, not scored." if blank else "")
            )
            st.dataframe(df, hide_index=True, width="stretch")
            st.download_button("Download scored CSV", csv_safe(df), file_name="scored.csv", mime="text/csv")
