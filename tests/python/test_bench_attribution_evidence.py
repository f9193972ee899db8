"""The arithmetic of bench/bench_attribution_evidence.py on small synthetic cases: the design's centring and
length scaling, the length weights, the log-loss gradient against finite differences, and the fitted
weights against a brute-force grid (no fortunes package needed; skips without scipy)."""

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("scipy")
sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
import bench_attribution_evidence as bae  # noqa: E402


def features(rng, n=40):
    """(n, O, S, K) random log-likelihoods, labels, and lengths from bae's LENGTHS."""
    X = rng.normal(size=(n, len(bae.ORDERS), len(bae.SHARES), 3)) * 5.0 - 200.0
    return X, rng.integers(0, 3, size=n), rng.choice(bae.LENGTHS, size=n)


def test_design_centres_over_the_personas_and_scales_by_length():
    rng = np.random.default_rng(1)
    X, _, lengths = features(rng)
    F = bae.design(X, lengths, 0.5, [(0, 1), (2, 3)])
    assert F.shape == (40, 2, 3)
    for i in range(40):
        for j, (o, s) in enumerate([(0, 1), (2, 3)]):
            row = X[i, o, s, :]
            assert np.allclose(F[i, j], (row - row.mean()) * (lengths[i] / 300.0) ** -0.5)


def test_length_weights_give_each_length_the_same_total():
    lengths = np.array([100, 100, 100, 300, 1000, 1000])
    w = bae.length_weights(lengths)
    assert np.isclose(w.sum(), 1.0)
    for n in (100, 300, 1000):
        assert np.isclose(w[lengths == n].sum(), 1.0 / 3.0)


def test_the_gradient_is_the_loss_slope():
    rng = np.random.default_rng(2)
    X, y, lengths = features(rng)
    F = bae.design(X, lengths, 0.3, [(0, 0), (1, 2), (3, 3)])
    w = bae.length_weights(lengths)
    log_prior = np.log(np.array([0.5, 0.3, 0.2]))
    b = np.array([0.2, -0.1, 0.05])
    loss, grad = bae.loss_and_grad(b, F, y, w, log_prior, l2=0.01)
    for j in range(3):
        step = np.zeros(3)
        step[j] = 1e-6
        up, _ = bae.loss_and_grad(b + step, F, y, w, log_prior, l2=0.01)
        down, _ = bae.loss_and_grad(b - step, F, y, w, log_prior, l2=0.01)
        assert np.isclose(grad[j], (up - down) / 2e-6, rtol=1e-5, atol=1e-8)
    # The loss itself, written out: -sum_i w_i log softmax(F_i . b + log prior)[y_i] + l2 |b|^2.
    scores = np.einsum("njk,j->nk", F, b) + log_prior
    direct = -sum(w[i] * (scores[i, y[i]] - np.log(np.exp(scores[i]).sum())) for i in range(len(y))) + 0.01 * b @ b
    assert np.isclose(loss, direct)


def test_one_weight_fitted_is_the_minimum_of_a_brute_force_grid():
    rng = np.random.default_rng(3)
    K, n = 3, 120
    y = rng.integers(0, K, size=n)
    lengths = np.full(n, 300)  # e has no effect at 300 bytes: the grid over e is flat
    X = rng.normal(size=(n, len(bae.ORDERS), len(bae.SHARES), K)) * 4.0
    X[np.arange(n), 1, 2, y] += 3.0  # (order index 1, share index 2) carries the label
    log_prior = np.log(np.full(K, 1.0 / K))
    loss, e, b = bae.fit(X, y, lengths, log_prior, [(1, 2)])
    F = bae.design(X, lengths, 0.0, [(1, 2)])
    w = bae.length_weights(lengths)
    grid = np.linspace(0.0, 2.0, 20001)
    losses = [bae.loss_and_grad(np.array([g]), F, y, w, log_prior)[0] for g in grid]
    assert b[0] == pytest.approx(grid[int(np.argmin(losses))], abs=2e-4)
    assert min(losses) - 1e-7 <= loss <= min(losses) + 1e-12  # no worse than the grid, and near its best


def test_damping_weighs_a_repeated_gram_by_the_square_root_of_its_count():
    assert bae.DAMPED_GRAM == 3
    # 3-grams ending at each byte of "aaaaa": "a", "aa", "aaa", "aaa", "aaa"; then the document end.
    assert np.allclose(bae.damping(b"aaaaa"), [1, 1, 3 ** -0.5, 3 ** -0.5, 3 ** -0.5, 1])
    assert np.allclose(bae.damping(b"abab"), [1, 1, 1, 1, 1])
    # "abcabcabc": "a", "ab" once; "abc" at 2, 5, 8; "bca" at 3, 6; "cab" at 4, 7.
    w = bae.damping(b"abcabcabc")
    assert np.allclose(w[:2], 1) and np.allclose(w[[3, 6]], 2 ** -0.5) and np.allclose(w[[4, 7]], 2 ** -0.5)
    assert np.isclose(w[2], 3 ** -0.5) and np.isclose(w[5], 3 ** -0.5) and np.isclose(w[8], 3 ** -0.5) and w[9] == 1
