"""simulacra's n-gram scoring against KenLM's, in one process, on the same ARPA model and held-out text.

An order-N NGramPersona is fitted on the first 90% of the lines of tinyshakespeare (each line a document),
exported with to_arpa (docs/arpa.md: byte b is the word '%02x', the document boundary </s>), and that file
is loaded by both sides: simulacra's NGramPersona.from_arpa and the `kenlm` module's kenlm.Model (which
reads an ARPA file into its probing hash table, KenLM's default and fastest structure). The held-out last
10% of the lines is then scored by

    simulacra, per line:    [lm.token_logprobs(line) for line in held]     one call per line, as KenLM below
    simulacra, whole text:  lm.token_logprobs(b"\\n".join(held))          the whole-sequence path, one call
    kenlm, per line:        [model.score(words(line), bos=True, eos=True) for line in held]

(words(line) is the line as hex words, built before the timing; tokens are the bytes plus one end of
sentence per line, on both sides). The sides alternate, --repeats rounds each, so that a change of
machine load hits both alike; printed are each side's tokens/s (median), and the ratio simulacra/kenlm per
round with its min/median/max. The two sides' per-line totals are checked equal (1e-4 relative). The load
times of the ARPA file are measured the same way.

KenLM's own trainer (lmplz) and binary formats (build_binary: probing or trie, quantised) are not on the
package index, so they are not measured: KenLM here is the module's ARPA -> probing path. The module's
build fixes KENLM_MAX_ORDER (6 by default; scripts/setup.sh builds it with 8).

    python bench/bench_kenlm.py                     # orders 3 and 6, 7 rounds
    python bench/bench_kenlm.py --orders 3 --repeats 3
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from pathlib import Path

import kenlm

import simulacra

SHAKESPEARE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "tinyshakespeare.txt"


def words(line: bytes) -> str:
    return " ".join(f"{b:02x}" for b in line)


def timed(call):
    start = time.perf_counter()
    out = call()
    return time.perf_counter() - start, out


def spread(xs: list[float]) -> str:
    return f"{min(xs):.2f} / {statistics.median(xs):.2f} / {max(xs):.2f}"


def bench_order(order: int, train: list[bytes], held: list[bytes], repeats: int) -> None:
    lm = simulacra.NGramPersona.fit(train, order)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"o{order}.arpa"
        lm.to_arpa(path)
        size = path.stat().st_size
        loads: dict[str, list[float]] = {"simulacra": [], "kenlm": []}
        ours = theirs = None
        for _ in range(repeats):
            t, ours = timed(lambda: simulacra.NGramPersona.from_arpa(path))
            loads["simulacra"].append(t)
            t, theirs = timed(lambda: kenlm.Model(str(path)))
            loads["kenlm"].append(t)
    sentences = [words(line) for line in held]
    joined = b"\n".join(held)
    tokens = sum(len(line) + 1 for line in held)

    def ours_per_line():
        return [ours.token_logprobs(line).sum() for line in held]

    def ours_whole():
        return ours.token_logprobs(joined)

    def kenlm_per_line():
        return [theirs.score(s, bos=True, eos=True) for s in sentences]

    a = ours_per_line()
    b = kenlm_per_line()
    for x, y in zip(a, b):
        assert math.isclose(x / math.log(10), y, rel_tol=1e-4), (x / math.log(10), y)
    sides = {"simulacra per line": ours_per_line, "simulacra whole text": ours_whole, "kenlm per line": kenlm_per_line}
    times: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(repeats):
        for name, call in sides.items():
            times[name].append(timed(call)[0])
    print(f"order {order}: {lm.num_ngrams} n-grams, ARPA file {size / 1e6:.1f} MB, {len(held)} held-out lines, "
          f"{tokens} tokens")
    ls, lk = statistics.median(loads["simulacra"]), statistics.median(loads["kenlm"])
    ratios = [k / s for s, k in zip(loads["simulacra"], loads["kenlm"])]
    print(f"  ARPA load: simulacra {ls * 1e3:.0f} ms, kenlm {lk * 1e3:.0f} ms; kenlm/simulacra time "
          f"(min/median/max) {spread(ratios)}")
    for name in sides:
        print(f"  {name:22s} {tokens / statistics.median(times[name]) / 1e6:7.2f} M tokens/s")
    for name in ["simulacra per line", "simulacra whole text"]:
        ratios = [k / s for s, k in zip(times[name], times["kenlm per line"])]
        print(f"  {name} / kenlm per line, speed (min/median/max): {spread(ratios)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, nargs="+", default=[3, 6])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--data", type=Path, default=SHAKESPEARE)
    args = parser.parse_args()
    lines = [line for line in args.data.read_bytes().split(b"\n") if line]
    cut = len(lines) * 9 // 10
    train, held = lines[:cut], lines[cut:]
    for order in args.orders:
        bench_order(order, train, held, args.repeats)


if __name__ == "__main__":
    main()
