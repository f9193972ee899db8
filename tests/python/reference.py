"""Independent numpy references for the tests: nothing here calls simulacra."""

import numpy as np


def logsumexp(x, axis=None):
    """log(sum(exp(x))) in float64, stable."""
    x = np.asarray(x, dtype=np.float64)
    m = np.max(x, axis=axis, keepdims=True)
    out = m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    return np.squeeze(out, axis=axis) if axis is not None else float(out.reshape(()))


def posterior_filter(lp, prior, beta=1.0, alpha=0.0, gamma=None, transition=None):
    """The mixture of DESIGN.md section 1, token by token, in plain numpy.

    lp: (T, K) per-persona natural-log probabilities of each token; prior: (K).
    Returns (log_weights (T, K) before each token, mixture logprobs (T)).
    Switching: fixed share when alpha > 0, forgetting when gamma is given,
    an HMM over personas when transition (K, K) is given.
    """
    lp = np.asarray(lp, dtype=np.float64)
    log_prior = np.log(np.asarray(prior, dtype=np.float64) / np.sum(prior))
    T, K = lp.shape
    log_w = log_prior.copy()
    acc = np.zeros(K)
    weights = np.zeros((T, K))
    mix = np.zeros(T)
    for t in range(T):
        weights[t] = log_w
        mix[t] = logsumexp(log_w + lp[t])
        if gamma is not None:
            acc = gamma * acc + lp[t]
            log_w = log_prior + beta * acc
        else:
            log_w = log_w + beta * lp[t]
        log_w = log_w - logsumexp(log_w)
        if alpha > 0:
            log_w = np.log((1 - alpha) * np.exp(log_w) + alpha * np.exp(log_prior))
        if transition is not None:
            w = np.exp(log_w) @ np.asarray(transition, dtype=np.float64)
            log_w = np.log(w / w.sum())
    return weights, mix


def kneser_ney_unigram(documents, discounts):
    """p(w) of an order-1 interpolated Kneser-Ney model over 257 tokens.

    At the highest order the adjusted counts are raw counts: every byte of
    every document and one end boundary (256) per document.
    """
    counts = np.zeros(257)
    for doc in documents:
        for b in doc:
            counts[b] += 1
        counts[256] += 1
    d1, d2, d3 = discounts
    total = counts.sum()
    d = np.where(counts == 1, d1, np.where(counts == 2, d2, d3))
    disc = np.maximum(counts - d, 0) / total
    gamma = (d1 * np.sum(counts == 1) + d2 * np.sum(counts == 2) + d3 * np.sum(counts >= 3)) / total
    return disc + gamma / 257


def count_of_counts_discounts(counts):
    """Chen & Goodman's three discounts from the count-of-counts t1..t4."""
    t = [np.sum(counts == k) for k in (1, 2, 3, 4)]
    y = t[0] / (t[0] + 2 * t[1])
    return (1 - 2 * y * t[1] / t[0], 2 - 3 * y * t[2] / t[1], 3 - 4 * y * t[3] / t[2])
