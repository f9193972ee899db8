"""The compact n-gram layout (docs/compact.md) against the double model and KenLM, in one process.

An order-N NGramPersona is fitted on the first 90% of the lines of tinyshakespeare (each line a document)
and compacted (lm.compact()). Printed, per order:

    bytes per stored n-gram      memory_bytes / num_ngrams, double and compact
    perplexity                   on the held-out last 10% of the lines, both, and their ratio - 1
    load time                    simulacra.load (copying) of the double pile, of the compact pile, and
                                 simulacra.load(mmap=True) of the compact pile (the file in the page cache)
    scoring speed                token_logprobs of the held-out text joined by newlines (one call), double
                                 and compact, and kenlm.Model.score per line on the model's ARPA export
                                 (the module's probing table), where the kenlm module is installed

The sides alternate within each of --repeats rounds, so that a change of machine load hits all alike;
printed are medians and the min/median/max of the per-round ratios.

    python bench/bench_compact.py                     # orders 3 and 6, 7 rounds
    python bench/bench_compact.py --orders 6 --repeats 3
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from pathlib import Path

import simulacra

try:
    import kenlm
except ImportError:  # the comparison with KenLM is skipped
    kenlm = None

SHAKESPEARE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "tinyshakespeare.txt"


def timed(call):
    start = time.perf_counter()
    out = call()
    return time.perf_counter() - start, out


def spread(xs: list[float], fmt: str = ".2f") -> str:
    return f"{min(xs):{fmt}} / {statistics.median(xs):{fmt}} / {max(xs):{fmt}}"


def bench_order(order: int, train: list[bytes], held: list[bytes], repeats: int) -> None:
    lm = simulacra.NGramPersona.fit(train, order)
    small = lm.compact()
    n = lm.num_ngrams
    tokens = sum(len(line) + 1 for line in held)
    lp_double = sum(lm.score(line) for line in held)
    lp_compact = sum(small.score(line) for line in held)
    ppl_double, ppl_compact = math.exp(-lp_double / tokens), math.exp(-lp_compact / tokens)
    print(f"order {order}: {n} n-grams {lm.ngrams_per_order}, {len(held)} held-out lines, {tokens} tokens")
    print(f"  bytes per n-gram: double {lm.memory_bytes / n:.2f}, compact {small.memory_bytes / n:.2f}")
    print(f"  perplexity: double {ppl_double:.5f}, compact {ppl_compact:.5f}, "
          f"compact/double - 1 = {ppl_compact / ppl_double - 1:+.2e}")
    joined = b"\n".join(held)
    with tempfile.TemporaryDirectory() as tmp:
        dpath, cpath = Path(tmp) / "double.safetensors", Path(tmp) / "compact.safetensors"
        simulacra.Mixture([lm], ["bard"]).save(dpath)
        simulacra.Mixture([small], ["bard"]).save(cpath)
        loads = {
            "load double": lambda: simulacra.load(dpath),
            "load compact": lambda: simulacra.load(cpath),
            "load compact mmap": lambda: simulacra.load(cpath, mmap=True),
        }
        sides = {
            "double whole text": lambda: lm.token_logprobs(joined),
            "compact whole text": lambda: small.token_logprobs(joined),
        }
        theirs = None
        if kenlm is not None and order <= 6:
            arpa = Path(tmp) / "model.arpa"
            lm.to_arpa(arpa)
            theirs = kenlm.Model(str(arpa))
            sentences = [" ".join(f"{b:02x}" for b in line) for line in held]
            sides["kenlm per line"] = lambda: [theirs.score(s, bos=True, eos=True) for s in sentences]
        load_times = {name: [] for name in loads}
        times = {name: [] for name in sides}
        for _ in range(repeats):
            for name, call in loads.items():
                load_times[name].append(timed(call)[0])
            for name, call in sides.items():
                times[name].append(timed(call)[0])
        print(f"  file sizes: double {dpath.stat().st_size / 1e6:.2f} MB, compact {cpath.stat().st_size / 1e6:.2f} MB")
    for name, ts in load_times.items():
        print(f"  {name:20s} {statistics.median(ts) * 1e3:8.2f} ms (min/median/max {spread([t * 1e3 for t in ts])})")
    for name, ts in times.items():
        print(f"  {name:20s} {tokens / statistics.median(ts) / 1e6:8.2f} M tokens/s")
    ratio = [d / c for d, c in zip(times["double whole text"], times["compact whole text"])]
    print(f"  compact / double speed (min/median/max): {spread(ratio)}")
    if "kenlm per line" in times:
        ratio = [k / c for c, k in zip(times["compact whole text"], times["kenlm per line"])]
        print(f"  compact / kenlm per line speed (min/median/max): {spread(ratio)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, nargs="+", default=[3, 6])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--data", type=Path, default=SHAKESPEARE)
    args = parser.parse_args()
    lines = [line for line in args.data.read_bytes().split(b"\n") if line]
    cut = len(lines) * 9 // 10
    for order in args.orders:
        bench_order(order, lines[:cut], lines[cut:], args.repeats)


if __name__ == "__main__":
    main()
