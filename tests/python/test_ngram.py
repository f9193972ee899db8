"""Tokenizer functions and the Kneser-Ney persona."""

import math

import numpy as np
import pytest

import simulacra
from reference import count_of_counts_discounts, kneser_ney_unigram, logsumexp


def test_vocabulary_constants():
    assert simulacra.VOCAB == 257 and simulacra.BOUNDARY == 256


def test_encode_decode_round_trip_any_bytes():
    raw = bytes(range(256)) + b"\xff\xfe invalid utf-8"
    tokens = simulacra.encode(raw)
    assert tokens.dtype == np.int32 and tokens.flags.c_contiguous
    assert tokens.tolist() == list(raw)
    assert simulacra.decode(tokens) == raw
    assert simulacra.encode("caf\u00e9").tolist() == list("caf\u00e9".encode())
    assert simulacra.encode_document("Arr").tolist() == [65, 114, 114, 256]


def test_decode_boundaries_and_errors():
    assert simulacra.decode([65, 256, 66]) == b"A\nB"
    assert simulacra.decode([65, 256, 66], boundary="<b>") == b"A<b>B"
    assert simulacra.decode([]) == b""
    with pytest.raises(IndexError, match="257"):
        simulacra.decode([65, 257])
    with pytest.raises(IndexError):
        simulacra.decode([2**40])
    with pytest.raises(TypeError, match="tokens"):
        simulacra.decode(np.array([65.0, 66.0]))
    with pytest.raises(ValueError, match=r"tokens: expected shape \(n,\)"):
        simulacra.decode(np.zeros((2, 2), dtype=np.int32))


def test_token_names():
    assert [simulacra.token_name(t) for t in (65, 10, 256, 0xFF)] == ["A", "\\n", "<b>", "\\xff"]


@pytest.fixture(scope="module")
def lm(builtin):
    return simulacra.NGramPersona.fit(builtin.texts_of("pirate"), order=4)


def test_score_is_the_sum_of_token_logprobs(lm):
    text = "Arr, me hearties, the rum be gone!"
    lp = lm.token_logprobs(text)
    assert lp.dtype == np.float64 and lp.shape == (len(text) + 1,)
    assert np.all(lp < 0)
    assert lm.score(text) == pytest.approx(lp.sum(), rel=1e-12)
    assert lm.score(b"") == pytest.approx(lm.token_logprobs(b"")[0])


def test_next_logprobs_is_a_distribution_matching_the_scores(lm):
    text = b"Shiver me timbers!"
    lp = lm.token_logprobs(text)
    for t in range(len(text) + 1):
        nxt = lm.next_logprobs(text[:t])
        assert nxt.dtype == np.float32 and nxt.shape == (257,)
        assert math.isclose(logsumexp(nxt), 0.0, abs_tol=1e-5)
        token = text[t] if t < len(text) else simulacra.BOUNDARY
        assert nxt[token] == pytest.approx(lp[t], rel=1e-6)


def test_str_and_bytes_agree(lm):
    text = "Yo ho, caf\u00e9 \u2620"
    np.testing.assert_array_equal(lm.token_logprobs(text), lm.token_logprobs(text.encode()))
    assert lm.score(text) == lm.score(text.encode())
    np.testing.assert_array_equal(lm.next_logprobs(text), lm.next_logprobs(text.encode()))


def test_invalid_utf8_is_scored(lm):
    lp = lm.token_logprobs(b"\xff\xfe\x00 Arr")
    assert lp.shape == (8,) and np.all(np.isfinite(lp))


def test_unigram_matches_an_independent_kneser_ney_reference():
    # Counts 1 (a..e and the end boundary), 2 (f, g), 3 (h), 4 (i): no fallback.
    docs = [b"abcdeffgghhhiiii"]
    lm = simulacra.NGramPersona.fit(docs, order=1)
    counts = np.zeros(257)
    for b in docs[0]:
        counts[b] += 1
    counts[256] += 1
    d = lm.discounts(1)
    assert not d.fallback
    np.testing.assert_allclose(tuple(d), count_of_counts_discounts(counts), rtol=1e-12)
    expected = kneser_ney_unigram(docs, tuple(d))
    assert expected.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(np.exp(lm.next_logprobs("")), expected, rtol=1e-6)
    np.testing.assert_allclose(np.exp(lm.next_logprobs("abc")), expected, rtol=1e-6)


def test_degenerate_counts_fall_back():
    lm = simulacra.NGramPersona.fit(["ab", "a"], order=1)
    d1, d2, d3 = lm.discounts(1)
    assert (d1, d2, d3) == (0.5, 1.0, 1.5) and lm.discounts(1).fallback


def test_sizes(lm):
    assert lm.order == 4 and lm.kind == "ngram"
    assert len(lm.ngrams_per_order) == 4 and sum(lm.ngrams_per_order) == lm.num_ngrams
    assert lm.ngrams_per_order[0] == 258  # the dense unigram table: 257 tokens and the start
    assert lm.memory_bytes >= 26 * lm.num_ngrams
    assert "order=4" in repr(lm)


def test_bad_arguments():
    with pytest.raises(ValueError, match="order"):
        simulacra.NGramPersona.fit(["abc"], order=0)
    with pytest.raises(ValueError):
        simulacra.NGramPersona.fit([], order=3)
    lm = simulacra.NGramPersona.fit(["abc"], order=2)
    with pytest.raises(IndexError, match="order 3 is outside 1..2"):
        lm.discounts(3)
    with pytest.raises(TypeError):
        lm.score(3)


def test_order_limit_is_the_loaders(tmp_path, builtin):
    """One limit: the largest order fits and its pile loads again; one more, or 10**9, is refused at once."""
    lm = simulacra.NGramPersona.fit(["abcabc", "abd"], order=1000)
    pile = simulacra.Mixture([lm], ["deep"], prior=[1.0])
    pile.save(tmp_path / "deep.safetensors")
    assert simulacra.load(tmp_path / "deep.safetensors").score("abc") == pytest.approx(pile.score("abc"), rel=1e-12)
    for order in (1001, 10**9):
        with pytest.raises(ValueError, match=f"order must be in 1..1000, got {order}"):
            simulacra.NGramPersona.fit(["abc"], order=order)
        with pytest.raises(ValueError, match=f"got {order}"):
            simulacra.Mixture.fit(builtin, order=order)


def test_high_order_has_no_small_maximum():
    lm = simulacra.NGramPersona.fit(["abcabcabcabc" * 4], order=20)
    assert lm.order == 20
    assert lm.score("abcabcabcabc" * 4) > simulacra.NGramPersona.fit(["abcabcabcabc" * 4], order=2).score(
        "abcabcabcabc" * 4
    )
