"""Do default generations emit bytes the personas never saw? Measured on real text.

A pile is trained on Shakespeare speakers (ranked 9 to 16 by amount of speech in
../shared/data/tinyshakespeare.txt) and on the embedded corpus; each sampler
setting then generates `--samples` continuations of `--bytes` bytes from a
document start, one seed each, and the benchmark counts the samples holding at
least one byte that occurs nowhere in the training text. Rows: the settings
before this change (Python / C++ defaults: temperature 1, no truncation; the CLI's:
temperature 0.8, no truncation), the library's defaults now (SamplerConfig,
Mixture.generate and the CLI agree), and each truncation alone.

Beside each count, the price of the truncation: the share of held-out bytes the
setting could never draw (the true next byte outside the truncated set of the
mixture's distribution, over the first `--coverage` bytes of the first
`--heldout-docs` held-out documents).

    python bench/bench_sampling_defaults.py              # 50 samples of 200 bytes per row
"""

from __future__ import annotations

import argparse
import collections
from pathlib import Path

import numpy as np

import simulacra

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "tinyshakespeare.txt"


def speakers_9_to_16(path: Path) -> simulacra.Corpus:
    play = simulacra.Corpus.from_play(path, top_speakers=16)
    size = collections.Counter()
    for doc in play:
        size[doc.persona] += len(doc.raw)
    ranked = [name for name, _ in size.most_common()]
    keep = set(ranked[8:16])
    out = simulacra.Corpus()
    for doc in play:
        if doc.persona in keep:
            out.add(doc.raw, doc.persona)
    return out


def kept(logprobs: np.ndarray, temperature: float, top_p: float, min_p: float) -> np.ndarray:
    """The tokens a setting can draw from one distribution (a brute-force truncation)."""
    p = np.exp(logprobs.astype(np.float64) - logprobs.max())
    if temperature == 0:
        return p == p.max()
    order = np.argsort(-p, kind="stable")
    keep = np.zeros(p.size, dtype=bool)
    cum = np.cumsum(p[order])
    n = int(np.searchsorted(cum, top_p * cum[-1]) + 1) if top_p < 1 else p.size
    keep[order[:n]] = True
    if min_p > 0:
        keep &= p >= min_p
    return keep


def cut_share(pile: simulacra.Mixture, heldout: list[bytes], setting: dict, limit: int) -> float:
    cut = total = 0
    for text in heldout:
        reader = pile.begin()
        for byte in text[:limit]:
            lp = np.asarray(reader.predict().logprobs)
            total += 1
            cut += not kept(lp, setting["temperature"], setting["top_p"], setting["min_p"])[byte]
            reader.step(byte)
    return cut / max(total, 1)


# The library's defaults (SamplerConfig in C++, Mixture.generate, the CLI); checked against generate() below.
DEFAULTS = dict(temperature=0.8, top_p=0.95, min_p=0.05)


def measure(name: str, corpus: simulacra.Corpus, args) -> None:
    train, heldout = corpus.split(0.1, seed=0)
    pile = simulacra.Mixture.fit(train)
    probe = dict(max_tokens=100, seed=1, stop_at_boundary=False)
    assert pile.generate(**probe).bytes == pile.generate(**DEFAULTS, **probe).bytes, "DEFAULTS are out of date"
    seen = set()
    for doc in train:
        seen.update(doc.raw)
    settings = {
        "before: Python/C++ default (T 1, no truncation)": dict(temperature=1.0, top_p=1.0, min_p=0.0),
        "before: CLI default (T 0.8, no truncation)": dict(temperature=0.8, top_p=1.0, min_p=0.0),
        "T 1, top-p 0.95": dict(temperature=1.0, top_p=0.95, min_p=0.0),
        "T 1, min-p 0.05": dict(temperature=1.0, top_p=1.0, min_p=0.05),
        "now: the defaults (T 0.8, top-p 0.95, min-p 0.05)": {},
    }
    texts = [doc.raw for doc in heldout][: args.heldout_docs]
    print(f"\n{name}: {len(corpus.personas)} personas, {train.bytes} training bytes, "
          f"{len(seen)} distinct bytes seen; {args.samples} samples of {args.bytes} bytes per row")
    print(f"  {'setting':52} {'samples with an unseen byte':>28} {'unseen bytes':>13} {'held-out bytes cut':>19}")
    for label, setting in settings.items():
        hit = unseen = 0
        for seed in range(args.samples):
            out = pile.generate(max_tokens=args.bytes, seed=seed, stop_at_boundary=False, **setting)
            bad = [b for b in out.bytes if b not in seen]
            hit += bool(bad)
            unseen += len(bad)
        share = cut_share(pile, texts, setting or DEFAULTS, args.coverage) if args.coverage else float("nan")
        print(f"  {label:52} {hit:>22} / {args.samples:<3} {unseen:>13} {100 * share:>18.2f}%")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=50)
    ap.add_argument("--bytes", type=int, default=200)
    ap.add_argument("--heldout-docs", type=int, default=100, help="held-out documents for the cut share")
    ap.add_argument("--coverage", type=int, default=100, help="bytes of each held-out document (0: skip)")
    args = ap.parse_args()
    measure("Shakespeare speakers 9-16", speakers_9_to_16(DATA), args)
    measure("embedded corpus", simulacra.Corpus.builtin(), args)


if __name__ == "__main__":
    main()
