"""Analysis on the pile: vote, mask swaps, span attribution, raw view, divergence, characteristic tokens."""

import math

import numpy as np
import pytest

import simulacra
from reference import logsumexp, posterior_filter

PROMPT = "Question: which is best? Answer: "
OPTIONS = ["A", "B", "the sea", "the moon"]
PIRATE = "Arr, me hearties! Hoist the sails and find the treasure, ye scurvy dogs! "
POET = "O silver moon, thy gentle light doth sing upon the sleeping sea, and my heart is full. "
SHORT = "Arr, the moon doth sing."


@pytest.fixture(scope="module")
def shared(personas):
    """The three order-3 personas with fixed share: masks can be swapped mid-text."""
    return simulacra.Mixture(list(personas.values()), list(personas), switching="fixed_share", alpha=0.01)


def persona_token_lp(mixture, text):
    """(T, K) float64 log p_k of each byte of `text` read from a document start (no end boundary)."""
    lp = np.stack([mixture.persona(k).token_logprobs(text) for k in range(len(mixture))], axis=1)
    return lp[: len(text.encode())]


def token_of(b):
    return simulacra.BOUNDARY if b == b"" else b[0]


# ---------------------------------------------------------------- vote


def test_vote_is_the_bayesian_identity_without_switching(plain):
    v = plain.vote(PROMPT, OPTIONS)
    K, M = len(plain), len(OPTIONS)
    assert v.persona_logprobs.shape == (K, M) and v.persona_logprobs.dtype == np.float32
    assert v.mixture_logprobs.shape == (M,) and v.mixture_choice.shape == (M,)
    assert v.persona_choice.shape == (K, M) and v.prompt_weights.shape == (K,)
    assert v.options == OPTIONS and v.personas == plain.personas
    np.testing.assert_allclose(v.persona_choice.sum(axis=1), 1.0, rtol=1e-6)
    assert float(v.mixture_choice.sum()) == pytest.approx(1.0, rel=1e-6)
    np.testing.assert_allclose(v.prompt_weights, plain.predict(PROMPT).weights, rtol=1e-6)
    # p(o | q) = sum_k w_k(q) p_k(o | q)
    expected = logsumexp(np.log(v.prompt_weights.astype(np.float64))[:, None] + v.persona_logprobs, axis=0)
    np.testing.assert_allclose(v.mixture_logprobs, expected, rtol=1e-5)
    # persona rows: each persona alone, summed over the option's tokens
    for m, option in enumerate(OPTIONS):
        lp = persona_token_lp(plain, PROMPT + option)[len(PROMPT) :]
        np.testing.assert_allclose(v.persona_logprobs[:, m], lp.sum(axis=0), rtol=1e-5)
    choice = np.exp(v.persona_logprobs - logsumexp(v.persona_logprobs, axis=1)[:, None])
    np.testing.assert_allclose(v.persona_choice, choice, rtol=1e-5)
    table = repr(v)
    assert "mixture" in table and all(n in table for n in plain.personas) and "'the moon'" in table


def test_vote_three_readings_by_hand(pile):
    options = ["A", "B", "the sea", "a long answer about the moon"]
    v = pile.vote(PROMPT, options)
    K, M = len(pile), len(options)
    lp = v.persona_logprobs.astype(np.float64)
    w = v.prompt_weights.astype(np.float64)
    # per byte: log p(o) / bytes, renormalised over the options
    per_byte = v.mixture_logprobs.astype(np.float64) / np.array([len(o.encode()) for o in options])
    np.testing.assert_allclose(v.per_byte_logprobs, per_byte, rtol=1e-5)
    np.testing.assert_allclose(v.per_byte_choice, np.exp(per_byte - logsumexp(per_byte)), rtol=1e-5, atol=1e-7)
    # plurality: the weight of the masks whose own best option it is
    answers = np.argmax(lp, axis=1)
    assert v.persona_answers.dtype == np.int32 and v.persona_answers.tolist() == answers.tolist()
    expected = np.zeros(M)
    np.add.at(expected, answers, w)
    np.testing.assert_allclose(v.plurality, expected, rtol=1e-5, atol=1e-7)
    assert v.per_byte_choice.shape == v.plurality.shape == (M,) and v.persona_answers.shape == (K,)
    assert float(v.plurality.sum()) == pytest.approx(1.0, rel=1e-6)
    table = repr(v)
    assert "per byte" in table and "plurality" in table


def test_vote_steering_and_bytes(plain):
    v = plain.vote(PROMPT.encode(), [o.encode() for o in OPTIONS], clamp="poet")
    np.testing.assert_allclose(v.prompt_weights, [0, 1, 0], atol=1e-7)
    np.testing.assert_allclose(v.mixture_logprobs, v.persona_logprobs[1], rtol=1e-5)
    unsteered = plain.vote(PROMPT, OPTIONS)
    np.testing.assert_allclose(v.persona_logprobs, unsteered.persona_logprobs)  # personas alone: not steered
    excluded = plain.vote(PROMPT, OPTIONS, exclude=["pirate", 2])
    np.testing.assert_allclose(excluded.mixture_logprobs, v.mixture_logprobs, rtol=1e-5)


def test_vote_errors(plain):
    with pytest.raises(ValueError):
        plain.vote(PROMPT, [])
    with pytest.raises(ValueError):
        plain.vote(PROMPT, ["A", ""])
    with pytest.raises(IndexError, match="wizard"):
        plain.vote(PROMPT, OPTIONS, clamp="wizard")
    with pytest.raises(TypeError):
        plain.vote(PROMPT, [1, 2])


# ---------------------------------------------------------------- mask swaps


def walk(mixture, b, text_a, text_b):
    """Persona b's weight before each token of text_b, from an independent State walk."""
    state = mixture.begin()
    state.step(text_a)
    out = []
    for token in text_b.encode():
        out.append(state.weights[b])
        state.step(token)
    return np.array(out)


def first_above(w, level):
    hits = np.nonzero(w > level)[0]
    return int(hits[0]) if hits.size else None


def test_switch_evidence_matches_a_state_walk(shared):
    e = shared.switch_evidence("pirate", "poet", PIRATE, POET)
    assert isinstance(e, simulacra.SwitchEvidence)
    assert e.weight_b.shape == (len(POET),) and e.weight_b.dtype == np.float32 and len(e) == len(POET)
    expected = walk(shared, 1, PIRATE, POET)
    np.testing.assert_allclose(e.weight_b, expected, rtol=1e-5, atol=1e-7)
    assert e.tokens_to_half == first_above(e.weight_b.astype(np.float64), 0.5)
    assert e.tokens_to_90 == first_above(e.weight_b.astype(np.float64), 0.9)
    assert e.tokens_to_half is not None  # the poet takes over within its text
    assert "SwitchEvidence(" in repr(e)
    by_index = shared.switch_evidence(0, 1, PIRATE.encode(), POET.encode())
    np.testing.assert_array_equal(by_index.weight_b, e.weight_b)


def test_switch_evidence_never_is_none(plain):
    # Without switching a single short poet phrase cannot pay back a long pirate text.
    e = plain.switch_evidence("pirate", "poet", PIRATE * 3, "O moon")
    assert e.tokens_to_90 is None
    np.testing.assert_allclose(e.weight_b, walk(plain, 1, PIRATE * 3, "O moon"), rtol=1e-5, atol=1e-7)


def test_switch_asymmetry_is_both_directions(shared):
    ab, ba = shared.switch_asymmetry("pirate", "poet", PIRATE, POET)
    np.testing.assert_array_equal(ab.weight_b, shared.switch_evidence("pirate", "poet", PIRATE, POET).weight_b)
    np.testing.assert_array_equal(ba.weight_b, shared.switch_evidence("poet", "pirate", POET, PIRATE).weight_b)
    np.testing.assert_allclose(ba.weight_b, walk(shared, 0, POET, PIRATE), rtol=1e-5, atol=1e-7)


def test_switch_errors(shared):
    with pytest.raises(IndexError, match="wizard"):
        shared.switch_evidence("pirate", "wizard", PIRATE, POET)
    with pytest.raises(IndexError):
        shared.switch_asymmetry(0, 3, PIRATE, POET)
    with pytest.raises(IndexError):
        shared.switch_evidence(-1, 0, PIRATE, POET)
    with pytest.raises(TypeError):
        shared.switch_evidence(0.5, 0, PIRATE, POET)


# ---------------------------------------------------------------- span attribution


def check_tiling(a, names, T):
    assert a.path.shape == (T,) and a.path.dtype == np.int32 and a.filtered.dtype == np.int32
    position = 0
    for begin, end, name in a.spans:
        assert begin == position and end > begin
        assert (a.path[begin:end] == names.index(name)).all()
        position = end
    assert position == T
    for (_, _, left), (_, _, right) in zip(a.spans, a.spans[1:]):
        assert left != right  # maximal runs


def test_attribute_spans_finds_the_swap(shared):
    text = PIRATE + POET
    a = shared.attribute_spans(text)
    check_tiling(a, shared.personas, len(text))
    np.testing.assert_array_equal(a.filtered, shared.trace(text).dominant)
    assert a.spans[0][2] == "pirate" and a.spans[-1][2] == "poet"
    assert math.isfinite(a.log_joint) and a.log_joint < 0
    assert "Attribution(" in repr(a)


def test_attribute_spans_without_switching_is_one_mask(plain):
    text = PIRATE + POET
    a = plain.attribute_spans(text)
    check_tiling(a, plain.personas, len(text))
    assert len(a.spans) == 1
    np.testing.assert_array_equal(a.filtered, plain.trace(text).dominant)
    # A = I: log p(path, x) = max_k log pi_k + sum_t log p_k(x_t)
    joint = np.log(plain.prior) + persona_token_lp(plain, text).sum(axis=0)
    assert a.log_joint == pytest.approx(joint.max(), rel=1e-9)
    assert a.spans[0][2] == plain.personas[int(np.argmax(joint))]
    # tokens are accepted too
    b = plain.attribute_spans(simulacra.encode(text))
    np.testing.assert_array_equal(b.path, a.path)


def test_attribute_spans_edges(personas):
    forgetting = simulacra.Mixture(list(personas.values()), list(personas), switching="forgetting", gamma=0.9)
    with pytest.raises(ValueError):
        forgetting.attribute_spans(SHORT)
    plain = simulacra.Mixture(list(personas.values()), list(personas))
    empty = plain.attribute_spans("")
    assert empty.spans == [] and empty.path.shape == (0,) and empty.log_joint == 0.0
    with pytest.raises(IndexError):
        plain.attribute_spans([1, 300])


# ---------------------------------------------------------------- raw view


def check_top(listing, logprobs, top_k):
    p = np.exp(logprobs.astype(np.float64))
    assert len(listing) == top_k
    probs = [prob for _, prob in listing]
    assert probs == sorted(probs, reverse=True)
    np.testing.assert_allclose(probs, np.sort(p)[::-1][:top_k], rtol=1e-5)
    for token, prob in listing:
        assert isinstance(token, bytes) and len(token) <= 1
        assert prob == pytest.approx(p[token_of(token)], rel=1e-5)


def test_raw_view_matches_a_brute_force_mixture(shared):
    """Weights from each persona's own scores (the numpy filter), distributions from each persona alone."""
    context = "Arr, the "
    lp = persona_token_lp(shared, context)
    log_w, _ = posterior_filter(np.vstack([lp, np.zeros((1, 3))]), shared.prior, alpha=shared.alpha)
    weights = np.exp(log_w[-1])  # after the whole context
    own = np.stack([shared.persona(k).next_logprobs(context).astype(np.float64) for k in range(3)])  # (K, 257)
    mixture = logsumexp(np.log(weights)[:, None] + own, axis=0)
    view = shared.raw_view(context, top_k=5)
    assert view.weights.shape == (3,) and view.weights.dtype == np.float32
    np.testing.assert_allclose(view.weights, weights, rtol=1e-5)
    check_top(view.mixture, mixture, 5)
    assert list(view.personas) == shared.personas
    for k, name in enumerate(shared.personas):
        check_top(view.personas[name], own[k], 5)
    table = str(view)
    assert "mixture" in table and all(n in table for n in shared.personas)


def test_raw_view_steering_and_limits(shared):
    view = shared.raw_view("", top_k=1000, clamp="scientist")
    np.testing.assert_allclose(view.weights, [0, 0, 1], atol=1e-7)
    assert len(view.mixture) == simulacra.VOCAB
    assert view.mixture == view.personas["scientist"] or np.allclose(
        [p for _, p in view.mixture], [p for _, p in view.personas["scientist"]], rtol=1e-9
    )
    default = shared.raw_view()
    assert len(default.mixture) == 10
    with pytest.raises(ValueError):
        shared.raw_view("Arr", top_k=0)
    with pytest.raises(IndexError, match="wizard"):
        shared.raw_view("Arr", exclude="wizard")


# ---------------------------------------------------------------- divergence and characteristic tokens


def contexts_logprobs(mixture, text):
    """(T, K, 257) float64 persona next-token log-probs before each token of text."""
    data = text.encode()
    return np.stack([mixture.predict(data[:t]).persona_logprobs.astype(np.float64) for t in range(len(data))])


def entropy(p):
    return -np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0), axis=-1)


def test_divergence_matrix(shared):
    d = shared.divergence_matrix(SHORT)
    assert d.shape == (3, 3) and d.dtype == np.float64
    np.testing.assert_array_equal(d, d.T)
    np.testing.assert_array_equal(np.diag(d), 0.0)
    assert (d >= 0).all() and (d <= math.log(2) + 1e-12).all()
    p = np.exp(contexts_logprobs(shared, SHORT))
    expected = np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            m = (p[:, i] + p[:, j]) / 2
            expected[i, j] = np.mean(entropy(m) - (entropy(p[:, i]) + entropy(p[:, j])) / 2)
    np.testing.assert_allclose(d, expected, atol=1e-5)
    with pytest.raises(ValueError):
        shared.divergence_matrix("")


def characteristic_reference(mixture, text, seen, min_count):
    """(K, V) log-ratios of expected counts, -inf without support (numpy, from the contexts' distributions)."""
    expected = np.exp(contexts_logprobs(mixture, text)).sum(axis=0)  # (K, V) E_k(v)
    scores = np.log(expected) - np.log(expected.mean(axis=0))[None, :]
    return np.where((expected >= min_count) & seen, scores, -np.inf)


def test_characteristic_tokens(shared, builtin):
    seen = np.zeros((3, 257), dtype=bool)
    for k, name in enumerate(shared.personas):
        for doc in builtin.texts_of(name):
            seen[k, list(set(doc))] = True
        seen[k, 256] = True
    text = SHORT * 4
    for n, min_count in [(4, 0.0), (10, 1.0), (300, 0.5)]:
        tokens = shared.characteristic_tokens(text, n=n, min_count=min_count)
        assert list(tokens) == shared.personas
        scores = characteristic_reference(shared, text, seen, min_count)
        for k, name in enumerate(shared.personas):
            listing = tokens[name]
            want = np.sort(scores[k][scores[k] > 0])[::-1][:n]
            assert len(listing) == len(want) > 0
            values = [s for _, s in listing]
            assert values == sorted(values, reverse=True)
            np.testing.assert_allclose(values, want, atol=1e-6)
            for token, score in listing:
                assert score == pytest.approx(scores[k, token_of(token)], abs=1e-6)
                assert seen[k, token_of(token)]
    # The default count floor (5 expected occurrences) leaves little of a short text.
    assert all(len(v) <= 10 for v in shared.characteristic_tokens(text).values())
    with pytest.raises(ValueError):
        shared.characteristic_tokens(SHORT, n=0)
    with pytest.raises(ValueError):
        shared.characteristic_tokens("", n=3)
    for bad in (-1.0, float("nan")):
        with pytest.raises(ValueError, match="min_count"):
            shared.characteristic_tokens(SHORT, min_count=bad)
