"""The ``irony`` tag: a learned irony score for reviews, from the signals the literature says work.

1. **What the text sounds like**, from all-MiniLM-L6-v2 vectors of the review's sentences (the packaged, frozen
   encoder, so the score means the same for every run; layers 6, 4 and 2 pooled and concatenated, since the lower
   layers keep the wording that the last, tuned for meaning, smooths over — the model file's ``layers``): a
   sentence model (logistic regression trained on author-labelled sarcastic tweets, iSarcasmEval 2022 train) whose
   highest and two highest sentence logits catch the one ironic line in an otherwise plain review; a review-sentence model (the same tweets plus the
   sentences of IMDB *train* reviews labelled by reading, ``data/irony/``: the sentence quoted as evidence of irony
   against every sentence of a sincere review) whose two highest sentence logits find the mock-praising line in a
   review; and a review model (the mean sentence vector; tweets, the same IMDB labels and the written product
   reviews of ``data/irony/product_reviews_train_written.csv``).
   **Which words it uses**: a word model (tf-idf of words and word pairs, logistic regression) trained on the IMDB
   labels and the written product reviews — the deadpan counts ('lasted four days'), 'of course', 'somehow', 'bonus'
   that a mean sentence vector blurs (Buschmeier et al. 2014 found bag-of-words strong on product-review irony).
2. **Sentiment incongruity** (Riloff et al. 2013): positive wording in a review whose label / star rating is
   negative, and vice versa — the mock-praising one-star review. Judged per sentence by a sentence-sentiment model
   (logistic regression on the same embeddings, trained on IMDB train reviews and UCI Amazon/Yelp sentences): the
   strongest sentence against the review's polarity and the share of such sentences; plus the lexicon count, and
   whether the review is negative at all (nearly all review irony is in pans).
3. **Cues**: the old ``sarcasm_cues`` score ('yeah right', 'oh great', scare-quoted praise, '!!!').

A small logistic "stack" combines them, fitted on the IMDB labels and the written product reviews together (so that
neither domain's habits — nearly all IMDB irony is in pans — decide alone), each source weighted to the same ironic
share (else the domain itself reads as irony: half the written reviews are ironic, a fifth of the IMDB labels); the
models ship in ``irony_model.json`` with the record of what they were validated on. A review's polarity comes from
its ``label``, else its star rating (≤ 40 % of the scale negative, ≥ 70 % positive); without either the incongruity
terms are off and ``irony_basis`` says ``text only``: the score is then weaker (see the validation record), never a
guess at the label.

``python -m pipeline.analysis.tags.irony_fit`` re-trains the models and rewrites the JSON.
"""

from __future__ import annotations

import json
import logging
import math
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from ...text import clean_text, words
from ..lexicon import NEGATIVE, POSITIVE
from ..perturb import sentences
from .base import Tag, TagContext, register
from .lexical import sarcasm_score
from .sentiment_label import rating_conflicts, rating_polarity

IRONY_MODEL = Path(__file__).with_name("irony_model.json")
log = logging.getLogger(__name__)
TEXT_AND_POLARITY = "text+polarity"
TEXT_ONLY = "text only"
# every feature the stack can use, in order: text features first (the text-only stack uses those), then the
# polarity terms, which are zero when the review's polarity is unknown
ALL_FEATURES = (
    "text_logit",
    "sentence_max",
    "sentence_top2",
    "cues",
    "review_sentence_top2",
    "bow_logit",
    "known",
    "opposite_words",
    "negative",
    "flip_max",
    "flip_share",
)
TEXT_ONLY_FEATURES = 6  # the first six: what is left without a label or rating
STACK_FEATURES = ALL_FEATURES  # what ``irony_fit`` fits the stack on (a model file records its own list)
MAX_SENTENCES = 60  # bounds the encoder's work on very long reviews


def review_polarity(label: pd.Series | None, rating: pd.Series | None, n: int = 0) -> pd.Series:
    """1 / 0 per review from ``label`` where given, else from ``rating`` on its own scale
    (:func:`~.sentiment_label.rating_polarity`); NaN where neither says (a 3-star or 5-6 rating, no label; ``n`` rows
    of NaN when both are ``None``).

    Where both say, they should agree (IMDB's always do). If they disagree too often
    (:func:`~.sentiment_label.rating_conflicts`), ``label`` is not a sentiment label (an irony or topic label, say):
    the ratings decide instead and a warning says so. Incongruity is measured against the reviewer's own verdict,
    and stars are that verdict."""
    if label is None and rating is None:
        return pd.Series(np.nan, index=range(n))
    from_rating = rating_polarity(rating) if rating is not None else pd.Series(np.nan, index=label.index)
    if label is None:
        return from_rating
    lab = pd.to_numeric(label, errors="coerce")
    from_label = lab.where(lab.isin([0, 1]))
    if rating is not None and (why := rating_conflicts(from_label, rating)):
        log.warning(
            "irony: %s, so it is not read as a sentiment label; the polarity comes from the ratings (label 1 = "
            "positive, 0 = negative is expected)",
            why,
        )
        return from_rating
    return from_label.fillna(from_rating)


def incongruity(text: str, polarity: float) -> float:
    """log1p of the number of lexicon words opposite to the review's polarity ('brilliant', 'masterpiece' in a
    one-star review); 0 when the polarity is unknown (NaN). A count, not a share: shares swing on short texts
    with one or two lexicon words, which made short product reviews look ironic."""
    if polarity != polarity:  # NaN
        return 0.0
    ws = words(text)
    opp = sum(w in POSITIVE for w in ws) if polarity == 0 else sum(w in NEGATIVE for w in ws)
    return math.log1p(opp)


def sentence_units(texts: list[str]) -> tuple[list[str], np.ndarray]:
    """The sentences the encoder reads (≥ 3 words, at most :data:`MAX_SENTENCES` per review; the whole text when
    it has none) and, per sentence, the index of its review."""
    units, owner = [], []
    for i, t in enumerate(texts):
        ss = [x for x in sentences(t) if len(x.split()) >= 3][:MAX_SENTENCES] or [t]
        units.extend(ss)
        owner.extend([i] * len(ss))
    return units, np.asarray(owner, dtype=int)


def review_vectors(sentence_emb: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """A review's vector: the re-normalised mean of its sentences' embeddings (one encoder pass serves both)."""
    out = np.zeros((n, sentence_emb.shape[1]), dtype=np.float32)
    np.add.at(out, owner, sentence_emb)
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def sentence_peaks(z: np.ndarray, owner: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per review: the highest sentence logit and the mean of the two highest (one ironic line is often all)."""
    order = np.lexsort((-z, owner))
    z, owner = z[order], owner[order]
    first = np.searchsorted(owner, np.arange(n))
    count = np.bincount(owner, minlength=n)
    top1 = z[first]
    top2 = np.where(count > 1, (z[first] + z[np.minimum(first + 1, len(z) - 1)]) / 2, top1)
    return top1, top2


def stack_inputs(
    texts: list[str], text_logit: np.ndarray, top1: np.ndarray, top2: np.ndarray, polarity: np.ndarray
) -> np.ndarray:
    """text_logit, sentence_max, sentence_top2, cues, known, opposite_words, negative for cleaned texts (``negative``:
    1 for a review whose label / rating is negative — where nearly all review irony is, the mock-praising pan —
    0 for a positive or unknown one)."""
    rows = []
    for t, z, a, b, pol in zip(texts, text_logit, top1, top2, polarity):
        known = 0.0 if pol != pol else 1.0
        rows.append((float(z), float(a), float(b), sarcasm_score(t), known, incongruity(t, pol), float(pol == 0)))
    return np.asarray(rows, dtype=float).reshape(len(texts), 7)


@cache
def irony_model(path: Path = IRONY_MODEL) -> dict:
    """The shipped weights and validation record (read once)."""
    return json.loads(Path(path).read_text())


def _logistic(x: np.ndarray, coef: list[float], intercept: float) -> np.ndarray:
    return x @ np.asarray(coef, dtype=float) + float(intercept)


@cache
def _fourier_weights(dim: int, components: int, gamma: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    # legacy RandomState: numpy keeps its streams fixed across versions, so the seed alone stands for the weights
    rs = np.random.RandomState(seed)
    w = rs.normal(scale=np.sqrt(2.0 * gamma), size=(dim, components)).astype(np.float32)
    b = rs.uniform(0.0, 2.0 * np.pi, size=components).astype(np.float32)
    return w, b


def random_fourier_features(x: np.ndarray, rff: dict) -> np.ndarray:
    """Random Fourier features (Rahimi & Recht 2007) of the rows of ``x``: ``sqrt(2/D) cos(xW + b)``, whose dot
    products approximate the RBF kernel ``exp(-gamma |x - y|^2)``. ``rff``: ``components`` (D), ``gamma`` and the
    ``seed`` that draws W and b, so a model file stores three numbers instead of the weights."""
    w, b = _fourier_weights(x.shape[1], int(rff["components"]), float(rff["gamma"]), int(rff["seed"]))
    return np.sqrt(2.0 / w.shape[1]) * np.cos(np.asarray(x, dtype=np.float32) @ w + b)


def text_logits(review_vecs: np.ndarray, text_model: dict) -> np.ndarray:
    """The review-level text model's logit: linear in the review vector, or in its random Fourier features when the
    model records ``rff`` (session 22's kernel design)."""
    x = random_fourier_features(review_vecs, text_model["rff"]) if text_model.get("rff") else review_vecs
    return _logistic(x, text_model["coef"], text_model["intercept"])


def bow_logits(texts: list[str], bow: dict) -> np.ndarray:
    """The word model's logit per cleaned text: tf-idf of its words and word pairs (lower-cased, sublinear tf, the
    vocabulary and idf stored in the model file) times the stored weights. Words outside the vocabulary count for
    nothing, so an empty or foreign text scores the intercept."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(
        vocabulary={t: i for i, t in enumerate(bow["vocabulary"])},
        ngram_range=tuple(bow["ngram_range"]),
        sublinear_tf=True,
    )
    vec.idf_ = np.asarray(bow["idf"], dtype=float)
    return vec.transform(texts) @ np.asarray(bow["coef"], dtype=float) + float(bow["intercept"])


def feature_matrix(texts: list[str], sentence_emb: np.ndarray, owner: np.ndarray, polarity, model: dict) -> np.ndarray:
    """From sentence embeddings (rows aligned to :func:`sentence_units`) to all of :data:`ALL_FEATURES` (the
    review-sentence and word-model columns are zero for a model file without a ``review_sentence`` / ``bow``
    model)."""
    n = len(texts)
    pol = np.asarray(polarity, dtype=float)
    z = text_logits(review_vectors(sentence_emb, owner, n), model["text"])
    top1, top2 = sentence_peaks(
        _logistic(sentence_emb, model["sentence"]["coef"], model["sentence"]["intercept"]), owner, n
    )
    rs = model.get("review_sentence")
    rs_top2 = sentence_peaks(_logistic(sentence_emb, rs["coef"], rs["intercept"]), owner, n)[1] if rs else np.zeros(n)
    bow = bow_logits(texts, model["bow"]) if model.get("bow") else np.zeros(n)
    x = stack_inputs(texts, z, top1, top2, pol)  # text_logit, sentence_max, sentence_top2, cues, known, words, neg
    sent = model.get("sentiment")
    flips = (
        polarity_flips(_logistic(sentence_emb, sent["coef"], sent["intercept"]), owner, pol)
        if sent
        else np.zeros((n, 2))
    )
    return np.column_stack([x[:, :4], rs_top2, bow, x[:, 4:], flips])


def polarity_flips(sentiment_logit: np.ndarray, owner: np.ndarray, polarity: np.ndarray) -> np.ndarray:
    """Per review, from its sentences' sentiment logits (> 0 = positive): the strongest sentence *against* the
    review's polarity (``flip_max``: its logit, signed so that praise in a negative review counts up) and the share
    of such sentences (``flip_share``) — Riloff et al.'s positive sentiment in a negative situation, with a learned
    sentence sentiment instead of a word list. Both 0 where the polarity is unknown (NaN)."""
    n = len(polarity)
    pol = np.asarray(polarity, dtype=float)
    sign = np.where(pol == 0, 1.0, -1.0)[owner]
    against = sentiment_logit * sign
    top = np.full(n, -np.inf)
    np.maximum.at(top, owner, against)
    share = np.bincount(owner, weights=(against > 0).astype(float), minlength=n) / np.maximum(
        np.bincount(owner, minlength=n), 1
    )
    known = ~np.isnan(pol)
    return np.column_stack([np.where(known & np.isfinite(top), top, 0.0), np.where(known, share, 0.0)])


def stack_matrix(texts: list[str], sentence_emb: np.ndarray, owner: np.ndarray, polarity, model: dict) -> np.ndarray:
    """The columns the model's stack was fitted on (``model["stack"]["features"]``), in that order."""
    x = feature_matrix(texts, sentence_emb, owner, polarity, model)
    return x[:, [ALL_FEATURES.index(f) for f in model["stack"]["features"]]]


def irony_scores(texts: list[str], sentence_emb: np.ndarray, owner: np.ndarray, polarity, model: dict | None = None):
    """``irony_score`` in [0, 1] (higher = more ironic) and ``irony_basis`` per cleaned text, from the sentence
    embeddings of :func:`sentence_units` and polarities (1 / 0 / NaN)."""
    m = model or irony_model()
    x = standardise(stack_matrix(texts, sentence_emb, owner, polarity, m), m)
    known = ~np.isnan(np.asarray(polarity, dtype=float))
    with_pol = _logistic(x, m["stack"]["coef"], m["stack"]["intercept"])
    k = len(m["stack_text_only"]["features"])  # the stack's first k columns are the text features
    text_only = _logistic(x[:, :k], m["stack_text_only"]["coef"], m["stack_text_only"]["intercept"])
    logit = np.where(known, with_pol, text_only)
    return pd.DataFrame(
        {"irony_score": 1 / (1 + np.exp(-logit)), "irony_basis": np.where(known, TEXT_AND_POLARITY, TEXT_ONLY)}
    )


def standardise(x: np.ndarray, model: dict) -> np.ndarray:
    """Scale the stack's features as they were scaled when it was fitted (mean / std in the model file)."""
    return (x - np.asarray(model["scale"]["mean"])) / np.asarray(model["scale"]["std"])


def score_texts(texts: list[str], polarity, model: dict | None = None) -> pd.DataFrame:
    """Encode and score cleaned texts: the one call the tag, ``tag --input`` and the tests make."""
    units, owner = sentence_units(texts)
    m = model or irony_model()
    return irony_scores(texts, embed(units, model_layers(m)), owner, polarity, m)


def model_layers(model: dict) -> tuple[int, ...]:
    """The MiniLM layers whose pooled outputs a model file's sentence vectors concatenate (``layers``; a file
    without it predates the key and used the last layer, 6, only)."""
    return tuple(model.get("layers", [6]))


def embed(texts: list[str], layers: tuple[int, ...] | None = None) -> np.ndarray:
    """Sentence vectors from the packaged MiniLM (TensorFlow stays inside the transformer package), with a
    progress bar (≈ 10 reviews/s on 2 cores). ``layers``: default those of the shipped model file."""
    from tqdm.auto import tqdm

    from ...classifiers.transformer.embed import shared_encoder

    layers = layers or model_layers(irony_model())
    with tqdm(total=len(texts), desc="irony: encoding", unit="sentence", leave=False, mininterval=2.0) as bar:
        return shared_encoder().encode(texts, progress=lambda done: bar.update(done - bar.n), layers=layers)


@register
class Irony(Tag):
    name = "irony"
    extra_columns = ("irony_score", "irony_basis")
    optional_reads = frozenset({"label", "rating"})
    description = (
        "Irony or sarcasm: a learned score from how the review sounds (MiniLM embeddings) and which words it uses, "
        "positive wording against a negative label/rating or vice versa, and sarcasm cues."
    )
    rule = (
        "irony_score = logistic stack of [MiniLM irony logits (layers 6, 4, 2 pooled): a review model (iSarcasmEval tweets + "
        "hand-labelled IMDB train reviews + written product reviews), tweet-sarcasm sentence peaks, an IMDB "
        "review-sentence model's two highest sentence logits; a tf-idf word model (same reviews); cue score; incongruity with the label/rating: lexicon count, a sentence-sentiment "
        "model's strongest opposing sentence and share of opposing sentences, a negative-review indicator]; tagged "
        "where irony_score ≥ the threshold (the highest within 0.02 of the best F1 on a validation set of random IMDB train reviews; "
        "irony_model.json). Sampled reviews only on a run"
    )

    @classmethod
    def validation(cls) -> list[dict]:
        """The records written by ``irony_fit`` next to the weights they describe."""
        return irony_model().get("validation", []) if IRONY_MODEL.is_file() else []

    def detect(self, ctx: TagContext) -> pd.DataFrame:
        # an encoder pass per review: on a run, the seeded sample (like the model-based tags); on a file, all rows
        p = ctx.predictions
        rows = p[p["id"].isin(ctx.sample_ids)]
        out = pd.DataFrame({self.name: pd.Series(pd.NA, index=p.index, dtype=object), "irony_score": np.nan})
        out["irony_basis"] = pd.Series(pd.NA, index=p.index, dtype=object)
        if rows.empty:
            return out
        texts = [clean_text(t) for t in rows["text"]]
        got = score_texts(texts, review_polarity(rows.get("label"), rows.get("rating"), len(rows)).to_numpy())
        out.loc[rows.index, "irony_score"] = got["irony_score"].to_numpy()
        out.loc[rows.index, "irony_basis"] = got["irony_basis"].to_numpy()
        out.loc[rows.index, self.name] = got["irony_score"].to_numpy() >= irony_model()["threshold"]
        return out
