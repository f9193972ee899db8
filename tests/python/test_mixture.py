"""The mixture: the exact Bayesian identity, switching, steering, prediction. Training: test_fit.py."""

import threading

import numpy as np
import pytest

import simulacra
from reference import logsumexp, posterior_filter

TEXT = "Arr, me hearties! The moon, O silver moon, doth sing. The data suggest a hypothesis."


def persona_lp(mixture, text):
    """(T, K) per-persona log-probs of a document's tokens (end boundary included), from each persona alone."""
    return np.stack([mixture.persona(k).token_logprobs(text) for k in range(len(mixture))], axis=1)


# ---------------------------------------------------------------- the exact Bayesian identity


def test_score_is_the_bayesian_marginal(plain):
    lp = persona_lp(plain, TEXT)
    expected = logsumexp(np.log(plain.prior) + lp.sum(axis=0))
    assert plain.score(TEXT) == pytest.approx(expected, rel=1e-12)


def test_trace_plus_end_boundary_is_the_bayesian_marginal(plain):
    lp = persona_lp(plain, TEXT)
    expected = logsumexp(np.log(plain.prior) + lp.sum(axis=0))
    tr = plain.trace(TEXT)
    state = plain.begin()
    body = state.step(TEXT)
    end = state.step(simulacra.BOUNDARY)
    assert body + end == pytest.approx(expected, rel=1e-12)
    assert tr.total_logprob == pytest.approx(body, rel=1e-12)
    # The float32 per-token values add up to the same within float32 rounding.
    assert float(np.sum(tr.logprobs, dtype=np.float64)) + end == pytest.approx(expected, rel=1e-5)


def test_trace_matches_a_numpy_posterior_filter(plain):
    lp = persona_lp(plain, TEXT)[:-1]  # a trace covers the bytes, no end boundary
    log_w, mix = posterior_filter(lp, plain.prior)
    tr = plain.trace(TEXT)
    assert len(tr) == len(TEXT.encode()) and tr.weights.shape == (len(tr), 3)
    np.testing.assert_allclose(tr.persona_logprobs, lp, rtol=1e-6)
    np.testing.assert_allclose(tr.log_weights, log_w, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(tr.weights, np.exp(log_w), atol=1e-6)
    np.testing.assert_allclose(tr.logprobs, mix, rtol=1e-6)
    np.testing.assert_allclose(tr.weights.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(tr.weights[0], plain.prior, rtol=1e-6)
    w = np.exp(log_w)
    np.testing.assert_allclose(tr.entropy, -np.sum(w * log_w, axis=1), atol=1e-5)
    np.testing.assert_array_equal(tr.dominant, np.argmax(log_w, axis=1))


@pytest.mark.parametrize(
    "switching, options, reference",
    [
        ("fixed_share", {"alpha": 0.01}, {"alpha": 0.01}),
        ("forgetting", {"gamma": 0.9}, {"gamma": 0.9}),
        ("none", {"beta": 0.5}, {"beta": 0.5}),
        ("forgetting", {"gamma": 0.95, "beta": 2.0}, {"gamma": 0.95, "beta": 2.0}),
    ],
)
def test_switching_matches_the_numpy_reference(personas, switching, options, reference):
    mix = simulacra.Mixture(list(personas.values()), list(personas), prior=[1, 2, 3], switching=switching, **options)
    lp = persona_lp(mix, TEXT)[:-1]
    log_w, logprobs = posterior_filter(lp, [1, 2, 3], **reference)
    tr = mix.trace(TEXT)
    np.testing.assert_allclose(tr.log_weights, log_w, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(tr.logprobs, logprobs, rtol=1e-5, atol=1e-6)


def test_transition_matrix_and_its_fixed_share_special_case(personas):
    prior = np.array([0.5, 0.3, 0.2])
    alpha = 0.02
    a = (1 - alpha) * np.eye(3) + alpha * np.tile(prior, (3, 1))
    hmm = simulacra.Mixture(list(personas.values()), list(personas), prior=prior, switching="transition", transition=a)
    share = simulacra.Mixture(list(personas.values()), list(personas), prior=prior, switching="fixed_share", alpha=alpha)
    assert hmm.switching == "transition" and share.transition is None
    np.testing.assert_array_equal(hmm.transition, a)
    np.testing.assert_allclose(hmm.trace(TEXT).logprobs, share.trace(TEXT).logprobs, rtol=1e-5)
    lp = persona_lp(hmm, TEXT)[:-1]
    _, logprobs = posterior_filter(lp, prior, transition=a)
    np.testing.assert_allclose(hmm.trace(TEXT).logprobs, logprobs, rtol=1e-5)


# ---------------------------------------------------------------- texts and tokens


def test_str_and_bytes_give_the_same_results(pile):
    text = "Caf\u00e9 au lait, matey \u2620"
    a, b = pile.trace(text), pile.trace(text.encode())
    np.testing.assert_array_equal(a.log_weights, b.log_weights)
    np.testing.assert_array_equal(a.logprobs, b.logprobs)
    assert a.text == b.text == text.encode()
    assert pile.score(text) == pile.score(text.encode())
    assert pile.attribute(text) == pile.attribute(text.encode())


def test_invalid_utf8_is_traced(pile):
    raw = b"Arr \xff\xfe\x80 matey \xc3"
    tr = pile.trace(raw)
    assert len(tr) == len(raw) and tr.text == raw
    assert np.all(np.isfinite(tr.logprobs)) and np.all(tr.logprobs < 0)
    assert np.isfinite(pile.score(raw))


def test_token_sequences_cross_document_boundaries(pile):
    first, second = b"Arr, matey!", b"O moon!"
    tokens = list(first) + [simulacra.BOUNDARY] + list(second)
    tr = pile.trace(np.array(tokens, dtype=np.int64))
    assert len(tr) == len(tokens) and tr.tokens.dtype == np.int32
    assert tr.text == first + b"\n" + second
    # After a boundary each persona starts a fresh document.
    np.testing.assert_array_equal(tr.persona_logprobs[len(first) + 1 :], pile.trace(second).persona_logprobs)
    assert len(pile.trace([])) == 0
    with pytest.raises(IndexError):
        pile.trace([65, 300])


def test_array_outputs_are_float32_and_read_only(pile):
    tr = pile.trace("Arr")
    for name in ("weights", "log_weights", "persona_logprobs", "logprobs", "entropy"):
        arr = getattr(tr, name)
        assert arr.dtype == np.float32 and arr.flags.c_contiguous and not arr.flags.writeable
    assert tr.dominant.dtype == np.int32 and tr.personas == pile.personas
    assert pile.prior.dtype == np.float64


# ---------------------------------------------------------------- steering


def test_clamp_by_name_or_index(pile):
    k = pile.personas.index("pirate")
    by_name, by_index = pile.trace(TEXT, clamp="pirate"), pile.trace(TEXT, clamp=k)
    np.testing.assert_array_equal(by_name.logprobs, by_index.logprobs)
    expected = np.zeros(len(pile))
    expected[k] = 1
    np.testing.assert_array_equal(by_name.weights, np.tile(expected, (len(by_name), 1)))
    np.testing.assert_allclose(by_name.logprobs, by_name.persona_logprobs[:, k], rtol=1e-6)
    assert pile.score(TEXT, clamp=np.int64(k)) == pytest.approx(pile.persona("pirate").score(TEXT), rel=1e-12)


def test_exclude(pile):
    tr = pile.trace(TEXT, exclude=["poet", 0])
    poet = pile.index_of("poet")
    assert np.all(tr.weights[:, poet] == 0) and np.all(tr.weights[:, 0] == 0)
    np.testing.assert_allclose(tr.weights.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(tr.logprobs, pile.trace(TEXT, exclude=(0, "poet")).logprobs)
    assert np.all(pile.trace(TEXT, exclude="poet").weights[:, poet] == 0)
    with pytest.raises(ValueError, match="no persona"):
        pile.trace(TEXT, exclude=pile.personas)


def test_prior_bias_as_dict_or_sequence(pile):
    bias = np.zeros(len(pile))
    bias[pile.index_of("poet")] = 2.0
    a = pile.trace(TEXT, prior_bias={"poet": 2.0})
    b = pile.trace(TEXT, prior_bias=bias)
    c = pile.trace(TEXT, prior_bias=list(bias))
    np.testing.assert_array_equal(a.logprobs, b.logprobs)
    np.testing.assert_array_equal(a.logprobs, c.logprobs)
    tilted = pile.prior * np.exp(bias)
    np.testing.assert_allclose(a.weights[0], tilted / tilted.sum(), rtol=1e-6)


def test_unknown_personas_raise_index_error_naming_them(pile):
    with pytest.raises(IndexError, match="unknown persona 'wizard'"):
        pile.trace(TEXT, clamp="wizard")
    with pytest.raises(IndexError, match="wizard"):
        pile.generate(exclude=["poet", "wizard"])
    with pytest.raises(IndexError, match="wizard"):
        pile.score(TEXT, prior_bias={"wizard": 1.0})
    with pytest.raises(IndexError, match="wizard"):
        pile.index_of("wizard")
    with pytest.raises(IndexError, match="outside 0..5"):
        pile.trace(TEXT, clamp=6)
    with pytest.raises(IndexError):
        pile.trace(TEXT, clamp=-1)


def test_bad_steering_values(pile):
    with pytest.raises(ValueError, match=r"prior_bias: expected shape \(K,\) = \(6,\), got \(2,\)"):
        pile.trace(TEXT, prior_bias=[1.0, 2.0])
    with pytest.raises(ValueError, match="prior_bias"):
        pile.trace(TEXT, prior_bias=np.full(6, np.nan))
    with pytest.raises(TypeError, match="prior_bias"):
        pile.trace(TEXT, prior_bias=["a"] * 6)
    with pytest.raises(TypeError, match="prior_bias"):
        pile.trace(TEXT, prior_bias={"poet": "much"})
    with pytest.raises(TypeError, match="clamp"):
        pile.trace(TEXT, clamp=1.5)
    with pytest.raises(TypeError, match="clamp"):
        pile.trace(TEXT, clamp=True)


# ---------------------------------------------------------------- constructing


def test_constructor_checks_its_arguments(personas):
    models, names = list(personas.values()), list(personas)
    nan = float("nan")
    with pytest.raises(ValueError, match="alpha"):
        simulacra.Mixture(models, names, switching="fixed_share", alpha=nan)
    with pytest.raises(ValueError, match="alpha"):
        simulacra.Mixture(models, names, alpha=1.5)
    with pytest.raises(ValueError, match="beta"):
        simulacra.Mixture(models, names, beta=nan)
    with pytest.raises(ValueError, match="gamma"):
        simulacra.Mixture(models, names, gamma=-0.1)
    with pytest.raises(ValueError, match="switching"):
        simulacra.Mixture(models, names, switching="sometimes")
    with pytest.raises(ValueError, match="names"):
        simulacra.Mixture(models, names[:2])
    with pytest.raises(ValueError, match="twice"):
        simulacra.Mixture(models, ["a", "a", "b"])
    with pytest.raises(ValueError, match="prior"):
        simulacra.Mixture(models, names, prior=[1, -1, 1])
    with pytest.raises(ValueError, match="prior"):
        simulacra.Mixture(models, names, prior=[1, nan, 1])
    with pytest.raises(ValueError, match="transition"):
        simulacra.Mixture(models, names, switching="transition", transition=np.full((3, 3), nan))
    with pytest.raises(ValueError, match=r"prior: expected shape \(K,\) = \(3,\), got \(2,\)"):
        simulacra.Mixture(models, names, prior=[1, 1])
    with pytest.raises(TypeError, match="prior"):
        simulacra.Mixture(models, names, prior=["x", "y", "z"])
    with pytest.raises(ValueError, match="transition"):
        simulacra.Mixture(models, names, switching="transition")
    with pytest.raises(ValueError, match=r"transition: expected shape \(K, K\) = \(3, 3\), got \(3,\)"):
        simulacra.Mixture(models, names, switching="transition", transition=[1, 0, 0])
    with pytest.raises(ValueError, match="row 0 sums"):
        simulacra.Mixture(models, names, switching="transition", transition=np.ones((3, 3)))
    with pytest.raises(ValueError):
        simulacra.Mixture([], [])
    with pytest.raises(TypeError):
        simulacra.Mixture(["not a persona"], ["x"])


def test_properties(plain, personas):
    assert len(plain) == 3 and plain.personas == list(personas)
    np.testing.assert_allclose(plain.prior, [0.5, 0.3, 0.2])
    assert (plain.switching, plain.alpha, plain.beta, plain.gamma) == ("none", 0.0, 1.0, 1.0)
    assert plain.persona("poet") is not None and plain.persona(1).order == 3
    assert "switching='none'" in repr(plain)
    uniform = simulacra.Mixture(list(personas.values()), list(personas))
    np.testing.assert_allclose(uniform.prior, np.full(3, 1 / 3))


# ---------------------------------------------------------------- scores, attribution, prediction, state


def test_perplexity_is_per_token_with_the_end_boundary(pile):
    tokens = len(TEXT.encode()) + 1 if isinstance(TEXT, str) else len(TEXT) + 1
    assert pile.perplexity(TEXT) == pytest.approx(np.exp(-pile.score(TEXT) / tokens), rel=1e-12)
    per = pile.persona_perplexity(TEXT)
    for name in pile.personas:
        own = pile.persona(name).score(TEXT)
        assert per[name] == pytest.approx(np.exp(-own / tokens), rel=1e-9)


def test_bits_per_byte(pile):
    assert pile.bits_per_byte(TEXT) == pytest.approx(-pile.score(TEXT) / (len(TEXT) * np.log(2)), rel=1e-12)
    bits = pile.persona_bits_per_byte(TEXT)
    assert list(bits) == pile.personas
    for name, value in bits.items():
        assert value == pytest.approx(-pile.persona(name).score(TEXT) / (len(TEXT) * np.log(2)), rel=1e-12)
    with pytest.raises(ValueError, match="empty"):
        pile.bits_per_byte("")


def test_attribute_is_the_document_posterior(pile):
    text = "Shiver me timbers, the rum be gone, ye scurvy dogs!"
    post = pile.attribute(text, beta=1.0)
    w = pile.attribution_own_weight  # attribute() weighs the masks reweighted to this own share (None: the masks)
    evidence = [pile.persona(k) if w is None else
                simulacra.InterpolatedPersona(pile.persona(k).own, pile.persona(k).background, w)
                for k in range(len(pile))]
    lp = np.array([m.score(text) for m in evidence])
    expected = np.exp(np.log(pile.prior) + lp - logsumexp(np.log(pile.prior) + lp))
    np.testing.assert_allclose(list(post.values()), expected, rtol=1e-9, atol=1e-300)
    assert max(post, key=post.get) == "pirate"
    # Without a beta, the pile's fitted tempering at the text's length tempers the log-likelihoods.
    b = pile.attribution_beta * (len(text) / 300) ** -pile.attribution_exponent
    tempered = np.exp(np.log(pile.prior) + b * lp - logsumexp(np.log(pile.prior) + b * lp))
    np.testing.assert_allclose(list(pile.attribute(text).values()), tempered, rtol=1e-9, atol=1e-300)


def test_held_out_attribution_of_the_embedded_corpus(pile, builtin_split):
    heldout = builtin_split[1]
    accuracy = pile.attribution_accuracy(heldout)
    assert accuracy >= 0.95
    right = sum(max(p := pile.attribute(doc.raw), key=p.get) == doc.persona for doc in heldout)
    assert accuracy == pytest.approx(right / len(heldout))


def test_predict(pile):
    context = "Arr, me "
    pred = pile.predict(context)
    assert pred.logprobs.shape == (257,) and pred.persona_logprobs.shape == (len(pile), 257)
    assert logsumexp(pred.logprobs) == pytest.approx(0.0, abs=1e-5)
    np.testing.assert_allclose(logsumexp(pred.persona_logprobs, axis=1), 0.0, atol=1e-5)
    for k in range(len(pile)):
        np.testing.assert_array_equal(pred.persona_logprobs[k], pile.persona(k).next_logprobs(context))
    expected = logsumexp(pred.log_weights[:, None].astype(np.float64) + pred.persona_logprobs, axis=0)
    np.testing.assert_allclose(pred.logprobs, expected, atol=1e-5)
    np.testing.assert_allclose(pred.weights, pile.trace(context + "x").weights[len(context)], rtol=1e-6)
    assert pred.personas == pile.personas and "Prediction(top:" in repr(pred)
    clamped = pile.predict(context, clamp="poet")
    np.testing.assert_array_equal(clamped.logprobs, clamped.persona_logprobs[pile.index_of("poet")])


def test_state_steps_like_the_trace(pile):
    tr = pile.trace(TEXT)
    state = pile.begin()
    for t, byte in enumerate(TEXT.encode()[:20]):
        np.testing.assert_allclose(state.weights, tr.weights[t], rtol=1e-5, atol=1e-7)
        assert state.step(byte) == pytest.approx(float(tr.logprobs[t]), rel=1e-6)
    look = state.copy()
    look.step("ahead")
    np.testing.assert_allclose(state.weights, tr.weights[20], rtol=1e-5, atol=1e-7)
    assert state.step([simulacra.BOUNDARY]) < 0 and state.personas == pile.personas
    with pytest.raises(IndexError):
        state.step(257)
    with pytest.raises(TypeError):
        state.step(1.5)


def test_state_keeps_its_mixture_alive(personas):
    state = simulacra.Mixture(list(personas.values()), list(personas)).begin(clamp="poet")
    assert state.step("O moon") < 0 and state.predict().logprobs.shape == (257,)


def test_trace_table(pile):
    tr = pile.trace(TEXT)
    text = str(tr)
    assert text == repr(tr)
    assert all(name in text for name in pile.personas)
    assert "rows not shown" in text and len(text.splitlines()) == 2 + 10 + 1
    assert len(tr.table().splitlines()) == 2 + len(tr)
    assert "Trace: 0 tokens" in str(pile.trace(""))


def test_long_calls_run_in_threads(pile):
    text = TEXT * 200
    expected = pile.score(text)
    results = [None] * 4

    def work(i):
        results[i] = pile.score(text)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 4


# ---------------------------------------------------------------- behaviour on real text


def test_switching_follows_a_mask_swap(pile, builtin_split):
    heldout = builtin_split[1]
    pirate, poet = heldout.texts_of("pirate")[0], heldout.texts_of("poet")[0]
    swapped = pirate + b" " + poet
    stuck = simulacra.Mixture([pile.persona(k) for k in range(len(pile))], pile.personas, prior=pile.prior)
    moving, still = pile.trace(swapped), stuck.trace(swapped)
    assert pile.personas[moving.dominant[len(pirate) - 1]] == "pirate"
    # Without switching the posterior stays with the first mask; fixed share lets the text swap it.
    assert pile.personas[still.dominant[-1]] == "pirate"
    assert moving.total_logprob > still.total_logprob + 50
    assert max(pile.attribute(poet).items(), key=lambda kv: kv[1])[0] == "poet"


def test_attribution_on_tiny_shakespeare(shakespeare):
    corpus = simulacra.Corpus.from_play(shakespeare, top_speakers=5)
    train, heldout = corpus.split(0.2, seed=0)
    pile = simulacra.Mixture.fit(train, order=4)
    assert pile.attribution_accuracy(heldout) > 0.5  # chance is about 0.2
    assert pile.bits_per_byte(heldout[0].raw) < 4


# ---------------------------------------------------------------- names and texts at the boundary


def test_non_utf8_persona_names_round_trip(personas):
    corpus = simulacra.Corpus.from_texts(["Arr", "O"], [b"pir\xe2te", "poet"])
    name = corpus.personas[0]
    assert name == "pir\udce2te"  # undecodable bytes kept as surrogate escapes
    assert corpus.texts_of(name) == [b"Arr"] and corpus.texts_of(b"pir\xe2te") == [b"Arr"]
    mix = simulacra.Mixture(list(personas.values())[:2], [b"pir\xe2te", "poet"])
    assert mix.personas == [name, "poet"] and mix.index_of(name) == 0
    assert "pir" in repr(mix.trace("Arr", clamp=name))


def test_texts_must_be_str_or_bytes(pile):
    with pytest.raises(TypeError):
        pile.score(42)
    with pytest.raises(UnicodeEncodeError):
        pile.score("lone \ud800 surrogate")
    assert pile.score(bytearray(b"Arr")) == pile.score("Arr")


# ---------------------------------------------------------------- product steering and ablation


def test_product_steering_matches_a_numpy_tilt(plain):
    """product=(a, b, lam): p * (p_a / p_b)**lam renormalised, at every position, from the unsteered predictions."""
    text = "O moon, arr! The data"
    tr = plain.trace(text, product=("poet", "pirate", 1.5))
    a, b = plain.index_of("poet"), plain.index_of("pirate")
    for t in range(len(text)):
        pred = plain.predict(text[:t])
        plp = pred.persona_logprobs.astype(np.float64)
        base = logsumexp(pred.log_weights.astype(np.float64)[:, None] + plp, axis=0)
        tilted = base + 1.5 * (plp[a] - plp[b])
        tilted -= logsumexp(tilted)
        assert tr.logprobs[t] == pytest.approx(tilted[text.encode()[t]], abs=2e-5)
        steered = plain.predict(text[:t], product=("poet", "pirate", 1.5))
        np.testing.assert_allclose(steered.logprobs, tilted, atol=2e-5)
        np.testing.assert_array_equal(steered.weights, pred.weights)  # the filter is untouched
    tokens = simulacra.encode_document(text)
    assert plain.score(text, product=(a, b, 1.5)) == pytest.approx(
        float(np.sum(plain.trace(tokens, product=("poet", "pirate", 1.5)).logprobs, dtype=np.float64)), rel=1e-5)
    assert plain.score(text, product=("poet", "pirate", 0.0)) == plain.score(text)


def test_product_steering_in_generation(plain):
    seen = []

    def hook(step):
        seen.append(step)

    gen = plain.generate("O ", max_tokens=12, seed=4, stop_at_boundary=False, product=["poet", "pirate", 2.0],
                         on_step=hook)
    assert len(seen) == 12
    text = b"O "
    for step in seen:
        expected = plain.predict(text, product=("poet", "pirate", 2.0)).logprobs
        np.testing.assert_allclose(step.logprobs, expected, atol=1e-5)
        text += simulacra.decode([step.token])
    assert list(gen.tokens) == [step.token for step in seen]


def test_bad_product_steering(plain):
    with pytest.raises(TypeError, match="product"):
        plain.score("x", product="poet")
    with pytest.raises(ValueError, match="3|items"):
        plain.score("x", product=("poet", "pirate"))
    with pytest.raises(ValueError, match="same persona"):
        plain.score("x", product=("poet", "poet", 1.0))
    with pytest.raises(ValueError, match="lambda"):
        plain.score("x", product=("poet", "pirate", float("nan")))
    with pytest.raises(IndexError, match="wizard"):
        plain.score("x", product=("wizard", "pirate", 1.0))
    with pytest.raises(TypeError, match="product lam"):
        plain.score("x", product=("poet", "pirate", "much"))


def test_beta_is_bounded_so_results_stay_finite(personas):
    """beta = 1e308 used to be accepted and give NaN; the largest accepted beta gives finite scores."""
    models, names = list(personas.values()), list(personas)
    for beta in (1e308, float("inf"), 0.0, 2e289):
        with pytest.raises(ValueError, match="beta"):
            simulacra.Mixture(models, names, beta=beta)
    for switching in ("none", "fixed_share", "forgetting"):
        pile = simulacra.Mixture(models, names, switching=switching, alpha=0.01, beta=1e289)
        tr = pile.trace(TEXT * 20)
        assert np.all(np.isfinite(tr.logprobs)) and not np.any(np.isnan(tr.log_weights))
        assert np.isfinite(pile.score(TEXT))


def test_state_step_of_tokens_is_atomic(plain):
    state, twin = plain.begin(), plain.begin()
    state.step("Arr")
    twin.step("Arr")
    with pytest.raises(IndexError, match="position 2"):
        state.step([65, 66, 999, 67])
    np.testing.assert_array_equal(state.log_weights, twin.log_weights)
    assert state.step("!") == twin.step("!")



def test_trace_summary_is_the_trace_arrays_in_a_few_numbers(pile):
    text = "Arr, matey! The sextant reads forty degrees; O moon, soft night."
    tr = pile.trace(text)
    s = tr.summary()
    w = np.exp(tr.log_weights.astype(np.float64))
    assert s["tokens"] == len(tr)
    assert s["total_logprob"] == pytest.approx(tr.total_logprob, rel=1e-12)
    assert s["bits_per_token"] == pytest.approx(-tr.total_logprob / (len(tr) * np.log(2)), rel=1e-12)
    assert s["leader_changes"] == int(np.count_nonzero(np.diff(tr.dominant)))
    for k, name in enumerate(tr.personas):
        assert s["lead_share"][name] == pytest.approx(np.mean(tr.dominant == k), abs=1e-12)
        assert s["mean_weight"][name] == pytest.approx(w[:, k].mean(), rel=1e-6)
        assert s["final_weight"][name] == pytest.approx(w[-1, k], rel=1e-6)
    empty = pile.trace("").summary()
    assert empty["tokens"] == 0 and empty["final_weight"] == {} and empty["bits_per_token"] == 0.0
