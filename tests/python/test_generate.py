"""Generation: seeds, the sampler chain, steering, callbacks and Ctrl-C."""

import os
import signal
import threading
import time

import numpy as np
import pytest

import simulacra


def test_same_seed_same_text_other_seed_other_text(pile):
    a = pile.generate("Arr, ", max_tokens=120, seed=7, stop_at_boundary=False)
    b = pile.generate("Arr, ", max_tokens=120, seed=7, stop_at_boundary=False)
    c = pile.generate("Arr, ", max_tokens=120, seed=8, stop_at_boundary=False)
    assert a.bytes == b.bytes and a.tokens.tolist() == b.tokens.tolist()
    np.testing.assert_array_equal(a.weights, b.weights)
    assert a.bytes != c.bytes


def test_the_result(pile):
    g = pile.generate("O ", max_tokens=50, seed=1, stop_at_boundary=False)
    assert len(g) == 50 and g.tokens.dtype == np.int32 and g.tokens.shape == (50,)
    assert g.weights.shape == (50, len(pile)) and g.weights.dtype == np.float32
    np.testing.assert_allclose(g.weights.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(g.weights, np.exp(g.log_weights), rtol=1e-6)
    assert g.personas == [None] * 50
    assert g.bytes == simulacra.decode(g.tokens[g.tokens != simulacra.BOUNDARY])
    assert str(g) == g.text == g.bytes.decode("utf-8", errors="replace")
    assert repr(g).startswith("Generation(tokens=50")
    # The weights before the first token are those after reading the prompt.
    np.testing.assert_allclose(g.weights[0], pile.predict("O ").weights, rtol=1e-6)


def test_stop_at_boundary(pile):
    for seed in range(20):
        g = pile.generate(max_tokens=2000, seed=seed)
        if g.tokens[-1] == simulacra.BOUNDARY:
            break
    else:
        pytest.fail("no generation reached a document boundary in 2000 tokens")
    assert simulacra.BOUNDARY not in g.tokens[:-1].tolist()
    assert len(g.bytes) == len(g) - 1


def test_greedy(pile):
    greedy = pile.generate("The ", max_tokens=40, temperature=0, seed=1, stop_at_boundary=False)
    assert greedy.bytes == pile.generate("The ", max_tokens=40, temperature=0, seed=99, stop_at_boundary=False).bytes
    top1 = pile.generate("The ", max_tokens=40, top_k=1, seed=5, stop_at_boundary=False)
    assert top1.bytes == greedy.bytes
    # Each greedy token is the argmax of the mixture's prediction at that point.
    context = b"The "
    for token in greedy.tokens[:10]:
        lp = pile.predict(context).logprobs
        assert lp[token] >= lp.max() - 1e-6
        context += bytes([token])


def test_clamped_greedy_equals_greedy_under_that_persona_alone(pile):
    poet = pile.persona("poet")
    g = pile.generate("O ", max_tokens=60, temperature=0, clamp="poet")
    assert np.all(g.weights[:, pile.index_of("poet")] == 1)
    context = b"O "
    for token in g.tokens:
        lp = poet.next_logprobs(context)
        assert lp[token] >= lp.max() - 1e-6
        if token == simulacra.BOUNDARY:
            break
        context += bytes([token])
    assert context == b"O " + g.bytes


def test_clamped_sampling_only_uses_that_persona(pile):
    # top_k=2 restricted to the persona's two most likely tokens at every step.
    pirate = pile.persona("pirate")
    g = pile.generate("Arr", max_tokens=40, top_k=2, seed=3, clamp=pile.index_of("pirate"), stop_at_boundary=False)
    context = b"Arr"
    for token in g.tokens:
        assert token in np.argsort(-pirate.next_logprobs(context).astype(np.float64))[:3]
        if token == simulacra.BOUNDARY:
            context = b""  # a fresh document
        else:
            context += bytes([token])


def test_persona_mode(pile):
    g = pile.generate(max_tokens=200, seed=2, mode="persona", stop_at_boundary=False)
    assert all(name in pile.personas for name in g.personas)
    assert len(set(g.personas)) > 1
    clamped = pile.generate(max_tokens=50, seed=2, mode="persona", clamp="doctor", stop_at_boundary=False)
    assert set(clamped.personas) == {"doctor"}
    excluded = pile.generate(max_tokens=200, seed=2, mode="persona", exclude=["doctor", "poet"], stop_at_boundary=False)
    assert not {"doctor", "poet"} & set(excluded.personas)


def test_sampler_settings_are_checked(pile):
    with pytest.raises(ValueError, match="temperature"):
        pile.generate(temperature=-1)
    with pytest.raises(ValueError, match="temperature"):
        pile.generate(temperature=float("nan"))
    with pytest.raises(ValueError, match="top_p"):
        pile.generate(top_p=0)
    with pytest.raises(ValueError, match="min_p"):
        pile.generate(min_p=2)
    with pytest.raises(ValueError, match="top_k"):
        pile.generate(top_k=-1)
    with pytest.raises(ValueError, match="max_tokens"):
        pile.generate(max_tokens=-1)
    with pytest.raises(ValueError, match="mode"):
        pile.generate(mode="chorus")
    assert len(pile.generate(max_tokens=0)) == 0


def test_truncations_change_the_output(pile):
    base = dict(prompt="The ", max_tokens=100, seed=11, stop_at_boundary=False)
    plain = pile.generate(**base).bytes
    assert pile.generate(top_p=0.5, **base).bytes != plain
    assert pile.generate(min_p=0.2, **base).bytes != plain
    assert pile.generate(top_p=1.0, min_p=0.0, **base).bytes != plain


# The documented defaults: llama.cpp's, and SamplerConfig's in C++ (sampling_defaults_test checks those).
DEFAULTS = dict(temperature=0.8, top_k=0, top_p=0.95, min_p=0.05)


def test_the_defaults_are_the_documented_ones(pile):
    for seed in range(5):
        base = dict(prompt="Arr, ", max_tokens=150, seed=seed, stop_at_boundary=False)
        assert pile.generate(**base).bytes == pile.generate(**DEFAULTS, **base).bytes


def test_the_defaults_never_emit_a_byte_the_pile_never_saw(pile, builtin_split):
    seen = set()
    for doc in builtin_split[0]:
        seen.update(doc.raw)
    assert len(seen) < 128
    untruncated = 0
    for seed in range(30):
        got = pile.generate(max_tokens=200, seed=seed, stop_at_boundary=False)
        assert set(got.bytes) <= seen, (seed, sorted(set(got.bytes) - seen))
        off = pile.generate(max_tokens=200, seed=seed, stop_at_boundary=False, temperature=1.0, top_p=1.0, min_p=0.0)
        untruncated += not set(off.bytes) <= seen
    # With the truncations off, the smoothing's floor shows (the reason for the defaults).
    assert untruncated > 0


def test_bad_truncations_are_value_errors(pile):
    for bad in (float("nan"), -0.1, 1.1, float("inf")):
        with pytest.raises(ValueError, match="top_p"):
            pile.generate(top_p=bad)
        with pytest.raises(ValueError, match="min_p"):
            pile.generate(min_p=bad)


def test_on_step_sees_every_token_and_can_stop(pile):
    steps = []
    g = pile.generate("Arr", max_tokens=30, seed=4, stop_at_boundary=False, on_step=steps.append)
    assert [s.index for s in steps] == list(range(30))
    assert [s.token for s in steps] == g.tokens.tolist()
    np.testing.assert_allclose(np.stack([s.weights for s in steps]), g.weights)
    assert all(s.persona is None for s in steps)

    stopped = pile.generate("Arr", max_tokens=30, seed=4, stop_at_boundary=False, on_step=lambda s: s.index < 4)
    assert len(stopped) == 5 and stopped.tokens.tolist() == g.tokens[:5].tolist()
    spoken = []
    pile.generate(max_tokens=5, mode="persona", stop_at_boundary=False, on_step=lambda s: spoken.append(s.persona))
    assert all(name in pile.personas for name in spoken)


def test_on_step_exceptions_propagate(pile):
    def boom(step):
        if step.index == 3:
            raise RuntimeError("boom at 3")

    with pytest.raises(RuntimeError, match="boom at 3"):
        pile.generate(max_tokens=10, stop_at_boundary=False, on_step=boom)
    with pytest.raises(KeyboardInterrupt):
        pile.generate(max_tokens=10, on_step=lambda step: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(TypeError, match="on_step"):
        pile.generate(on_step=3)


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="needs POSIX signals")
def test_ctrl_c_stops_a_long_generation(pile):
    # No callback: the binding itself checks for signals every few hundred tokens.
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    start = time.monotonic()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            pile.generate(max_tokens=300_000, stop_at_boundary=False)
    finally:
        timer.cancel()
    assert time.monotonic() - start < 10


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="needs POSIX signals")
def test_ctrl_c_stops_a_long_trace(pile):
    text = b"Arr, me hearties! Certainly, here are a few steps. " * 80_000  # 4 MB
    timer = threading.Timer(0.2, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            pile.trace(text)
    finally:
        timer.cancel()


def test_on_step_sees_the_distribution_and_its_top_k(pile):
    seen = []
    out = pile.generate("Arr, ", max_tokens=12, temperature=0.0, stop_at_boundary=False,
                        on_step=lambda step: seen.append((step.token, step.logprobs.copy(), step.top_k(3))))
    assert [t for t, _, _ in seen] == list(out.tokens)
    context = b"Arr, "
    for token, logprobs, top in seen:
        expected = pile.predict(context).logprobs  # the mixture's distribution at that point
        np.testing.assert_allclose(logprobs, expected, atol=1e-6)
        order = sorted(range(257), key=lambda v: (-expected[v], v))[:3]
        assert [t for t, _ in top] == [bytes([v]) if v < 256 else b"" for v in order]
        assert top[0][1] == pytest.approx(float(np.exp(expected[order[0]])), rel=1e-5)
        assert token == order[0]  # greedy draws the most likely token
        context += bytes([token]) if token < 256 else b""
    with pytest.raises(ValueError):
        pile.generate(max_tokens=1, on_step=lambda step: step.top_k(0))


def brute_truncation(logprobs, temperature, top_k, top_p, min_p):
    """The sampler chain's law from its definition, in numpy."""
    p = np.exp(logprobs - logprobs.max())
    p /= p.sum()
    order = np.argsort(-p, kind="stable")
    keep = order[: top_k or p.size]
    if top_p < 1:
        cum = np.cumsum(p[keep])
        keep = keep[: int(np.argmax(cum >= top_p * cum[-1])) + 1]
    keep = keep[p[keep] >= min_p * p.max()]
    q = np.zeros_like(p)
    q[keep] = p[keep] ** (1 / temperature)
    return q / q.sum()


def test_sampler_distribution_is_the_truncated_law(pile):
    lp = pile.predict("Arr, the ").logprobs.astype(np.float64)
    for setting in [dict(), dict(top_p=1.0, min_p=0.0), dict(temperature=1.3, top_k=7, top_p=0.8, min_p=0.01)]:
        full = dict(DEFAULTS, **setting)
        got = simulacra.sampler_distribution(lp, **setting)
        assert got.dtype == np.float64 and got.shape == (257,)
        want = brute_truncation(lp, full["temperature"], full["top_k"], full["top_p"], full["min_p"])
        np.testing.assert_array_equal(got == 0, want == 0)
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-15)
    greedy = simulacra.sampler_distribution(lp, temperature=0)
    assert greedy[int(np.argmax(lp))] == 1.0 and greedy.sum() == 1.0
    with pytest.raises(ValueError, match="min_p"):
        simulacra.sampler_distribution(lp, min_p=float("nan"))
    with pytest.raises(ValueError, match="NaN"):
        simulacra.sampler_distribution(np.array([0.0, float("nan")]))
