"""Batch calls against a Python loop: Mixture.score_batch and attribute_batch on the embedded corpus.

A pile is fitted on the embedded corpus (Corpus.builtin(), order 5), and its documents (each repeated
--copies times, so that a side takes long enough to time) are scored and attributed both ways:

    loop:   [pile.score(t) for t in texts]      one call per document, the GIL taken and released per call
    batch:  pile.score_batch(texts)             one call, the GIL released once, the documents on every core

The two sides alternate, --repeats rounds each, so that a change of machine load hits both alike; the
line printed per call is the median wall time of each side and the speed-up (loop / batch), with the number
of OpenMP threads the batch may use (OMP_NUM_THREADS sets it), and beside each side the cores it kept busy
(the process's CPU time over the wall time, summed over the rounds: below 1 for the loop and near the
thread count for the batch on an idle machine; on a loaded one both fall, and the speed-up with them). The
results of both sides are checked equal.

    python bench/bench_batch.py                 # 7 rounds, 20 copies of the 240 documents
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time

import simulacra


def timed(call) -> tuple[float, float, object]:
    """(wall seconds, process CPU seconds, result) of call()."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = call()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def compare(name: str, loop, batch, same, repeats: int) -> None:
    walls: dict[str, list[float]] = {"loop": [], "batch": []}
    cpus: dict[str, list[float]] = {"loop": [], "batch": []}
    for r in range(repeats):
        sides = [("loop", loop), ("batch", batch)]
        if r % 2:
            sides.reverse()  # alternate which side runs first
        results = {}
        for side, call in sides:
            wall, cpu, results[side] = timed(call)
            walls[side].append(wall)
            cpus[side].append(cpu)
        assert same(results["loop"], results["batch"]), f"{name}: the batch differs from the loop"
    lo, ba = statistics.median(walls["loop"]), statistics.median(walls["batch"])
    busy = {side: sum(cpus[side]) / sum(walls[side]) for side in walls}
    print(f"  {name:10} loop {1e3 * lo:8.1f} ms ({busy['loop']:.2f} cores busy)   "
          f"batch {1e3 * ba:8.1f} ms ({busy['batch']:.2f} cores busy)   speed-up {lo / ba:5.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--copies", type=int, default=20, help="times each embedded document is repeated")
    ap.add_argument("--repeats", type=int, default=7, help="rounds of each side, alternating")
    args = ap.parse_args()

    corpus = simulacra.Corpus.builtin()
    pile = simulacra.Mixture.fit(corpus, order=5)
    texts = [d.raw for d in corpus] * args.copies
    threads = os.environ.get("OMP_NUM_THREADS", f"all {os.cpu_count()} cores")
    print(f"{len(texts)} documents ({sum(map(len, texts))} bytes), {len(pile)} personas, "
          f"{args.repeats} alternating rounds, batch threads: {threads}")
    compare("score", lambda: [pile.score(t) for t in texts], lambda: pile.score_batch(texts),
            lambda a, b: list(a) == b.tolist(), args.repeats)
    compare("attribute", lambda: [list(pile.attribute(t).values()) for t in texts],
            lambda: pile.attribute_batch(texts), lambda a, b: a == [[math.exp(v) for v in row] for row in b],
            args.repeats)


if __name__ == "__main__":
    main()
