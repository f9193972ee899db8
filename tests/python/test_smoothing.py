"""Mixture.smooth against a numpy forward-backward written here; switch_after
from Python; the switching fits from Python."""

import numpy as np
import pytest

import simulacra

TEXT = (
    "Arr, me hearties! Hoist the mainsail and swab the deck.\n"
    "Shall I compare thee to a summer's day? Thou art more lovely.\n"
    "The mitochondria is the powerhouse of the cell.\n"
)


@pytest.fixture(scope="module")
def personas():
    pile = simulacra.Mixture.fit(simulacra.Corpus.builtin(), order=3, alpha=0.01)
    return [pile.persona(k) for k in range(len(pile))], pile.personas, pile.prior


def pile_of(personas, **config):
    models, names, prior = personas
    return simulacra.Mixture(models, names, prior, **config)


def numpy_smooth(lp, prior, tokens, switching, alpha=0.0, transition=None, beta=1.0, switch_after=None):
    """Scaled forward-backward in linear space, rescaled at every step (float64)."""
    T, K = lp.shape
    e = np.exp(beta * (lp - lp.max(axis=1, keepdims=True)))  # a per-row constant cancels
    if switching == "fixed_share":
        A = (1 - alpha) * np.eye(K) + alpha * np.outer(np.ones(K), prior)
    elif switching == "transition":
        A = np.asarray(transition)
    else:
        A = np.eye(K)
    points = [switch_after is None or tok == simulacra.BOUNDARY or tok in switch_after for tok in tokens]
    steps = [A if points[t] else np.eye(K) for t in range(T)]
    fwd = np.zeros((T, K))
    w = prior.copy()
    for t in range(T):
        w = w * e[t]
        w /= w.sum()
        fwd[t] = w
        w = steps[t].T @ w
    out = np.zeros((T, K))
    b = np.ones(K)
    out[T - 1] = fwd[T - 1] / fwd[T - 1].sum()
    for t in range(T - 2, -1, -1):
        b = steps[t] @ (e[t + 1] * b)
        b /= b.max()
        g = fwd[t] * b
        out[t] = g / g.sum()
    return out


CASES = [
    dict(switching="none"),
    dict(switching="none", beta=0.5),
    dict(switching="fixed_share", alpha=0.05),
    dict(switching="fixed_share", alpha=0.02, switch_after="\n"),
    dict(switching="fixed_share", alpha=0.3, beta=1.5, switch_after=b".!?"),
    dict(switching="fixed_share", alpha=0.1, switch_after={ord("\n"), ord(" ")}),
    dict(switching="transition", transition="sticky"),
    dict(switching="transition", transition="sticky", switch_after="\n"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_smooth_matches_numpy_forward_backward(personas, case):
    case = dict(case)
    K = len(personas[0])
    if case.get("transition") == "sticky":
        case["transition"] = np.full((K, K), 0.02 / (K - 1)) + np.eye(K) * (0.98 - 0.02 / (K - 1))
    pile = pile_of(personas, **case)
    sm = pile.smooth(TEXT)
    tr = pile.trace(TEXT)
    assert sm.weights.shape == (len(TEXT), K) and sm.weights.dtype == np.float64
    assert np.array_equal(sm.tokens, tr.tokens)
    after = case.get("switch_after")
    after = None if after is None else set(after.encode() if isinstance(after, str) else after)
    ref = numpy_smooth(tr.persona_logprobs.astype(np.float64), pile.prior, tr.tokens.tolist(),
                       case["switching"], case.get("alpha", 0.0), case.get("transition"), case.get("beta", 1.0),
                       after)
    # The trace's persona log-probabilities are float32: compare to their rounding.
    np.testing.assert_allclose(sm.weights, ref, atol=2e-4)
    assert np.array_equal(sm.dominant, ref.argmax(axis=1)) or np.abs(sm.weights - ref).max() < 2e-4
    if case.get("beta", 1.0) == 1.0:
        assert sm.log_likelihood == pytest.approx(tr.total_logprob, rel=1e-6)


def test_smooth_none_is_the_whole_text_posterior(personas):
    pile = pile_of(personas)
    sm = pile.smooth(TEXT)
    lp = pile.trace(TEXT).persona_logprobs.astype(np.float64).sum(axis=0) + np.log(pile.prior)
    post = np.exp(lp - lp.max())
    np.testing.assert_allclose(sm.weights, np.tile(post / post.sum(), (len(TEXT), 1)), atol=1e-4)


def test_switch_after_restricts_the_filter(personas):
    pile = pile_of(personas, switching="fixed_share", alpha=0.2, switch_after="\n")
    assert pile.switch_after == [ord("\n")]  # the boundary is a switch point besides
    assert pile_of(personas, switching="fixed_share", alpha=0.2).switch_after is None
    w = pile.trace(TEXT).weights.astype(np.float64)
    lp = pile.trace(TEXT).persona_logprobs.astype(np.float64)
    # After a byte that is no switch point the weights are the Bayes update alone.
    for t, c in enumerate(TEXT.encode()[:-1]):
        post = w[t] * np.exp(lp[t])
        post /= post.sum()
        if c != 10:
            np.testing.assert_allclose(w[t + 1], post, atol=1e-5)
        else:
            np.testing.assert_allclose(w[t + 1], 0.8 * post + 0.2 * pile.prior, atol=1e-5)


def test_switch_after_survives_pickling_and_fit(personas):
    import pickle

    pile = pile_of(personas, switching="fixed_share", alpha=0.1, switch_after=b".\n")
    assert pickle.loads(pickle.dumps(pile)).switch_after == pile.switch_after
    fitted = simulacra.Mixture.fit(simulacra.Corpus.builtin(), order=2, switch_after="\n")
    assert fitted.switch_after == [10]


def test_bad_input(personas):
    with pytest.raises(ValueError, match="switch_after"):
        pile_of(personas, switching="fixed_share", alpha=0.1, switch_after={300})
    with pytest.raises(ValueError, match="switch_after"):
        pile_of(personas, switching="fixed_share", alpha=0.1, switch_after="")
    with pytest.raises(TypeError, match="switch_after"):
        pile_of(personas, switching="fixed_share", alpha=0.1, switch_after=3.5)
    with pytest.raises(ValueError, match="forgetting"):
        pile_of(personas, switching="forgetting", gamma=0.9).smooth(TEXT)
    with pytest.raises(IndexError):
        pile_of(personas).smooth([1, 2, 999])
    empty = pile_of(personas).smooth("")
    assert len(empty) == 0 and empty.weights.shape == (0, len(personas[0]))


def test_switching_fits(personas):
    pile = pile_of(personas, switching="fixed_share", alpha=0.01)
    corpus = simulacra.Corpus.builtin()
    stream = np.concatenate([simulacra.encode_document(d.raw) for d in list(corpus)[:40]])
    em = simulacra.fit_fixed_share_em(pile, stream, max_iterations=30)
    assert np.all(np.diff(em.log_likelihood) >= -1e-9)
    assert 0 < em.alpha < 1 and em.alphas[0] == 1e-3
    tm = simulacra.fit_transition_em(pile, stream, max_iterations=5)
    assert tm.transition.shape == (len(pile), len(pile))
    np.testing.assert_allclose(tm.transition.sum(axis=1), 1.0)
    seg = simulacra.fit_switching_segmentation(pile, list(corpus)[:60], grid=[1e-5, 1e-3, 1e-1])
    assert seg.tokens == sum(len(d.raw) + 1 for d in list(corpus)[:60])
    assert seg.segmentation_nats >= max(seg.grid_segmentation)
    assert seg.compression_nats >= max(seg.grid_compression)
    with pytest.raises(ValueError):
        simulacra.fit_fixed_share_em(pile, [])


def test_fit_sets_the_segmentation_that_smooth_and_spans_read(tmp_path):
    import pickle

    pile, report = simulacra.Mixture.fit(simulacra.Corpus.builtin(), order=3, return_report=True)
    assert report.alpha_segmentation >= 0.0
    assert report.alpha_compression == report.alpha == pile.alpha
    assert pile.segmentation_alpha == report.alpha_segmentation
    assert pile.segmentation_beta == report.beta_segmentation
    # smooth reads the segmentation HMM: the numpy forward-backward at that rate and beta.
    tr = pile.trace(TEXT)
    tokens, lp = tr.tokens.tolist(), tr.persona_logprobs.astype(np.float64)  # float32: compare to their rounding
    want = numpy_smooth(lp, pile.prior, tokens, "fixed_share", alpha=pile.segmentation_alpha,
                        beta=pile.segmentation_beta)
    assert np.abs(pile.smooth(TEXT).weights - want).max() < 2e-4
    at_filter_rate = numpy_smooth(lp, pile.prior, tokens, "fixed_share", alpha=pile.alpha)
    assert np.abs(want - at_filter_rate).max() > 1e-2  # the two readings differ on this text
    # The same pile with the segmentation as its own config gives the same spans.
    models = [pile.persona(k) for k in range(len(pile))]
    plain = simulacra.Mixture(models, pile.personas, pile.prior, switching="fixed_share",
                              alpha=pile.segmentation_alpha, beta=pile.segmentation_beta)
    assert pile.attribute_spans(TEXT).spans == plain.attribute_spans(TEXT).spans
    # Saved, pickled and loaded with the pile.
    path = tmp_path / "pile.safetensors"
    pile.save(path)
    for back in (simulacra.load(path), pickle.loads(pickle.dumps(pile))):
        assert back.segmentation_alpha == pile.segmentation_alpha
        assert back.segmentation_beta == pile.segmentation_beta
    # Cleared: smooth reads the filter's own rate again; bad values are refused.
    pile.segmentation_alpha = None
    assert pile.segmentation_alpha is None
    assert np.abs(pile.smooth(TEXT).weights - at_filter_rate).max() < 2e-4
    with pytest.raises(ValueError):
        pile.segmentation_beta = 0.5
    with pytest.raises(ValueError):
        pile.segmentation_alpha = 2.0
    off = simulacra.Mixture.fit(simulacra.Corpus.builtin(), order=3, segmentation=False)
    assert off.segmentation_alpha is None


def test_fit_joins_documents_into_longer_turns_for_the_segmentation_rate():
    builtin = simulacra.Corpus.builtin()
    _, whole = simulacra.Mixture.fit(builtin, order=2, calibrate=False, return_report=True)
    _, turns = simulacra.Mixture.fit(builtin, order=2, calibrate=False, return_report=True,
                                     segmentation_part_bytes=2000)
    # The same held-out documents, joined into parts of >= 2000 bytes of one persona: far fewer switches.
    assert turns.heldout_documents == whole.heldout_documents
    assert turns.segmentation_switches < whole.segmentation_switches
    held_bytes = sum(len(d.raw) for d in builtin) * 0.1 * 1.5  # a generous bound on the held-out share's bytes
    assert turns.segmentation_switches <= held_bytes / 2000 + len(builtin.personas)
