"""Entry point: ``streamlit run dashboard/Home.py``. Builds the navigation and the shared run picker."""

from pathlib import Path

import streamlit as st

from dashboard import state

st.set_page_config(page_title="IMDB BERT error analysis", page_icon=":material/movie:", layout="wide")

VIEWS = Path(__file__).resolve().parent / "views"
pages = [
    st.Page(VIEWS / "overview.py", title="Overview", icon=":material/home:", default=True, url_path="overview"),
    st.Page(VIEWS / "metrics.py", title="Confusion matrix & metrics", icon=":material/grid_on:", url_path="metrics"),
    st.Page(VIEWS / "errors.py", title="Error analysis", icon=":material/search:", url_path="errors"),
    st.Page(VIEWS / "live.py", title="Live inference", icon=":material/keyboard:", url_path="live"),
    st.Page(VIEWS / "behavior.py", title="Error tags & behavior", icon=":material/science:", url_path="behavior"),
    st.Page(VIEWS / "robustness.py", title="Robustness", icon=":material/shield:", url_path="robustness"),
]
nav = st.navigation(pages)
state.sidebar_picker()
nav.run()
