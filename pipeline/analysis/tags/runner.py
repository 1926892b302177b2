"""Run the registered tags: over a run's predictions (``tags.parquet`` + ``tags.json``) or over any reviews file.

python -m pipeline tag --run RUN                                  # the run's test predictions
python -m pipeline tag --run RUN --input FILE --output FILE       # any CSV/TSV/Parquet/JSONL/TXT of reviews
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from ...atomic import atomic_write_json, atomic_write_parquet, atomic_write_text, run_lock
from ...inputs import find_column, has_text, label_numbers, restore_text_column
from ...runs import TAG_STATS, TAGS, load_run
from .base import MODEL, MODEL_COLUMNS, REGISTRY, Tag, TagContext
from .label_issues import LabelIssue
from .lift import lift_table
from .sentiment_label import label_problem

log = logging.getLogger(__name__)


def _check_names(names: list[str] | None) -> list[str]:
    names = names or list(REGISTRY)
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise ValueError(f"unknown tags {unknown}; known: {', '.join(REGISTRY)}")
    return names


def compute_tags(
    ctx: TagContext,
    names: list[str],
    progress: Callable[[int, int], None] | None = None,
    unread: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Tag columns for ``ctx.predictions`` (same index; ``id`` first). A tag is skipped, with a log line, when
    the classifier cannot meet its needs; a tag that reads a data column the frame lacks (``label``,
    ``rating``) gets an all-NA column and ``<tag>_note`` saying what is missing, never a guess. ``unread``: column →
    why the input's column of that name was not read (the note then says that instead).
    ``progress(done, total)`` is called after each tag."""
    unread = unread or {}
    cols = [ctx.predictions[["id"]]]
    for i, n in enumerate(names, 1):
        tag: type[Tag] = REGISTRY[n]
        missing = tag.unmet_needs(ctx.classifier)
        absent = sorted(c for c in tag.reads if c not in ctx.predictions or ctx.predictions[c].isna().all())
        if missing:
            log.info("tag %s skipped: this run's classifier lacks %s", n, ", ".join(sorted(missing)))
        elif absent:
            lacking = [c for c in absent if c not in unread]
            why = ([f"the input has no {' / '.join(lacking)} column"] if lacking else []) + [
                unread[c] for c in absent if c in unread
            ]
            note = "not computed: " + "; ".join(why)
            log.info("tag %s %s", n, note)
            cols.append(pd.DataFrame({n: pd.NA, f"{n}_note": note}, index=ctx.predictions.index))
        else:
            log.info("tag %s", n)
            cols.append(tag().detect(ctx))
        if progress is not None:
            progress(i, len(names))
    tags = pd.concat(cols, axis=1)
    for n in names:
        if n in tags and tags[n].notna().all():
            tags[n] = tags[n].astype(bool)
    return tags


def run_tags(
    run_dir: str | Path,
    names: list[str] | None = None,
    sample: int = 2000,
    seed: int = 0,
    data: str | None = None,
    classifier=None,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Compute tags for a run and write ``tags.parquet`` + ``tags.json`` atomically.

    ``names``: a subset of :data:`REGISTRY` (default all). Model-based tags and ``irony`` (an encoder pass per
    review) score a seeded sample of at most ``sample`` reviews; the others every review. The run's classifier
    is loaded only when a chosen tag needs it; a tag whose needs it cannot meet (e.g. word-pieces on the TF-IDF
    baseline) is skipped with a log line. ``classifier``: the run's, when already loaded. ``progress(done, total)``
    is called after each tag. ``tags.json`` holds the lift table (tags defined on disagreement with
    the label excluded), the label-issue summary and each tag's validation record.
    """
    from ...classifiers import load_classifier
    from ...data import load_raw

    run = load_run(run_dir)
    preds = run.predictions.reset_index(drop=True)
    names = _check_names(names)
    train_texts = None
    try:
        frames, _ = load_raw(data or run.run_json.get("data", {}).get("source"))
        train_texts = frames["train"]["text"]
    except Exception as exc:  # noqa: BLE001 — duplicates against train are then skipped, not fatal
        log.warning("training texts unavailable (%s); 'duplicate' checks the test set only", exc)
    if classifier is None and any(MODEL in REGISTRY[n].needs for n in names):
        classifier = load_classifier(run_dir)
    rng = np.random.default_rng(seed)
    sample_ids = set(preds["id"].to_numpy()[rng.permutation(len(preds))[:sample]])
    ctx = TagContext(preds, classifier, train_texts, int(run.config.get("max_length", 256)), sample_ids)
    tags = compute_tags(ctx, names, progress)
    with run_lock(Path(run_dir), "tagging"):
        atomic_write_parquet(Path(run_dir) / TAGS, tags)
        atomic_write_json(Path(run_dir) / TAG_STATS, tag_summary(tags, preds, names, sample, seed))
    return tags


def tag_summary(tags: pd.DataFrame, preds: pd.DataFrame, names: list[str], sample: int, seed: int) -> dict:
    """``tags.json``: lift per tag, label issues (counted, not ranked), rules and validation records."""
    summary = {
        "sample": sample,
        "seed": seed,
        "tags": lift_table(tags, preds["correct"]),
        "rules": {n: REGISTRY[n].rule for n in names},
        "validation": {n: REGISTRY[n].validation() for n in names if REGISTRY[n].validation()},
    }
    if LabelIssue.name in tags and tags[LabelIssue.name].notna().any():
        issue = tags[LabelIssue.name].fillna(False).astype(bool)
        summary["label_issues"] = {
            "count": int(issue.sum()),
            "of": int(len(issue)),
            "errors_among_them": int((~preds["correct"][issue]).sum()),
            "method": LabelIssue.rule,
        }
    return summary


# a rating's column: ours, then common exports' (Amazon's star_rating and McAuley's overall); not 'score', which is
# as often a model's probability
RATING_COLUMNS = ("rating", "stars", "star_rating", "review_rating", "overall")
LABEL_COLUMNS = ("label", "sentiment")


_RATING_NUMBER = re.compile(r"^\s*(\d+(?:[.,]\d+)?)")


def parse_rating(values: pd.Series) -> pd.Series:
    """Star ratings as numbers, as shops and scrapers write them: 4, '4', '4.0', '4 stars', '4.0 out of 5 stars',
    '4/5' and '★★★★☆' are all 4.0; anything else (empty, 'five') is NaN."""

    def one(v) -> float:
        if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
            return float(v)
        s = "" if v is None else str(v).strip()
        if s and set(s) <= set("★☆ "):
            return float(s.count("★"))
        m = _RATING_NUMBER.match(s)
        return float(m.group(1).replace(",", ".")) if m else np.nan

    return values.map(one).astype(float)


def _file_frame(df: pd.DataFrame) -> pd.DataFrame:
    """An input file as the frame tags read: ``label`` as 0/1 (also 'positive'/'negative') from the first of
    :data:`LABEL_COLUMNS`, ``rating`` from the first of :data:`RATING_COLUMNS` (any case, spaces or '_': 'Stars',
    'star_rating'; '4.0 out of 5 stars', '4/5', '★★★★☆' read as 4); values that are neither become
    NA (the tag then says so, and a warning counts them), nothing is guessed."""
    frame = df[["id", "text"]].copy()
    label = find_column(df.columns, LABEL_COLUMNS)
    if label is not None:
        lab = label_numbers(df[label])
        frame["label"] = lab.where(lab.isin([0, 1]))
        _warn_unread(df[label], frame["label"], label, "0/1 or positive/negative")
    rating = find_column(df.columns, RATING_COLUMNS)
    if rating is not None:
        frame["rating"] = parse_rating(df[rating])
        _warn_unread(df[rating], frame["rating"], rating, "a number of stars")
    return frame


def _sentiment_label_only(frame: pd.DataFrame, column: str | None) -> tuple[pd.DataFrame, dict[str, str]]:
    """The frame without its ``label`` (and ``correct``) when :func:`.sentiment_label.label_problem` finds it is no
    sentiment label, with a warning and the reason for the tags' notes; else the frame as it is."""
    why = label_problem(frame)
    if why is None:
        return frame, {}
    reason = f"the {column} column is not read as a sentiment label: {why}"
    log.warning(
        "%s; tags that need a sentiment label say so, and irony reads the polarity from the stars if any", reason
    )
    return frame.drop(columns=["label", "correct"], errors="ignore"), {"label": reason}


def _warn_unread(raw: pd.Series, read: pd.Series, name: str, want: str) -> None:
    """Say how many non-empty values of an input column could not be read (those rows go without it)."""
    bad = raw.notna() & (raw.astype(str).str.strip() != "") & read.isna()
    if bad.any():
        examples = ", ".join(repr(v) for v in raw[bad].astype(str).unique()[:3])
        log.warning(
            "column %s: %d of %d values are not %s (e.g. %s); those rows are tagged without it",
            name,
            int(bad.sum()),
            len(raw),
            want,
            examples,
        )


def _score_frame(frame: pd.DataFrame, clf, batch: int = 64) -> None:
    """Add the model columns (:data:`MODEL_COLUMNS`) in place: P(positive), prediction, length facts."""
    from tqdm.auto import tqdm

    from ...classifiers import score_texts
    from ...classifiers.base import TOKENIZER
    from ...tokens import encode

    texts = frame["text"].tolist()
    with tqdm(total=len(texts), desc="scoring", unit="review") as bar:
        prob = score_texts(clf, texts, batch, on_batch=lambda done: bar.update(done - bar.n))
    frame["prob_pos"] = prob
    frame["pred"] = (prob >= 0.5).astype("int8")
    frame["confidence"] = np.maximum(prob, 1 - prob)
    if TOKENIZER in clf.capabilities:
        enc = encode(texts, clf.tokenizer, clf.truncation)
        frame["n_tokens"], frame["truncated"] = enc.n_tokens, enc.truncated
    else:
        frame["n_tokens"], frame["truncated"] = frame["text"].str.split().str.len(), False
    if "label" in frame:
        frame["correct"] = (frame["pred"] == frame["label"]).where(frame["label"].notna())


def tag_file(
    run_dir: str | Path,
    input_path: str | Path,
    output_path: str | Path,
    names: list[str] | None = None,
    classifier=None,
) -> pd.DataFrame:
    """Tag every review of a CSV/TSV/Parquet/JSONL/TXT file and write the input rows plus one column per tag and
    its ``<tag>_score`` (and other extra) columns to ``output_path`` (.csv, .parquet or .jsonl).

    Input columns: ``text`` (or ``review``, ``review_body``, … :data:`pipeline.inputs.TEXT_COLUMNS`; required),
    ``label`` or ``sentiment`` (0/1 or positive/negative) and ``rating``, ``stars``, ``star_rating``, ``overall``
    (optional; :data:`RATING_COLUMNS`). The run's classifier is loaded only if a chosen tag needs it or reads its columns
    (``prob_pos``, ``n_tokens`` …), or reads a label the file has; model-based tags then score every row (no
    sampling). The run's model columns are written too (``prob_pos``, ``pred`` …) since the tags were computed from
    them. A label that disagrees with the stars or the model too often to be about sentiment (an irony label, say;
    :mod:`.sentiment_label`) is not read, with a warning and a note on the tags that needed it; the column is
    written back as it came. Every input row is written back in its place: a row with empty text gets NA tags and
    ``tag_note`` "empty text: not tagged". ``output_path`` may not be the input file (the CSV writer defuses
    spreadsheet formulas, which would alter the user's own text).
    """
    from ...classifiers import load_classifier
    from ...inputs import read_reviews_file
    from ...render import csv_safe

    out = Path(output_path)
    if out.suffix.lower() not in (".csv", ".parquet", ".jsonl"):
        raise ValueError(f"--output {out.name}: use a .csv, .parquet or .jsonl file name")
    if out.resolve() == Path(input_path).resolve():
        raise ValueError(f"--output {out}: is the input file; write the tagged rows to another file")
    names = _check_names(names)
    whole = read_reviews_file(input_path, keep_empty=True)  # every row goes back; empty ones are not tagged
    empty = ~has_text(whole["text"])
    if empty.any():
        log.warning("%d of %d rows have no text: written back untagged (tag_note says so)", empty.sum(), len(whole))
    df = whole[~empty]
    frame = _file_frame(df)
    wants_model = any(MODEL in REGISTRY[n].needs or REGISTRY[n].reads & set(MODEL_COLUMNS) for n in names)
    # a label is read only once the run's model agrees it is about sentiment (sentiment_label), so the model is
    # loaded for that check too; a run without one then reads the label unchecked, and says so
    uses_label = any("label" in REGISTRY[n].reads | REGISTRY[n].optional_reads for n in names)
    checks_label = uses_label and "label" in frame and frame["label"].notna().any()
    if wants_model or checks_label:
        try:
            classifier = classifier or load_classifier(run_dir)
        except Exception as exc:  # noqa: BLE001 — fatal only for tags that need the model
            if wants_model:
                raise
            log.warning("the label column is read without checking it against the run's model (%s)", exc)
        if classifier is not None:
            _score_frame(frame, classifier)
    frame, unread = _sentiment_label_only(frame, find_column(df.columns, LABEL_COLUMNS))
    run = load_run(run_dir)
    ctx = TagContext(frame, classifier, None, int(run.config.get("max_length", 256)), set(frame["id"]))
    tags = compute_tags(ctx, names, unread=unread)
    added = [c for c in frame.columns if c not in ("id", "text", "label", "rating")]  # what scoring added
    new = pd.concat([frame[added], tags.drop(columns=["id"])], axis=1)
    new = new.reindex(whole.index)  # every input row, in its place; the empty ones with NA tags and a note
    if empty.any():
        new["tag_note"] = pd.Series("", index=whole.index).where(~empty, "empty text: not tagged")
    # an input column named like one we add (a file tagged before, say) is kept, renamed, never overwritten
    clash = {c: f"{c}_input" for c in whole.columns if c in new.columns}
    if clash:
        log.warning("input columns renamed to keep them: %s", ", ".join(f"{a} → {b}" for a, b in clash.items()))
    # the rows go back as they came: the text column keeps the file's own name ('Review Text', review_body)
    result = restore_text_column(pd.concat([whole.rename(columns=clash), new], axis=1), whole.attrs.get("text_column"))
    if out.suffix.lower() == ".csv":  # formulas defused: the CSV is meant to be opened in a spreadsheet
        atomic_write_text(out, csv_safe(result))
    elif out.suffix.lower() == ".jsonl":
        atomic_write_text(out, result.to_json(orient="records", lines=True, force_ascii=False))
    else:
        atomic_write_parquet(out, result)
    return result
