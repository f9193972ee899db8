"""Metrics of bench_real_text.py, each a small function of numpy arrays (tested by
tests/python/test_bench_real_text.py against hand-computed values)."""

from __future__ import annotations

import math
from typing import Sequence, Tuple

import numpy as np

LN2 = math.log(2.0)


def accuracy(probs: np.ndarray, labels: np.ndarray) -> float:
    """Share of rows of probs (N, K) whose argmax is the label (N,)."""
    return float(np.mean(np.argmax(probs, axis=1) == labels))


def ece(probs: np.ndarray, labels: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error of the top label: rows of probs (N, K) put in `bins` equal-width
    bins of their largest probability c (bin floor(c * bins), c = 1 in the last one);
    sum over bins of (share of rows) * |accuracy - mean confidence|."""
    probs = np.asarray(probs, dtype=np.float64)
    conf = probs.max(axis=1)
    right = (np.argmax(probs, axis=1) == np.asarray(labels)).astype(np.float64)
    index = np.minimum((conf * bins).astype(np.int64), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = index == b
        if mask.any():
            total += mask.mean() * abs(right[mask].mean() - conf[mask].mean())
    return float(total)


def ece_floor(probs: np.ndarray, draws: int = 200, seed: int = 0, bins: int = 10) -> float:
    """The ECE a perfectly calibrated predictor with these top probabilities gets by chance: the mean,
    over `draws` seeded draws, of the ECE when each row is right with probability its top probability c
    (independent rows; overlapping test windows are not, so the real floor is higher)."""
    conf = np.asarray(probs, dtype=np.float64).max(axis=1)
    index = np.minimum((conf * bins).astype(np.int64), bins - 1)
    rng = np.random.default_rng(seed)
    total = 0.0
    for _ in range(draws):
        right = (rng.random(conf.shape) < conf).astype(np.float64)
        for b in range(bins):
            mask = index == b
            if mask.any():
                total += mask.mean() * abs(right[mask].mean() - conf[mask].mean())
    return total / draws


def both_ends_right(dominant: Sequence[int], len_a: int, a: int, b: int) -> bool:
    """The dominant mask of a joined part_a + part_b is a at the last byte of part a
    (position len_a - 1) and b at the last byte of the text."""
    return int(dominant[len_a - 1]) == a and int(dominant[-1]) == b


def boundary_error(path: Sequence[int], true_boundary: int, a: int, b: int) -> int:
    """How far a mask path over a joined part_a + part_b puts the swap from `true_boundary`.

    The path's swap is the change point s in [0, T] that best fits it with a single swap
    (fewest positions t < s not a plus positions t >= s not b). When several s tie (the path
    says neither a nor b over a stretch) the farthest of them from the truth counts: the
    error is max |s - true_boundary| over the best s."""
    path = np.asarray(path)
    not_a = np.concatenate([[0], np.cumsum(path != a)])  # (T+1,) mismatches before s
    not_b = np.concatenate([[0], np.cumsum(path != b)])
    cost = not_a + (not_b[-1] - not_b)  # (T+1,) for every change point s
    best = np.flatnonzero(cost == cost.min())
    return int(np.max(np.abs(best - true_boundary)))


def span_count(path: Sequence[int]) -> int:
    """Number of maximal runs of equal values in a path."""
    path = np.asarray(path)
    return int(1 + np.count_nonzero(path[1:] != path[:-1])) if len(path) else 0


def bits_per_byte(logprobs: np.ndarray) -> float:
    """-mean natural-log probability per byte, in bits."""
    return float(-np.sum(logprobs) / (len(logprobs) * LN2))


def oracle_bits(persona_logprobs: np.ndarray, pooled_logprobs: np.ndarray, labels: np.ndarray,
                grid: Sequence[float] = tuple(np.linspace(0.0, 1.0, 101))) -> Tuple[float, float]:
    """The oracle that knows each byte's true persona: p = lam * p_true(x_t) + (1 - lam) * p_pooled(x_t),
    one weight lam for the whole stream, the best of `grid`. persona_logprobs (T, K) and
    pooled_logprobs (T,) natural logs, labels (T,) the true persona index. Returns (bits/byte, lam)."""
    own = np.asarray(persona_logprobs, dtype=np.float64)[np.arange(len(labels)), labels]
    pooled = np.asarray(pooled_logprobs, dtype=np.float64)
    best = (math.inf, 0.0)
    with np.errstate(divide="ignore"):
        for lam in grid:
            mixed = np.logaddexp(np.log(lam) + own, np.log1p(-lam) + pooled)
            bits = bits_per_byte(mixed)
            if bits < best[0]:
                best = (bits, float(lam))
    return best


def one_swap_marginals(persona_logprobs: np.ndarray) -> np.ndarray:
    """p(mask at t = k | text, exactly one swap) (T, K): the Bayes smoother of a text known to be two parts
    of two different masks, the swap s (the first byte of the second part) uniform on 1..T-1 and the
    ordered pair (i, j), i != j, uniform, given each mask's per-byte log-probabilities (T, K):
    p(s, i, j | text) ~ exp(sum_{u<s} lp[u, i] + sum_{u>=s} lp[u, j]); the mask at t is i when t < s and j
    when t >= s. No view of these masks that reads only their per-byte evidence can place the swap better:
    it bounds what smoothing can do at the parts' ends."""
    lp = np.asarray(persona_logprobs, dtype=np.float64)
    T, K = lp.shape
    if T < 2 or K < 2:
        raise ValueError("one_swap_marginals: needs at least 2 bytes and 2 masks")
    c = np.vstack([np.zeros((1, K)), np.cumsum(lp, axis=0)])  # c[s] = sum_{u<s} lp[u]
    s = np.arange(1, T)
    score = c[s][:, :, None] + (c[T][None, None, :] - c[s][:, None, :])  # (T - 1, i, j)
    score[:, np.arange(K), np.arange(K)] = -np.inf
    w = np.exp(score - score.max())
    w /= w.sum()
    first = w.sum(axis=2)  # (T - 1, K): p(s, i)
    second = w.sum(axis=1)  # p(s, j)
    # t < s for s in t+1..T-1 (rows t..T-2), t >= s for s in 1..t (rows 0..t-1)
    after = np.vstack([np.cumsum(first[::-1], axis=0)[::-1], np.zeros((1, K))])  # after[t] = sum_{row >= t}
    before = np.vstack([np.zeros((1, K)), np.cumsum(second, axis=0)])  # before[t] = sum_{row < t}
    return after[:T] + before[:T]
