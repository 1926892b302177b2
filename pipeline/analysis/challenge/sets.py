"""The challenge sets: one small loader class per set, registered by name, each turning its files into one
long frame with the same columns (:data:`COLUMNS`), one row per text to score.

The sets are public data kept *beside* the repository (``CHALLENGE_DATA``, else ``../shared/data/challenge``
next to the repository root), never copied into it. Each folder has a ``SOURCE.md`` with license and format;
the loaders read only the files named there. A loader raises :class:`FileNotFoundError` when its files are
absent (the runner turns that into a "skipped" note) and :class:`~pipeline.errors.DataError` when a file lacks
a column.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from ...errors import DataError
from .defaults import DEFAULT_MAX_PER_TEST

# One row per text. ``label``: 0/1 binary label, -1 where the set has none (INV/DIR variants, sarcasm pairs).
# ``pair_id``: the unit that is judged together (a CAD pair, a CheckList case, a sarcasm pair, else the row).
COLUMNS = ("set", "test", "capability", "test_type", "pair_id", "variant", "text", "label", "expectation")
NO_LABEL = -1
REPO_ROOT = Path(__file__).resolve().parents[3]


def default_data_dir() -> Path:
    """``$CHALLENGE_DATA`` if set, else ``<repo>/../shared/data/challenge`` (like ``IMDB_DATA`` in the tests)."""
    return Path(os.environ.get("CHALLENGE_DATA", REPO_ROOT.parent / "shared" / "data" / "challenge"))


def _read_parquet(path: Path, columns: Iterable[str]) -> pd.DataFrame:
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found")
    df = pd.read_parquet(path)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(f"{path.name} lacks columns {missing}")
    return df


def _frame(**cols) -> pd.DataFrame:
    """A frame with exactly :data:`COLUMNS` (scalars broadcast), ``label`` as int8."""
    n = max((len(v) for v in cols.values() if isinstance(v, (list, np.ndarray, pd.Series))), default=0)
    df = pd.DataFrame(
        {c: (cols[c].to_numpy() if isinstance(cols[c], pd.Series) else cols[c]) for c in COLUMNS}, index=range(n)
    )
    df["label"] = df["label"].astype("int8")
    df["variant"] = df["variant"].astype(str)
    return df


class ChallengeSet:
    """Base class. ``load`` returns a frame with :data:`COLUMNS`; ``statistic`` names the function in
    :data:`pipeline.analysis.challenge.score.STATISTICS` that summarises the scored frame."""

    name: ClassVar[str]  # the key used by ``--sets``
    folder: ClassVar[str]  # under the data dir
    title: ClassVar[str]
    citation: ClassVar[str]
    license: ClassVar[str]
    measures: ClassVar[str]  # one sentence: what a good score means
    statistic: ClassVar[str]
    note: ClassVar[str] = ""  # caveat shown on the page and stored in challenge.json

    def __init__(
        self, data_dir: Path | str, split: str = "test", max_per_test: int | None = DEFAULT_MAX_PER_TEST, seed: int = 0
    ):
        self.dir = Path(data_dir) / self.folder
        self.split = split
        self.max_per_test = max_per_test
        self.seed = seed

    def load(self) -> pd.DataFrame:
        raise NotImplementedError

    def describe(self) -> dict:
        return {
            "title": self.title,
            "citation": self.citation,
            "license": self.license,
            "folder": self.folder,
            "measures": self.measures,
            "note": self.note,
        }


SETS: dict[str, type[ChallengeSet]] = {}


def register(cls: type[ChallengeSet]) -> type[ChallengeSet]:
    SETS[cls.name] = cls
    return cls


@register
class CAD(ChallengeSet):
    name = "cad"
    folder = "cad_kaushik2020"
    title = "Counterfactually revised IMDB reviews (CAD)"
    citation = "Kaushik, Hovy & Lipton, ICLR 2020"
    license = "Apache-2.0"
    measures = (
        "Crowd workers minimally edited each review so that its label flips: a model that reads the sentiment "
        "(not the topic or style) gets both sides right."
    )
    note = (
        "The originals are IMDB *train* reviews: a model trained on the full IMDB train split has seen them, so "
        "only the counterfactual side is unseen. Accuracy on originals is shown for reference, never as a gap."
    )
    statistic = "cad"
    SPLITS = ("train", "dev", "test")

    def load(self) -> pd.DataFrame:
        if self.split not in self.SPLITS:
            raise DataError(f"CAD split {self.split!r}: choose one of {', '.join(self.SPLITS)}")
        df = _read_parquet(self.dir / "pairs.parquet", ("pair_id", "split", "variant", "text", "label"))
        df = df[df["split"] == self.split].reset_index(drop=True)
        return _frame(
            set=self.name,
            test=f"cad {self.split}",
            capability="Counterfactual",
            test_type="PAIR",
            pair_id=df["pair_id"].astype(str),
            variant=df["variant"],
            text=df["text"],
            label=df["label"],
            expectation="label",
        )


@register
class CheckList(ChallengeSet):
    """Binary-usable part of the released suite. MFT rows with a neutral label (``label3 == 1``) are dropped,
    and with them the tests that expect neutral only; ``not_negative`` is read as "predict positive" (a binary
    model has no neutral class). INV/DIR cases keep all their variants. At most ``max_per_test`` cases per
    test (seeded sample; ``None`` keeps all)."""

    name = "checklist"
    folder = "checklist_sentiment_ribeiro2020"
    title = "CheckList sentiment suite"
    citation = "Ribeiro, Wu, Guestrin & Singh, ACL 2020"
    license = "MIT"
    measures = (
        "Minimum-functionality tests (MFT, failure = wrong label), invariance (INV, failure = the prediction "
        "changes under a label-preserving edit) and directional expectations (DIR, failure = P(positive) moves "
        "the wrong way by more than the tolerance)."
    )
    note = (
        "Airline-domain templates and tweets (written for airline sentiment, not movie reviews). Neutral MFT rows "
        "are excluded; 'not negative' counts as positive. Cases are a seeded sample of at most max_per_test per "
        "test; a case of INV/DIR fails when any of its variants fails (as in CheckList)."
    )
    statistic = "checklist"

    def load(self) -> pd.DataFrame:
        cols = ("test_name", "capability", "test_type", "case_id", "variant", "text", "label3", "expectation")
        df = _read_parquet(self.dir / "cases.parquet", cols)
        mft = df["test_type"] == "MFT"
        df = df[~(mft & (df["label3"] == 1))]  # neutral: no binary answer
        keep = []
        for test, g in df.groupby("test_name", sort=True):
            cases = np.sort(g["case_id"].unique())
            if self.max_per_test is not None and len(cases) > self.max_per_test:
                # seeded per test: one test's sample does not depend on which other tests exist
                rng = np.random.default_rng([self.seed, zlib.crc32(str(test).encode())])
                cases = np.sort(rng.choice(cases, self.max_per_test, replace=False))
            keep.append(g[g["case_id"].isin(cases)])
        df = pd.concat(keep).sort_values(["test_name", "case_id", "variant"]).reset_index(drop=True)
        label = np.where(
            df["expectation"] == "not_negative",
            1,
            np.where(df["label3"] == 2, 1, np.where(df["label3"] == 0, 0, NO_LABEL)),
        )
        return _frame(
            set=self.name,
            test=df["test_name"],
            capability=df["capability"],
            test_type=df["test_type"],
            pair_id=df["test_name"] + "#" + df["case_id"].astype(str),
            variant=df["variant"],
            text=df["text"],
            label=label,
            expectation=df["expectation"],
        )


@register
class Sarcasm(ChallengeSet):
    name = "isarcasm"
    folder = "isarcasmeval2022"
    title = "iSarcasmEval: sarcastic tweets and their literal rephrase"
    citation = "Abu Farha, Oprea, Wilson & Magdy, SemEval-2022 Task 6"
    license = "MIT (tweets: Twitter terms)"
    measures = (
        "Each sarcastic tweet's author also wrote what they meant literally. Agreement = the model gives the "
        "sarcastic tweet the same polarity as the rephrase, i.e. reads it the way its author meant it."
    )
    note = "No sentiment labels: a label-free consistency test. The rephrases are mostly negative. Tweets, not reviews."
    statistic = "sarcasm"

    def load(self) -> pd.DataFrame:
        df = _read_parquet(
            self.dir / "sarcastic_rephrase_pairs.parquet", ("pair_id", "split", "sarcastic_text", "rephrase")
        )
        n = len(df)
        ids = df["pair_id"].astype(str).to_numpy()
        return _frame(
            set=self.name,
            test="sarcastic vs rephrase",
            capability="Sarcasm",
            test_type="PAIR",
            pair_id=np.repeat(ids, 2),
            variant=np.tile(np.array(["sarcastic", "rephrase"]), n),
            text=np.stack([df["sarcastic_text"].to_numpy(), df["rephrase"].to_numpy()], axis=1).ravel(),
            label=np.full(2 * n, NO_LABEL),
            expectation="same_polarity",
        )


@register
class AdvGLUE(ChallengeSet):
    name = "advglue"
    folder = "advglue_sst2_wang2021"
    title = "AdvGLUE SST-2 (adversarial sentences)"
    citation = "Wang et al., NeurIPS 2021 Datasets & Benchmarks"
    license = "CC BY-SA 4.0"
    measures = "Accuracy on human-validated adversarial perturbations of SST-2 movie-review sentences."
    note = "148 lowercased, tokenized sentences (SST style): wide intervals."
    statistic = "accuracy"

    def load(self) -> pd.DataFrame:
        df = _read_parquet(self.dir / "sst2_dev.parquet", ("idx", "text", "label"))
        return _frame(
            set=self.name,
            test="sst2 dev",
            capability="Domain shift",
            test_type="ACC",
            pair_id="advglue-" + df["idx"].astype(str),
            variant="",
            text=df["text"],
            label=df["label"],
            expectation="label",
        )


@register
class UCI(ChallengeSet):
    name = "uci"
    folder = "uci_sentences_kotzias2015"
    title = "UCI sentiment-labelled sentences"
    citation = "Kotzias, Denil, de Freitas & Smyth, KDD 2015"
    license = "CC BY 4.0 (cite Kotzias et al. 2015)"
    measures = "Accuracy on single sentences: Amazon phone reviews and Yelp restaurant reviews (domain shift)."
    note = "The file's third part, IMDB sentences, is left out: they come from IMDB *test* reviews (not new data)."
    statistic = "accuracy"
    DOMAINS = ("amazon", "yelp")

    def load(self) -> pd.DataFrame:
        df = _read_parquet(self.dir / "sentences.parquet", ("domain", "line", "text", "label"))
        df = df[df["domain"].isin(self.DOMAINS)].reset_index(drop=True)
        return _frame(
            set=self.name,
            test=df["domain"],
            capability="Domain shift",
            test_type="ACC",
            pair_id=df["domain"] + "-" + df["line"].astype(str),
            variant="",
            text=df["text"],
            label=df["label"],
            expectation="label",
        )
