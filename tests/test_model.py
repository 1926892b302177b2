"""Tokenization/truncation, bucketing, the packaged MiniLM, and training a tiny BERT."""

import numpy as np
import pytest

from pipeline.classifiers.base import logits_to_prob
from pipeline.classifiers.sources import load_tokenizer, packaged_minilm_dir
from pipeline.classifiers.transformer.batching import batches_per_epoch, length_sorted_batches, train_dataset
from pipeline.classifiers.transformer.checkpoint import load_model, tiny_bert
from pipeline.classifiers.transformer.classifier import TFClassifier
from pipeline.classifiers.transformer.train import compile_model
from pipeline.tokens import Truncation, encode


def test_truncate_ids_modes():
    ids = list(range(100))
    assert Truncation(12, "head", 3).keep(ids) == list(range(10))
    assert Truncation(12, "tail", 3).keep(ids) == list(range(90, 100))
    assert Truncation(12, "head+tail", 3).keep(ids) == [0, 1, 2] + list(range(93, 100))
    assert Truncation(12, "head+tail", 3).keep(ids[:5]) == [0, 1, 2, 3, 4]  # short: untouched


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer("minilm")


def test_encode_reports_truncation_and_keeps_ending(tokenizer):
    long = "terrible " * 300 + "but the ending is wonderful"
    enc = encode([long, "short and sweet <br /> fun"], tokenizer, Truncation(64, "head+tail", 16))
    assert [len(x) for x in enc.ids] == [64, 6]  # short, and, sweet, fun + [CLS]/[SEP]
    assert enc.truncated.tolist() == [True, False]
    assert enc.n_tokens[0] == 307  # 300 + 5 words + [CLS]/[SEP]
    toks = tokenizer.convert_ids_to_tokens(enc.ids[0].tolist())
    assert toks[0] == "[CLS]" and toks[-1] == "[SEP]" and toks[-2] == "wonderful"
    assert "<" not in tokenizer.decode(enc.ids[1])  # markup cleaned before tokenizing


def test_bucketed_batches_pad_little(tokenizer):
    rng = np.random.default_rng(0)
    ids = [np.arange(1, int(n) + 1, dtype=np.int32) for n in rng.integers(5, 200, size=300)]
    labels = np.arange(300) % 2
    ds = train_dataset(ids, labels, 16, [32, 64, 128], seed=0)
    real = padded = seen = 0
    for x, y in ds:
        seen += int(y.shape[0])
        real += int(x["attention_mask"].numpy().sum())
        padded += int(np.prod(x["input_ids"].shape))
        assert (x["attention_mask"].numpy() == (x["input_ids"].numpy() != 0)).all()
    fixed = 0
    for x, _ in train_dataset(ids, labels, 16, [], seed=0, fixed_length=200):
        fixed += int(np.prod(x["input_ids"].shape))
    assert seen == 300
    assert padded < 0.75 * fixed  # buckets: far less padding than padding everything to the max
    assert real / padded > 0.7


def test_dataset_declares_its_exact_batch_count():
    # lengths on and around the bucket edges, where an off-by-one would show
    lengths = [31, 32, 33, 63, 64, 65, 127, 128, 129, 200] * 7 + [5] * 17
    ids = [np.ones(n, dtype=np.int32) for n in lengths]
    labels = np.zeros(len(ids), dtype=np.int32)
    for bs in (4, 16):
        ds = train_dataset(ids, labels, bs, [32, 64, 128], seed=1)
        counted = sum(1 for _ in ds)
        assert counted == batches_per_epoch(ids, bs, [32, 64, 128]) == int(ds.cardinality())


def test_length_sorted_batches_cover_every_row_once():
    ids = [np.ones(n, dtype=np.int32) for n in (5, 50, 3, 20, 9)]
    seen = []
    for pos, batch, mask in length_sorted_batches(ids, 2):
        seen.extend(pos.tolist())
        assert batch.shape[1] % 8 == 0 and mask.sum() == sum(len(ids[p]) for p in pos)
    assert sorted(seen) == [0, 1, 2, 3, 4]


def test_token_budget_splits_mixed_length_batches():
    rng = np.random.default_rng(0)
    ids = [np.ones(int(n), dtype=np.int32) for n in rng.integers(3, 250, size=64)]
    plain = list(length_sorted_batches(ids, 64))
    capped = list(length_sorted_batches(ids, 64, max_tokens=1024))
    assert len(plain) == 1
    assert sorted(p for pos, _, _ in capped for p in pos.tolist()) == list(range(64))
    assert all(b.size <= 1024 or len(pos) == 1 for pos, b, _ in capped)
    assert sum(b.size for _, b, _ in capped) < 0.7 * plain[0][1].size  # far less padding


@pytest.mark.slow
def test_packaged_minilm_loads_real_weights(tokenizer):
    from safetensors.numpy import load_file

    mdl = load_model("minilm")
    assert mdl.config.num_hidden_layers == 6 and mdl.config.hidden_size == 384
    assert mdl.config.id2label == {0: "negative", 1: "positive"}
    state = load_file(str(packaged_minilm_dir() / "model.safetensors"))
    np.testing.assert_allclose(
        mdl.get_input_embeddings().weight.numpy(), state["embeddings.word_embeddings.weight"], rtol=0, atol=0
    )
    # The encoder is the real sentence embedder: paraphrases are closer than unrelated sentences.
    sents = ["The movie was fantastic.", "That film was wonderful.", "The stock market fell sharply today."]
    enc = tokenizer(sents, padding=True, return_tensors="tf")
    h = mdl.bert(**enc).last_hidden_state.numpy()
    m = enc["attention_mask"].numpy()[..., None]
    e = (h * m).sum(1) / m.sum(1)
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    assert e[0] @ e[1] > e[0] @ e[2] + 0.2


@pytest.mark.slow
def test_sentence_encoder_pools_the_layers_asked_for():
    """The irony tag's encoder: by default the last layer (the sentence-transformers embedding); with several layers,
    one unit-length block per layer in the order given, rows unit length, the last-layer block equal to the default
    (scaled); a layer that does not exist is refused with a message."""
    from pipeline.classifiers.transformer.embed import shared_encoder

    enc = shared_encoder()
    texts = ["Oh great, another sequel.", "The acting was fine and the plot made sense.", ""]
    last = enc.encode(texts)
    multi = enc.encode(texts, layers=(6, 4, 2))
    assert last.shape == (3, 384) and multi.shape == (3, 1152)
    np.testing.assert_allclose(np.linalg.norm(multi, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(multi[:, :384] * np.sqrt(3), last, atol=1e-5)
    blocks = multi.reshape(3, 3, 384) * np.sqrt(3)
    np.testing.assert_allclose(np.linalg.norm(blocks, axis=2), 1.0, atol=1e-5)
    assert not np.allclose(blocks[:, 1], blocks[:, 0], atol=1e-2)  # layer 4 is not layer 6
    with pytest.raises(ValueError, match="layers must be in 1..6"):
        enc.encode(texts, layers=(7,))


@pytest.mark.slow
def test_tiny_bert_trains(tokenizer):
    import tensorflow as tf

    from tests.conftest import synthetic_reviews

    df = synthetic_reviews(512, 3)
    enc = encode(df["text"], tokenizer, Truncation(48, "head+tail", 8))
    mdl = tiny_bert(tokenizer.vocab_size, seed=0)
    compile_model(mdl, tf.keras.optimizers.Adam(3e-3))
    ds = train_dataset(enc.ids, df["label"].to_numpy(), 16, [32], seed=0)
    hist = mdl.fit(ds, epochs=5, verbose=0)
    assert hist.history["loss"][0] > 0.6 and hist.history["loss"][-1] < 0.3
    clf = TFClassifier(mdl, tokenizer, Truncation(48, "head+tail", 8))
    p = clf.prob_positive(
        ["The film was superb and the acting was wonderful.", "The film was dreadful and the acting was horrible."]
    )
    assert p[0] > 0.5 > p[1]


def test_classifier_handles_empty_batch_and_temperature(tokenizer):
    mdl = tiny_bert(tokenizer.vocab_size, seed=1)
    clf = TFClassifier(mdl, tokenizer, Truncation(32, "head", 0))
    assert clf.prob_positive([]).shape == (0,)
    logits = clf.logits(["a fine film", "a poor film"])
    p1 = logits_to_prob(logits, 1.0)
    p_hot = logits_to_prob(logits, 0.1)
    assert np.all(np.abs(p_hot - 0.5) >= np.abs(p1 - 0.5))  # lower temperature: more confident
