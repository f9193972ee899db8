"""Ways of choosing attribute()'s evidence, measured side by side on real text (docs/real-text.md).

Mixture.fit chooses one evidence for attribute(): one order o and one own share s (each persona's own
model mixed with the background at s), with a tempering beta * (n / 300)^-e fitted on cross-fitted segments,
the lowest log-loss of the true persona winning. This bench computes the same cross-fitted features once,
every persona's log-likelihood of every segment under every (o, s) of orders 2-5 and shares 0.25-1
(piles fitted with Mixture.fit(order=o, calibrate=False, segmentation=False, alpha=1e-3)), and compares,
on test segments of the held-out end (bench_real_text.py's split) drawn with several seeds:

    single, by log-loss     what Mixture.fit does (one (o, s), its tempering)
    single, by accuracy     the (o, s) of the best cross-fitted accuracy, with its tempering
    single, last fold       Mixture.fit's (o, s), its tempering fitted on the last fold only (whose pile
                            saw only earlier text: forward chaining)
    pool of the orders      score_k = (n / 300)^-e sum_o b_o L_k(o, s) + log prior_k, b fitted by
                            maximum conditional likelihood on the cross-fitted segments; the share of
                            the lowest log-loss
    pool of every pair      the same over all 16 (o, s), weights L2-penalised (1e-3)
    single, damped counts   as "single, by log-loss" with each byte's log-probability weighted by
                            sqrt(c) / c, c the count of the 3-gram ending at it within the segment (the
                            square-root term-frequency transform of Rennie et al. 2003 against
                            burstiness; the document end weighs 1)

Printed per corpus: cross-fitted log-loss, test accuracy at 100 / 300 / 1000 / 3000 bytes (mean over
the seeds) and ECE at 300 bytes (mean and range).

    .venv/bin/python bench/bench_attribution_evidence.py [--folds 3] [--seeds 10 20 30]
"""

from __future__ import annotations

import argparse
import time
from typing import Dict, List, Sequence, Tuple

import numpy as np
from scipy.optimize import minimize
from scipy.special import log_softmax

import real_text_data as data
import simulacra
from bench_real_text import CATEGORIES, FORTUNES, LENGTHS, SHAKESPEARE, set_up
from real_text_metrics import accuracy, ece

ORDERS = [2, 3, 4, 5]
SHARES = [0.25, 0.5, 0.75, 1.0]
EXPONENTS = np.linspace(0.0, 1.0, 11)
Pairs = Sequence[Tuple[int, int]]  # (order index, share index)


DAMPED_GRAM = 3


def damping(text: bytes) -> np.ndarray:
    """(len(text) + 1) weights of the token log-probabilities: sqrt(c) / c for a byte whose DAMPED_GRAM-gram
    (the bytes up to it, fewer at the start) occurs c times in `text`; 1 for the document end."""
    grams = [text[max(0, t - DAMPED_GRAM + 1):t + 1] for t in range(len(text))]
    counts: Dict[bytes, int] = {}
    for g in grams:
        counts[g] = counts.get(g, 0) + 1
    c = np.array([counts[g] for g in grams] + [1], dtype=np.float64)
    return np.sqrt(c) / c


def features(piles: Dict[int, simulacra.Mixture], personas: Sequence[str], text: bytes) -> np.ndarray:
    """(2, O, S, K): log-likelihood of `text` under each persona's own model mixed with the background at
    each share, at each order; [0] the plain sum of the token log-probabilities, [1] weighted by damping."""
    out = np.empty((2, len(ORDERS), len(SHARES), len(personas)))
    weights = damping(text)
    for oi, o in enumerate(ORDERS):
        background = None
        for k, p in enumerate(personas):
            mask = piles[o].persona(p)
            own = np.asarray(mask.own.token_logprobs(text))
            if background is None:
                background = np.asarray(mask.background.token_logprobs(text))
            for si, s in enumerate(SHARES):
                lp = own if s == 1.0 else np.logaddexp(np.log(s) + own, np.log1p(-s) + background)
                out[0, oi, si, k], out[1, oi, si, k] = lp.sum(), lp @ weights
    return out


def fit_piles(corpus: simulacra.Corpus) -> Dict[int, simulacra.Mixture]:
    return {o: simulacra.Mixture.fit(corpus, order=o, calibrate=False, segmentation=False, alpha=1e-3)
            for o in ORDERS}


def cross_fitted(split: data.Split, folds: int):
    """Features of non-overlapping segments of each fold's text of each persona (contiguous blocks of its
    documents, as Mixture.fit's calibration), scored by the piles fitted on the other folds."""
    docs: Dict[str, List[bytes]] = {p: [] for p in split.personas}
    for d in split.train:
        docs[d.persona].append(d.raw)
    rows, labels, lengths, fold_of = [], [], [], []
    for f in range(folds):
        rest = simulacra.Corpus()
        held: Dict[str, List[bytes]] = {p: [] for p in split.personas}
        for p in split.personas:
            for r, raw in enumerate(docs[p]):
                if r * folds // len(docs[p]) == f:
                    held[p].append(raw)
                else:
                    rest.add(raw, p)
        piles = fit_piles(rest)
        for n in LENGTHS:
            for k, p in enumerate(split.personas):
                joined = b"\n".join(held[p])
                for at in range(0, len(joined) - n + 1, n):
                    rows.append(features(piles, split.personas, joined[at:at + n]))
                    labels.append(k), lengths.append(n), fold_of.append(f)
    counts = np.array([len(docs[p]) for p in split.personas], dtype=np.float64)
    return np.array(rows), np.array(labels), np.array(lengths), np.array(fold_of), np.log(counts / counts.sum())


def test_sets(split: data.Split, seeds: Sequence[int], per_persona: int):
    piles = fit_piles(split.train)
    out = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        rows, labels, lengths = [], [], []
        for n in LENGTHS:
            for text, k in data.segments(split.heldout, split.personas, n, per_persona, rng):
                rows.append(features(piles, split.personas, text)), labels.append(k), lengths.append(n)
        out.append((np.array(rows), np.array(labels), np.array(lengths)))
    return out


def design(X: np.ndarray, lengths: np.ndarray, e: float, pairs: Pairs) -> np.ndarray:
    """(N, J, K): the chosen pairs' log-likelihoods, centred over the personas, scaled by (n / 300)^-e."""
    F = np.stack([X[:, o, s, :] for o, s in pairs], axis=1)
    F = F - F.mean(axis=2, keepdims=True)
    return F * ((lengths / 300.0) ** -e)[:, None, None]


def length_weights(lengths: np.ndarray) -> np.ndarray:
    """Each length weighs alike (as Mixture.fit's calibration)."""
    w = np.zeros(len(lengths))
    for n in LENGTHS:
        if (lengths == n).any():
            w[lengths == n] = 1.0 / (lengths == n).sum()
    return w / w.sum()


def log_posteriors(F: np.ndarray, b: np.ndarray, log_prior: np.ndarray) -> np.ndarray:
    """(N, K) log softmax of the scores F . b + log prior (F (N, J, K))."""
    return log_softmax(np.einsum("njk,j->nk", F, b) + log_prior, axis=1)


def loss_and_grad(b: np.ndarray, F: np.ndarray, y: np.ndarray, w: np.ndarray, log_prior: np.ndarray,
                  l2: float = 0.0) -> Tuple[float, np.ndarray]:
    """The weighted log-loss of the true persona under log_posteriors(F, b, log_prior), plus l2 |b|^2, and
    its gradient in b."""
    N = len(y)
    q = log_posteriors(F, b, log_prior)
    p = np.exp(q)
    loss = -(w * q[np.arange(N), y]).sum() + l2 * (b @ b)
    grad = -(w[:, None] * (F[np.arange(N), :, y] - np.einsum("njk,nk->nj", F, p))).sum(0) + 2 * l2 * b
    return float(loss), grad


def fit(X, y, lengths, log_prior, pairs: Pairs, l2: float = 0.0):
    """(loss, e, b): the weights b of the pairs and the exponent e (grid) of the lowest weighted log-loss."""
    w = length_weights(lengths)
    best = None
    for e in EXPONENTS:
        F = design(X, lengths, e, pairs)
        r = minimize(loss_and_grad, np.full(len(pairs), 1.0 / len(pairs)), args=(F, y, w, log_prior, l2),
                     jac=True, method="L-BFGS-B")
        if best is None or r.fun < best[0]:
            best = (float(r.fun), float(e), r.x)
    return best


def evaluate(tests, log_prior, e: float, b: np.ndarray, pairs: Pairs):
    """Test accuracy per length (mean over the seeds) and ECE at 300 bytes (per seed)."""
    acc = {n: [] for n in LENGTHS}
    eces = []
    for X, y, lengths in tests:
        P = np.exp(log_posteriors(design(X, lengths, e, pairs), b, log_prior))
        for n in LENGTHS:
            acc[n].append(100 * accuracy(P[lengths == n], y[lengths == n]))
        eces.append(ece(P[lengths == 300], y[lengths == 300]))
    return [float(np.mean(acc[n])) for n in LENGTHS], eces


def row(name: str, loss: float, accs, eces, what: str) -> None:
    print(f"  {name:24s} {loss:8.4f}  " + " ".join(f"{a:5.1f}%" for a in accs)
          + f"   {np.mean(eces):.3f} ({min(eces):.3f}-{max(eces):.3f})  {what}")


def run(split: data.Split, folds: int, seeds: Sequence[int], per_persona: int) -> None:
    t0 = time.perf_counter()
    XD, y, lengths, fold_of, log_prior = cross_fitted(split, folds)
    tests_d = test_sets(split, seeds, per_persona)
    X, tests = XD[:, 0], [(T[:, 0], ty, tl) for T, ty, tl in tests_d]
    print(f"\n== {split.name}: {len(y)} cross-fitted segments over {folds} folds, "
          f"{len(tests[0][1])} test segments per seed ({time.perf_counter() - t0:.0f} s of features) ==")
    print(f"  {'evidence':24s} {'log-loss':>8s}  " + " ".join(f"{n:>5d}B" for n in LENGTHS)
          + "   ECE at 300 B (seeds)")
    singles = {(o, s): fit(X, y, lengths, log_prior, [(o, s)]) for o in range(len(ORDERS)) for s in range(len(SHARES))}
    name = lambda o, s: f"order {ORDERS[o]}, share {SHARES[s]}"  # noqa: E731
    (o, s), (loss, e, b) = min(singles.items(), key=lambda item: item[1][0])
    row("single, by log-loss", loss, *evaluate(tests, log_prior, e, b, [(o, s)]), name(o, s))
    correct = {}
    for (oi, si), (_, e1, b1) in singles.items():
        P = log_posteriors(design(X, lengths, e1, [(oi, si)]), b1, log_prior)
        correct[(oi, si)] = np.mean([accuracy(P[lengths == n], y[lengths == n]) for n in LENGTHS])
    oa, sa = max(correct, key=correct.get)
    la, ea, ba = singles[(oa, sa)]
    row("single, by accuracy", la, *evaluate(tests, log_prior, ea, ba, [(oa, sa)]), name(oa, sa))
    last = fold_of == folds - 1
    ll, el, bl = fit(X[last], y[last], lengths[last], log_prior, [(o, s)])
    row("single, last fold", ll, *evaluate(tests, log_prior, el, bl, [(o, s)]),
        f"{name(o, s)}, tempering of {last.sum()} segments (loss on them)")
    pools = {si: fit(X, y, lengths, log_prior, [(oi, si) for oi in range(len(ORDERS))]) for si in range(len(SHARES))}
    sp, (lp, ep, bp) = min(pools.items(), key=lambda item: item[1][0])
    row("pool of the orders", lp, *evaluate(tests, log_prior, ep, bp, [(oi, sp) for oi in range(len(ORDERS))]),
        f"share {SHARES[sp]}, b = {np.round(bp, 3).tolist()}, e = {ep:.1f}")
    every = [(oi, si) for oi in range(len(ORDERS)) for si in range(len(SHARES))]
    lv, ev, bv = fit(X, y, lengths, log_prior, every, l2=1e-3)
    row("pool of every pair", lv, *evaluate(tests, log_prior, ev, bv, every), "L2 1e-3 (loss includes it)")
    damped = {(oi, si): fit(XD[:, 1], y, lengths, log_prior, [(oi, si)])
              for oi in range(len(ORDERS)) for si in range(len(SHARES))}
    (od, sd), (ld, ed, bd) = min(damped.items(), key=lambda item: item[1][0])
    row("single, damped counts", ld, *evaluate([(T[:, 1], ty, tl) for T, ty, tl in tests_d], log_prior, ed, bd,
                                               [(od, sd)]), f"{name(od, sd)}, {DAMPED_GRAM}-grams")
    print(f"  ({split.name}: {time.perf_counter() - t0:.0f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folds", type=int, default=3, help="cross-fitting folds (Mixture.fit's default: 3)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[10, 20, 30], help="test segment draws")
    parser.add_argument("--segments", type=int, default=60, help="test segments per persona and length")
    parser.add_argument("--heldout", type=float, default=0.2, help="share of each persona's text held out (its end)")
    args = parser.parse_args()
    set_up()
    print(f"bench_attribution_evidence.py: orders {ORDERS}, shares {SHARES}, {args.folds} folds, "
          f"test seeds {args.seeds}, {args.segments} segments per persona and length")
    for make in (lambda: data.shakespeare(SHAKESPEARE, (9, 16), args.heldout),
                 lambda: data.fortunes(FORTUNES, CATEGORIES, args.heldout)):
        run(make(), args.folds, args.seeds, args.segments)


if __name__ == "__main__":
    main()
