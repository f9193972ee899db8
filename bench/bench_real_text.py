"""The pile of masks on real text, against scikit-learn baselines measured in the same run (issue 9).

Two corpora: the Shakespeare speakers ranked 9 to 16 by bytes of speech in
../shared/data/tinyshakespeare.txt, and eight categories of Debian's `fortunes`
package. The last 20% of each persona's text (whole documents) is held out; all
test material is cut from it with fixed seeds. Per corpus it prints:

- attribution accuracy of segments of 100, 300, 1000 and 3000 bytes (the pile
  and each baseline), and the ECE (10 bins) of their posteriors;
- swap detection: two 1000-byte parts of different personas joined, the dominant
  mask right at the end of both parts (filtered trace, smoothed view) against the
  ceiling (each part attributed whole, the boundary known);
- the Viterbi path's boundary error on 2000-byte parts (median) and its spans;
- bits/byte on a stream interleaving 500-byte segments of every persona: the
  mixture, the pooled single model, and the oracle that knows each byte's persona;

each beside the issue's target (met / not met).

    python bench/bench_real_text.py            # the full run (a few minutes on 2 cores)
    python bench/bench_real_text.py --quick    # a smoke run

Set-up: installs Debian's `fortunes` with apt-get and the `bench` extra of
pyproject.toml (scikit-learn) with pip into the running virtual environment when
they are missing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List

import numpy as np

import real_text_data as data
import simulacra
from real_text_measure import (attribute_probs, baseline_scores, fit_baselines, fit_defaults, fit_fixed_order,
                               fit_switch_points, own_text_bits, stream_bits, swap_best_alpha, swap_ceiling, swap_smoothed_inside,
                               swap_filtered, swap_one_swap_bound, swap_smoothed, viterbi_boundaries)
from real_text_metrics import accuracy, ece, ece_floor

ROOT = Path(__file__).resolve().parents[1]
SHAKESPEARE = ROOT.parent / "shared" / "data" / "tinyshakespeare.txt"
FORTUNES = Path("/usr/share/games/fortunes")
CATEGORIES = ["food", "law", "linux", "literature", "perl", "startrek", "tao", "zippy"]
LENGTHS = [100, 300, 1000, 3000]
ORDERS = [2, 3, 4, 5, 6]
ALPHAS = [0.0, 1e-6, 1e-5, 1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1]


def set_up() -> None:
    """Debian's fortunes (apt-get) and the bench extra (pip, into a virtual environment) if missing."""
    if not FORTUNES.is_dir():
        if os.geteuid() != 0:
            sys.exit(f"set-up: {FORTUNES} is missing; install Debian's fortunes: sudo apt-get install -y fortunes")
        print("set-up: apt-get install -y fortunes", flush=True)
        if subprocess.run(["apt-get", "install", "-y", "fortunes"]).returncode != 0:
            subprocess.run(["apt-get", "update"], check=True)  # a machine whose package lists are stale
            subprocess.run(["apt-get", "install", "-y", "fortunes"], check=True)
    try:
        import sklearn  # noqa: F401
    except ImportError:
        if sys.prefix == sys.base_prefix:
            sys.exit("set-up: scikit-learn is missing; run the bench from the project's .venv "
                     "(.venv/bin/python -m pip install '.[bench]')")
        import tomllib

        with open(ROOT / "pyproject.toml", "rb") as f:
            extra = tomllib.load(f)["project"]["optional-dependencies"]["bench"]
        print(f"set-up: pip install {' '.join(extra)}", flush=True)
        subprocess.run([sys.executable, "-m", "pip", "install", *extra], check=True)


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def row(label: str, cells: List[str], note: str = "") -> None:
    print(f"  {label:<28}" + "".join(f"{c:>9}" for c in cells) + (f"   {note}" if note else ""))


def evidence(pile: simulacra.Mixture) -> str:
    """What attribute() weighs, as Mixture.fit chose it (a fixed order bounds the evidence's order, so
    fixed-order piles may read the same evidence and show the same figures)."""
    order, share = pile.attribution_order, pile.attribution_own_weight
    if order is None and share is None:
        return "evidence: the masks"
    where = f"order {order}" if order is not None else "the masks' order"
    return f"evidence: {where}, " + (f"own share {share:g}" if share is not None else "stand-alone models")


def attribution_tables(split: data.Split, piles: Dict[str, object], main: str, baselines: Dict[str, object],
                       segs: Dict[int, list]) -> None:
    """Accuracy and ECE by segment length, the pile's rows then the baselines', then the targets."""
    acc: Dict[str, List[float]] = {}
    cal: Dict[str, List[float]] = {}  # NaN: no probabilities
    for name, pile in piles.items():
        probs = [attribute_probs(pile, segs[n], split.personas) for n in LENGTHS]
        labels = [np.array([k for _, k in segs[n]]) for n in LENGTHS]
        acc[name] = [accuracy(p, y) for p, y in zip(probs, labels)]
        cal[name] = [ece(p, y) for p, y in zip(probs, labels)]
    for name, model in baselines.items():
        scores = [baseline_scores(model, segs[n]) for n in LENGTHS]
        labels = [np.array([k for _, k in segs[n]]) for n in LENGTHS]
        acc[name] = [accuracy(s, y) for (s, _), y in zip(scores, labels)]
        cal[name] = [ece(s, y) if has_probs else float("nan") for (s, has_probs), y in zip(scores, labels)]
    print(f"\n  attribution accuracy ({len(segs[LENGTHS[0]])} held-out segments per length)")
    row("bytes per segment", [str(n) for n in LENGTHS])
    for name, pile in piles.items():
        row(name, [f"{a:.1%}" for a in acc[name]], evidence(pile))
    for name in baselines:
        row(name, [f"{a:.1%}" for a in acc[name]])
    fixed = [name for name in acc if name.startswith("order ")]
    if len(fixed) > 1:
        top = max(fixed, key=lambda name: np.mean(acc[name]))
        print(f"  best fixed order on these segments (mean over the lengths): {top}")
    best = [max(acc[b][i] for b in baselines) for i in range(len(LENGTHS))]
    row("target: >= best baseline", [verdict(acc[main][i] >= best[i]) for i in range(len(LENGTHS))],
        f"({main})")
    print("\n  ECE of the posteriors, 10 bins (baselines: predict_proba; the SVM has none)")
    row("bytes per segment", [str(n) for n in LENGTHS])
    for name in cal:
        row(name, ["n/a" if np.isnan(e) else f"{e:.3f}" for e in cal[name]])
    if main in cal:
        at300 = cal[main][LENGTHS.index(300)]
        probs300 = attribute_probs(piles[main], segs[300], split.personas)
        print(f"  target: ECE of attribute() at 300 bytes <= 0.05: {at300:.3f} {verdict(at300 <= 0.05)} ({main}); "
              f"a perfectly calibrated predictor with the same confidences scores {ece_floor(probs300):.3f} by chance "
              f"on {len(probs300)} independent segments (these overlap: more)")


def calibration_exact(pile, split: data.Split, segs: Dict[int, list]) -> None:
    """The exact Bayesian posterior's ECE (attribute(text, beta=1.0)) beside the fitted beta's."""
    cells = [f"{ece(attribute_probs(pile, segs[n], split.personas, beta=1.0), np.array([k for _, k in segs[n]])):.3f}"
             for n in LENGTHS]
    row("attribute(beta=1.0) ECE", cells)


def swap_tables(split: data.Split, pile, name: str, pairs: list, vpairs: list, quick: bool) -> None:
    ceiling = swap_ceiling(pile, pairs, split.personas)
    filtered = swap_filtered(pile, pairs, split.personas)
    print(f"\n  swap detection ({len(pairs)} pairs of 1000 + 1000 bytes, two different personas; {name}, alpha {pile.alpha:g})")
    print(f"  {'ceiling (parts attributed whole)':<46} {ceiling:6.1%}")
    print(f"  {'filtered trace':<46} {filtered:6.1%}   target >= 85% of the ceiling ({0.85 * ceiling:.1%}): "
          f"{verdict(filtered >= 0.85 * ceiling)} (not the target's view, for context)")
    if not quick:
        share, alpha = swap_best_alpha(pile, pairs, split.personas, ALPHAS)
        print(f"  {'filtered, best fixed alpha (on these pairs)':<46} {share:6.1%}   alpha {alpha:g}")
    smoothed = swap_smoothed(pile, pairs, split.personas)
    print(f"  {'smoothed view':<46} {smoothed:6.1%}   target >= {0.85 * ceiling:.1%}: "
          f"{verdict(smoothed >= 0.85 * ceiling)}")
    inside = [swap_smoothed_inside(pile, pairs, split.personas, d) for d in (20, 50, 100)]
    print(f"  {'smoothed, 20 / 50 / 100 bytes before the swap':<46} " + " / ".join(f"{x:.1%}" for x in inside)
          + "   (the part's last byte is as likely put just after the swap as just before)")
    bound = [swap_one_swap_bound(pile, pairs, split.personas, d) for d in (0, 20, 50)]
    print(f"  {'one-swap Bayes smoother: last byte / 20 / 50':<46} " + " / ".join(f"{x:.1%}" for x in bound)
          + "   (knows there is exactly one swap: the bound of any smoothed view of these masks)")
    error, spans, right = viterbi_boundaries(pile, vpairs, split.personas)
    vceiling = swap_ceiling(pile, vpairs, split.personas)
    print(f"\n  Viterbi ceiling: both 2000-byte parts attributed right whole in {vceiling:.1%} of pairs; a pair with a "
          f"part on the wrong persona has a boundary error of its whole part, so a median <= 50 bytes needs >= 50%")
    print(f"\n  Viterbi path ({len(vpairs)} pairs of 2000 + 2000 bytes): median boundary error {error:.0f} bytes "
          f"(the best single swap point of the path), target <= 50 bytes: {verdict(error <= 50)}; "
          f"median {spans:.0f} spans (2 is right), {right:.1%} of bytes on their true persona")
    if pile.segmentation_alpha is not None:
        print(f"  (smoothing and Viterbi read the pile's segmentation rate {pile.segmentation_alpha:g} and tempering "
              f"{pile.segmentation_beta:g}; the filter its alpha {pile.alpha:g})")


def turns_table(split: data.Split, seeds: Dict[str, int], pairs: list, vpairs: list) -> None:
    """For context, not the target's pile: the segmentation rate fitted on held-out turns of 1000 bytes
    (Mixture.fit(segmentation_part_bytes=1000)), the length of the swap pairs' parts, instead of on the
    documents (speeches of ~150 bytes, fortunes of ~300)."""
    pile = simulacra.Mixture.fit(split.train, seed=seeds["fit"], segmentation_part_bytes=1000)
    smoothed = swap_smoothed(pile, pairs, split.personas)
    inside = swap_smoothed_inside(pile, pairs, split.personas, 50)
    error, spans, right = viterbi_boundaries(pile, vpairs, split.personas)
    print(f"  told the turns' length (segmentation_part_bytes=1000: rate {pile.segmentation_alpha:.3g}, tempering "
          f"{pile.segmentation_beta:g}): smoothed {smoothed:.1%} (50 bytes inside {inside:.1%}); Viterbi median error "
          f"{error:.0f} bytes, {spans:.0f} spans, {right:.1%} of bytes right")


def switch_point_table(split: data.Split, pile, name: str, args, seeds: Dict[str, int]) -> None:
    """Swap detection and Viterbi on parts of whole lines (the swap after a newline), by the main pile
    and by a pile whose masks may switch only after a newline (fit(switch_after="\\n"))."""
    pairs = data.line_pairs(split.heldout, split.personas, 1000, args.pairs, np.random.default_rng(seeds["lines"]))
    vpairs = data.line_pairs(split.heldout, split.personas, 2000, args.pairs, np.random.default_rng(seeds["lines"] + 1))
    mean = np.mean([len(p[0]) + len(p[2]) for p in pairs]) / 2
    print(f"\n  switch points: parts of whole lines (<= 1000 bytes, {mean:.0f} on average; Viterbi <= 2000)")
    row("pile", ["ceiling", "filtered", "smoothed", "Vit.err", "spans"])
    restricted = fit_switch_points(split.train, seeds["fit"])
    for label, p in ((name, pile), ('switch_after="\\n"', restricted)):
        error, spans, _ = viterbi_boundaries(p, vpairs, split.personas)
        row(label, [f"{swap_ceiling(p, pairs, split.personas):.1%}", f"{swap_filtered(p, pairs, split.personas):.1%}",
                    f"{swap_smoothed(p, pairs, split.personas):.1%}", f"{error:.0f}", f"{spans:.0f}"])


def stream_table(split: data.Split, piles: Dict[str, object], orders: Dict[str, int], main: str,
                 stream: bytes, labels: np.ndarray) -> None:
    print(f"\n  interleaved stream of 500-byte held-out segments of every persona ({len(stream)} bytes), bits/byte")
    row("pile", ["mixture", "pooled", "oracle", "o.weight"], "pooled and oracle at the pile's order")
    for name, pile in piles.items():
        bits = stream_bits(pile, split, orders[name], stream, labels)
        row(name, [f"{bits['mixture']:.4f}", f"{bits['pooled']:.4f}", f"{bits['oracle']:.4f}",
                   f"{bits['oracle_weight']:.2f}"])
        if name == main:
            target = bits
    bits = own_text_bits(piles[main], split, orders[main])
    worse = [p for p, (mask, pooled, own) in bits.items() if mask > min(pooled, own)]
    margin = max(mask - min(pooled, own) for mask, pooled, own in bits.values())
    print(f"  each persona's held-out text under its mask alone, against the pooled and its stand-alone model: "
          f"{len(bits) - len(worse)} of {len(bits)} no worse than both (worst by {margin:+.4f} bits/byte)")
    gain, got = target["pooled"] - target["oracle"], target["pooled"] - target["mixture"]
    share = got / gain if gain > 0 else float("nan")
    print(f"  target: mixture <= pooled + 0.002: {verdict(target['mixture'] <= target['pooled'] + 0.002)}; "
          f"captures >= half of the oracle's gain ({gain:+.4f}): {share:.0%} {verdict(share >= 0.5)} ({main})")


def run_corpus(split: data.Split, args, seeds: Dict[str, int]) -> None:
    t0 = time.perf_counter()
    train_kb = sum(len(t) for t in split.train_text.values()) / 1000
    held_kb = sum(len(t) for t in split.heldout.values()) / 1000
    print(f"\n== {split.name}: {len(split.personas)} personas, {train_kb:.0f} KB training, {held_kb:.0f} KB held out ==")
    print("  " + ", ".join(f"{p} ({len(split.train_text[p]) // 1000}+{len(split.heldout[p]) // 1000} KB)"
                           for p in split.personas))
    piles: Dict[str, simulacra.Mixture] = {}
    orders: Dict[str, int] = {}
    pile, report, order = fit_defaults(split.train, seeds["fit"])
    main = f'fit(order="auto") -> {order}'
    piles[main], orders[main] = pile, order
    for order in ([5] if args.quick else ORDERS):
        name = f"order {order}"
        piles[name], _, orders[name] = fit_fixed_order(split.train, order, seeds["fit"])
    print(f"  the pile judged against the targets: {main} (Mixture.fit's defaults); its fit report: {report}")
    baselines = fit_baselines(split, args.chunk)
    rng = np.random.default_rng(seeds["segments"])
    segs = {n: data.segments(split.heldout, split.personas, n, args.segments, rng) for n in LENGTHS}
    attribution_tables(split, piles, main, baselines, segs)
    calibration_exact(piles[main], split, segs)
    pairs = data.swap_pairs(split.heldout, split.personas, 1000, args.pairs, np.random.default_rng(seeds["pairs"]))
    vpairs = data.swap_pairs(split.heldout, split.personas, 2000, args.pairs, np.random.default_rng(seeds["viterbi"]))
    swap_tables(split, piles[main], main, pairs, vpairs, args.quick)
    turns_table(split, seeds, pairs, vpairs)
    switch_point_table(split, piles[main], main, args, seeds)
    stream, labels = data.interleaved(split.heldout, split.personas, 500, np.random.default_rng(seeds["stream"]))
    stream_table(split, piles, orders, main, stream, labels)
    print(f"  ({split.name}: {time.perf_counter() - t0:.1f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: fewer segments and pairs, order 5 only")
    parser.add_argument("--seed", type=int, default=9, help="the base seed (each draw's seed is printed)")
    parser.add_argument("--segments", type=int, default=None, help="segments per persona and length (60; quick 6)")
    parser.add_argument("--pairs", type=int, default=None, help="swap pairs (200; quick 20)")
    parser.add_argument("--chunk", type=int, default=300, help="bytes per training piece of the baselines")
    parser.add_argument("--heldout", type=float, default=0.2, help="share of each persona's text held out (its end)")
    args = parser.parse_args()
    args.segments = args.segments or (6 if args.quick else 60)
    args.pairs = args.pairs or (20 if args.quick else 200)
    start = time.perf_counter()
    set_up()
    seeds = {"fit": args.seed, "segments": args.seed + 1, "pairs": args.seed + 2, "viterbi": args.seed + 3,
             "stream": args.seed + 4,
             "lines": args.seed + 5}
    print(f"bench_real_text.py{' --quick' if args.quick else ''}: simulacra from {Path(simulacra.__file__).parent}, seeds {seeds}, "
          f"{args.segments} segments per persona and length, {args.pairs} pairs, held out: the last "
          f"{args.heldout:.0%} of each persona")
    corpora: List[Callable[[], data.Split]] = [
        lambda: data.shakespeare(SHAKESPEARE, (9, 16), args.heldout),
        lambda: data.fortunes(FORTUNES, CATEGORIES, args.heldout),
    ]
    for make in corpora:
        run_corpus(make(), args, seeds)
    print(f"\nbench_real_text.py: {time.perf_counter() - start:.1f} s in all")


if __name__ == "__main__":
    main()
