"""Data loaders on files the tests write: parquet folder, aclImdb tree, CSV/JSONL pairs, malformed inputs."""

import pandas as pd
import pytest

from pipeline.data import DataError, load_raw, load_splits
from pipeline.inputs import parse_reviews
from pipeline.text import clean_text

REVIEWS = [
    ("A moving, beautifully acted film.<br /><br />Loved it.", 1, 9),
    ("Dull and far too long. I &amp; my wife left early.", 0, 2),
    ("Not bad at all, never boring.", 1, 7),
    ("The worst script I have read in years.", 0, 1),
]


def frame(n_copies: int = 5) -> pd.DataFrame:
    rows = [
        {"id": f"x/{i}_{k}", "text": t, "label": y, "rating": r}
        for k in range(n_copies)
        for i, (t, y, r) in enumerate(REVIEWS)
    ]
    return pd.DataFrame(rows)


def test_clean_text_removes_markup_keeps_words():
    assert clean_text("Great.<br /><br />Really <i>great</i> &amp; fun") == "Great.\nReally great & fun"
    assert clean_text("no markup") == "no markup"


def test_parquet_folder(tmp_path):
    frame().to_parquet(tmp_path / "train.parquet")
    frame(2).to_parquet(tmp_path / "test.parquet")
    frames, src = load_raw(str(tmp_path))
    assert len(frames["train"]) == 20 and len(frames["test"]) == 8
    assert list(frames["train"].columns) == ["id", "text", "label", "rating"]
    assert frames["train"]["text"].iloc[0].startswith("A moving, beautifully acted film.<br />")  # raw kept


def test_aclimdb_tree(tmp_path):
    root = tmp_path / "aclImdb"
    for split in ("train", "test"):
        for pol, (t, r) in (("pos", ("Wonderful!", 8)), ("neg", ("Terrible.", 3))):
            d = root / split / pol
            d.mkdir(parents=True)
            for i in range(3):
                (d / f"{i}_{r}.txt").write_text(f"{t} #{i}", encoding="utf-8")
    frames, _ = load_raw(str(tmp_path))  # parent of aclImdb/ works too
    tr = frames["train"]
    assert len(tr) == 6 and set(tr["label"]) == {0, 1}
    assert set(tr.loc[tr["label"] == 1, "rating"]) == {8}
    assert tr["id"].str.startswith("train/").all()


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_file_pair(tmp_path, suffix):
    for split, n in (("train", 5), ("test", 2)):
        df = frame(n).drop(columns=["id", "rating"])
        p = tmp_path / f"{split}.{suffix}"
        df.to_csv(p, index=False) if suffix == "csv" else df.to_json(p, orient="records", lines=True)
    frames, _ = load_raw(f"{tmp_path}/train.{suffix},{tmp_path}/test.{suffix}")
    assert len(frames["train"]) == 20 and (frames["test"]["rating"] == -1).all()
    assert frames["test"]["id"].iloc[0] == "test/0"


def test_empty_texts_dropped_with_warning(tmp_path, caplog):
    df = frame()
    df.loc[0, "text"] = "   "
    df.to_parquet(tmp_path / "train.parquet")
    frame().to_parquet(tmp_path / "test.parquet")
    frames, _ = load_raw(str(tmp_path))
    assert len(frames["train"]) == 19
    assert "dropped 1 empty train texts" in caplog.text


def test_bad_labels_and_missing_columns(tmp_path):
    bad = frame()
    bad.loc[3, "label"] = 5
    bad.to_parquet(tmp_path / "train.parquet")
    frame().to_parquet(tmp_path / "test.parquet")
    with pytest.raises(DataError, match="not 0/1"):
        load_raw(str(tmp_path))
    frame().drop(columns=["label"]).to_parquet(tmp_path / "train.parquet")
    with pytest.raises(DataError, match="needs columns 'text' and 'label'"):
        load_raw(str(tmp_path))


def test_unreadable_and_missing_sources(tmp_path):
    (tmp_path / "train.parquet").write_bytes(b"not a parquet file")
    (tmp_path / "test.parquet").write_bytes(b"nor this")
    with pytest.raises(DataError, match="cannot read"):
        load_raw(str(tmp_path))
    with pytest.raises(DataError, match="data folder not found"):
        load_raw(str(tmp_path / "nope"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="expected train.parquet"):
        load_raw(str(empty))


def test_hub_unreachable_says_how_to_use_local_files(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.delenv("IMDB_DATA", raising=False)
    with pytest.raises(DataError, match="IMDB_DATA"):
        load_raw("hub")


def test_splits_are_stratified_seeded_and_disjoint(imdb_dir):
    a = load_splits(str(imdb_dir), 1000, 200, 0.1, seed=7)
    b = load_splits(str(imdb_dir), 1000, 200, 0.1, seed=7)
    assert len(a.train) == 900 and len(a.val) == 100 and len(a.test) == 200
    assert a.val["label"].mean() == 0.5 and a.test["label"].mean() == 0.5
    assert set(a.train["id"]).isdisjoint(a.val["id"])
    assert a.fingerprint() == b.fingerprint()
    assert load_splits(str(imdb_dir), 1000, 200, 0.1, seed=8).fingerprint()["val"] != a.fingerprint()["val"]


def test_parse_reviews_rejects_bad_uploads():
    with pytest.raises(DataError, match="not UTF-8"):
        parse_reviews("caf\xe9 review".encode("latin-1"), "r.txt")
    with pytest.raises(DataError, match="looks binary"):
        parse_reviews(b"\x00\x01\x02PK", "r.csv")
    with pytest.raises(DataError, match="no text column"):
        parse_reviews(b"a,b\n1,2\n", "r.csv")
    with pytest.raises(DataError, match="empty"):
        parse_reviews(b"", "r.csv")
    with pytest.raises(DataError, match="no non-empty reviews"):
        parse_reviews(b"\n  \n", "r.txt")
    with pytest.raises(DataError, match="unsupported file type"):
        parse_reviews(b"x", "r.exe")
    df = parse_reviews('review,stars\n"Great 🎬 film, <script>x</script>",5\n'.encode(), "r.csv")
    assert df["text"].tolist() == ["Great 🎬 film, <script>x</script>"] and "stars" in df.columns


def test_review_exports_text_columns_are_found_by_their_common_names():
    """'Review Text', Amazon's review_body and reviewText are the review; matched without case, spaces or '_';
    the first name of TEXT_COLUMNS wins when a file has two; the error names every accepted column."""
    for header in ("Review Text", "review_body", "reviewText", "BODY"):
        df = parse_reviews(f'{header},stars\n"Broke in a week, as expected",1\n'.encode(), "r.csv")
        assert df["text"].tolist() == ["Broke in a week, as expected"], header
    df = parse_reviews(b"review_body,text\nthe body,the text\n", "r.csv")
    assert df["text"].tolist() == ["the text"]
    with pytest.raises(DataError, match="'review_body'"):
        parse_reviews(b"title,score\nx,1\n", "r.csv")


def test_a_tab_separated_export_reads_whole_and_in_chunks_alike(tmp_path):
    """Review dumps often come as TSV (commas inside reviews, tabs between fields): read whole or streamed, the same
    reviews, ids and columns."""
    from pipeline.inputs import iter_reviews_file, read_reviews_file

    rows = ["Great, if you like waiting.\t1", "Works, and well.\t5", "\t3", "Fine, I guess.\t3"]
    (tmp_path / "r.tsv").write_text("review_body\tstar_rating\n" + "\n".join(rows) + "\n")
    whole = read_reviews_file(tmp_path / "r.tsv")
    assert whole["text"].tolist() == ["Great, if you like waiting.", "Works, and well.", "Fine, I guess."]
    assert whole["star_rating"].tolist() == [1, 5, 3] and whole["id"].tolist() == ["0", "1", "2"]
    chunks = pd.concat([df for _, df in iter_reviews_file(tmp_path / "r.tsv", chunk_rows=2)], ignore_index=True)
    pd.testing.assert_frame_equal(chunks, whole)


def test_training_files_with_word_labels_and_semicolons(tmp_path):
    """A train/test pair as spreadsheets export it: 'positive'/'negative' labels, ';' between columns."""
    words = frame().assign(label=lambda d: d["label"].map({1: " Positive", 0: "neg"}))
    words.to_csv(tmp_path / "train.csv", index=False, sep=";")
    frame().to_csv(tmp_path / "test.csv", index=False)
    frames, _ = load_raw(f"{tmp_path / 'train.csv'},{tmp_path / 'test.csv'}")
    assert frames["train"]["label"].tolist() == frame()["label"].tolist()
    assert frames["train"]["text"].tolist() == frame()["text"].tolist()
    words.assign(label="maybe").to_csv(tmp_path / "train.csv", index=False)
    with pytest.raises(DataError, match=r"20 train labels are not 0/1 or positive/negative \(e.g. \['maybe'\]\)"):
        load_raw(f"{tmp_path / 'train.csv'},{tmp_path / 'test.csv'}")
