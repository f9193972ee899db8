"""What a persona written in Python costs: µs per token against the C++ n-gram holding the same table.

The reference is an order-2 n-gram of the embedded pirate persona; its next-token distribution is a table
T[previous token, next token], read out in float64. Three personas give the same numbers:

    cpp:       the NGramPersona itself
    next:      a simulacra.Persona subclass whose next_logprobs(context) returns the row T[context[-1]]:
               one Python call per token (the trace, score and generation paths)
    batched:   the same with token_logprobs(tokens) returning T[previous, tokens] for a whole document:
               one Python call per document (trace, score, attribute)
    constant:  a next_logprobs that returns one prepared array: the floor of a call (other numbers)

Each is the only mask of a pile, so the pile's own work is the same on every side. The sides alternate,
--repeats rounds each; printed are the median µs per token over the rounds, the spread (min..max) and the
ratio to the C++ side. Scoring reads the documents of the embedded corpus (--copies times); generation
draws --tokens tokens (one next_logprobs call each: the state caches it for the advance that follows).

    python bench/bench_python_persona.py          # 7 rounds
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import simulacra

START = simulacra.BOUNDARY


def table_of(lm) -> np.ndarray:
    t = np.empty((257, 257))
    t[START, START] = lm.token_logprobs(b"")[0]
    for a in range(256):
        one = lm.token_logprobs(bytes([a]))
        t[START, a], t[a, START] = one[0], one[1]
        for b in range(256):
            t[a, b] = lm.token_logprobs(bytes([a, b]))[1]
    return t


class Next(simulacra.Persona):
    def __init__(self, table):
        super().__init__()
        self.table = table

    def next_logprobs(self, context):
        return self.table[context[-1] if len(context) else START]


class Constant(simulacra.Persona):
    """The floor: a method that returns one prepared array (the adapter's own cost and a Python call)."""

    def __init__(self, row):
        super().__init__()
        self.row = row

    def next_logprobs(self, context):
        return self.row


class Batched(Next):
    def token_logprobs(self, tokens):
        return self.table[np.concatenate(([START], tokens[:-1])), tokens]


def measure(name: str, sides: dict, tokens: int, repeats: int, check) -> None:
    times: dict[str, list[float]] = {side: [] for side in sides}
    order = list(sides)
    for r in range(repeats):
        results = {}
        for side in order if r % 2 == 0 else order[::-1]:
            start = time.perf_counter()
            results[side] = sides[side]()
            times[side].append(1e6 * (time.perf_counter() - start) / tokens)
        check(results)
    ref = statistics.median(times["cpp"])
    print(f"{name} ({tokens} tokens a round):")
    for side, ts in times.items():
        med = statistics.median(ts)
        print(f"  {side:8} {med:8.3f} µs/token  (spread {min(ts):.3f}..{max(ts):.3f})  {med / ref:7.1f}x the C++ n-gram")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--copies", type=int, default=2, help="times each embedded document is scored")
    ap.add_argument("--tokens", type=int, default=2000, help="tokens generated a round")
    ap.add_argument("--repeats", type=int, default=7, help="rounds of each side, alternating")
    args = ap.parse_args()

    corpus = simulacra.Corpus.builtin()
    lm = simulacra.NGramPersona.fit(corpus.texts_of("pirate"), order=2)
    table = table_of(lm)
    piles = {side: simulacra.Mixture([p], ["pirate"]) for side, p in
             (("cpp", lm), ("next", Next(table)), ("batched", Batched(table)),
              ("constant", Constant(np.full(257, -np.log(257)))))}
    texts = [d.raw for d in corpus] * args.copies
    n = sum(len(t) + 1 for t in texts)

    def same(results):
        ref = np.asarray(results["cpp"])
        for side, got in results.items():
            if side != "constant":
                assert np.allclose(np.asarray(got), ref, rtol=0, atol=1e-9), side

    measure("score (one document at a time)", {s: (lambda p=p: [p.score(t) for t in texts]) for s, p in piles.items()},
            n, args.repeats, same)

    def same_text(results):
        assert len({g.bytes for g in results.values()}) == 1

    gen = {s: (lambda p=p: p.generate("", max_tokens=args.tokens, seed=5, stop_at_boundary=False))
           for s, p in piles.items() if s in ("cpp", "next")}
    measure("generate (the state path)", gen, args.tokens, args.repeats, same_text)


if __name__ == "__main__":
    main()
