"""The compact and quantised n-gram layouts (docs/compact.md) against the double model and KenLM, in one process.

An order-N NGramPersona is fitted on the first 90% of the lines of tinyshakespeare (each line a document),
compacted (lm.compact()) and quantised (lm.compact(quantize=True)). Printed, per order:

    bytes per stored n-gram      memory_bytes / num_ngrams of each layout
    perplexity                   on the held-out last 10% of the lines, each, and its ratio to double's - 1
    load time                    simulacra.load (copying) of each pile, and simulacra.load(mmap=True) of the
                                 compact and quantised piles (the file in the page cache)
    scoring speed                token_logprobs of the held-out text joined by newlines (one call), each
                                 layout, and kenlm.Model.score per line on the model's ARPA export (the
                                 module's probing table), where the kenlm module is installed

The sides run in turn within each of --repeats rounds, in reverse order every other round, so that a change
of machine load hits all alike; printed are medians and the min/median/max of the per-round ratios.

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
    models = {"double": lm, "compact": lm.compact(), "quantised": lm.compact(quantize=True)}
    n = lm.num_ngrams
    tokens = sum(len(line) + 1 for line in held)
    ppl = {name: math.exp(-sum(m.score(line) for line in held) / tokens) for name, m in models.items()}
    print(f"order {order}: {n} n-grams {lm.ngrams_per_order}, {len(held)} held-out lines, {tokens} tokens")
    for name, m in models.items():
        print(f"  {name:10s} {m.memory_bytes / n:6.2f} bytes per n-gram, perplexity {ppl[name]:.5f} "
              f"({name}/double - 1 = {ppl[name] / ppl['double'] - 1:+.2e})")
    print(f"  quantised: largest |sum of a next-token distribution - 1| {models['quantised'].max_sum_error:.3f} "
          f"(tolerance {simulacra.QuantNGramPersona.sum_tolerance})")
    joined = b"\n".join(held)
    with tempfile.TemporaryDirectory() as tmp:
        paths = {name: Path(tmp) / f"{name}.safetensors" for name in models}
        for name, m in models.items():
            simulacra.Mixture([m], ["bard"]).save(paths[name])
        loads = {"load double": lambda: simulacra.load(paths["double"])}
        for name in ("compact", "quantised"):
            loads[f"load {name}"] = lambda p=paths[name]: simulacra.load(p)
            loads[f"load {name} mmap"] = lambda p=paths[name]: simulacra.load(p, mmap=True)
        sides = {f"{name} whole text": (lambda m=m: m.token_logprobs(joined)) for name, m in models.items()}
        theirs = None
        if kenlm is not None and order <= 6:
            arpa = Path(tmp) / "model.arpa"
            lm.to_arpa(arpa)
            theirs = kenlm.Model(str(arpa))
            sentences = [" ".join(f"{b:02x}" for b in line) for line in held]
            sides["kenlm per line"] = lambda: [theirs.score(s, bos=True, eos=True) for s in sentences]
        load_times = {name: [] for name in loads}
        times = {name: [] for name in sides}
        for r in range(repeats):
            for name, call in loads.items():
                load_times[name].append(timed(call)[0])
            order_of_sides = list(sides.items())
            if r % 2:
                order_of_sides.reverse()  # alternate which side runs first
            for name, call in order_of_sides:
                times[name].append(timed(call)[0])
        sizes = ", ".join(f"{name} {p.stat().st_size / 1e6:.2f} MB" for name, p in paths.items())
        print(f"  file sizes: {sizes}")
    for name, ts in load_times.items():
        print(f"  {name:22s} {statistics.median(ts) * 1e3:8.2f} ms (min/median/max {spread([t * 1e3 for t in ts])})")
    for name, ts in times.items():
        print(f"  {name:22s} {tokens / statistics.median(ts) / 1e6:8.2f} M tokens/s")
    for name in ("compact", "quantised"):
        ratio = [d / c for d, c in zip(times["double whole text"], times[f"{name} whole text"])]
        print(f"  {name} / double speed (min/median/max): {spread(ratio)}")
    if "kenlm per line" in times:
        for name in models:
            ratio = [k / c for c, k in zip(times[f"{name} whole text"], times["kenlm per line"])]
            print(f"  {name} / kenlm per line speed (min/median/max): {spread(ratio)}")


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
