"""simulacra.dask against one process: counting n-grams and fitting personas on a LocalCluster.

Two piles, written by the benchmark as JSON Lines shards in a temporary directory (what a cluster reads from
shared storage):

    tiny:   ../shared/data/tinyshakespeare.txt, one speech per document, persona = speaker (1.1 MB)
    pile:   --copies copies of it (default 14: about 15 MB), each copy's speeches shuffled and varied (every
            letter shifted by the copy's number, so the copies do not share their n-grams), persona = one of
            --personas (64) by a hash of the speaker and the copy

Per pile, the sides alternate (--repeats rounds, which one runs first swapped each round):

    local:      NGramPersona.fit(texts_of(name), order) for every persona, in this process, from the corpus
                already in memory (the local side never reads the files)
    local-cnt:  NGramCounts(texts_of(name), order) for every persona (counting only)
    dask-1/2:   simulacra.dask.fit_personas(client, "<dir>/*.jsonl", order, background=False) on a LocalCluster
                of 1 / 2 worker processes (one thread each): the shards read, counted, merged per persona and
                the personas built on the workers, then gathered here
    dask-2-cnt: simulacra.dask.count_ngrams on the 2-worker cluster (counts gathered here)
    dask-1/2-text: fit_personas(..., route="text"): the shards read on the workers, their texts split by merge
                group and routed to one task per group, which counts and fits each of its personas once

After the timed rounds, one more run of each dask side under Dask's task stream breaks its time down: the
compute seconds per kind of task (reading and counting or splitting a shard, merging, fitting), the seconds
spent transferring and deserialising task inputs between workers, and the wall time not covered by tasks
(scheduling, gathering to the client).

Printed: the median wall time of each side with the spread (min-max), the ratios against local, the tasks of
a job, the time unpickling the gathered personas and counts takes, and the bytes of counts each shard ships
(NGramCounts.to_bytes, the pickled size) against the shard's text. Every side's result is checked equal to
local's (counts equal; personas' pickled bytes equal).

    python bench/bench_dask.py                  # order 5, 5 rounds, 14 copies
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import pickle
import random
import statistics
import tempfile
import time
import zlib
from pathlib import Path

import dask
import distributed
from dask.distributed import Client, LocalCluster

import simulacra
import simulacra.dask as sd

SHAKESPEARE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "tinyshakespeare.txt"


def shift(text: str, k: int) -> str:
    """Every ASCII letter moved k places along its alphabet: a copy with n-grams of its own."""
    if k == 0:
        return text
    table = {c: chr((c - base + k) % 26 + base) for base in (65, 97) for c in range(base, base + 26)}
    return text.translate(table)


def write_shards(pairs: list[tuple[str, str]], directory: Path, shards: int) -> list[Path]:
    paths = []
    for s in range(shards):
        path = directory / f"shard{s:03d}.jsonl"
        with open(path, "w") as f:
            for persona, text in pairs[s::shards]:
                f.write(json.dumps({"persona": persona, "text": text}) + "\n")
        paths.append(path)
    return paths


def piles(copies: int, personas: int) -> dict[str, list[tuple[str, str]]]:
    play = simulacra.Corpus.from_play(SHAKESPEARE)
    tiny = [(d.persona, d.text) for d in play]
    pile = []
    for c in range(copies):
        speeches = list(tiny)
        random.Random(c).shuffle(speeches)
        for speaker, text in speeches:
            pile.append((f"p{zlib.crc32(f'{speaker}/{c}'.encode()) % personas:02d}", shift(text, c)))
    return {"tiny": tiny, "pile": pile}


def timed(call):
    start = time.perf_counter()
    out = call()
    return time.perf_counter() - start, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--order", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=5, help="rounds of each side, alternating")
    ap.add_argument("--copies", type=int, default=14, help="copies of tinyshakespeare in the large pile")
    ap.add_argument("--personas", type=int, default=64, help="personas of the large pile")
    ap.add_argument("--shards", type=int, default=16, help="JSON Lines files (partitions) of the large pile")
    ap.add_argument("--skip-tiny", action="store_true", help="only the large pile")
    ap.add_argument("--no-counts", action="store_true", help="leave out the counting-only sides")
    ap.add_argument("--mixture", action="store_true",
                    help="only the whole Mixture.fit on the tiny pile: local vs fit_mixture on 2 workers with its "
                         "held-out jobs on 1 and 2 driver threads (heldout_threads)")
    args = ap.parse_args()

    clusters = {
        w: LocalCluster(n_workers=w, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None)
        for w in (1, 2)
    }
    clients = {w: Client(c) for w, c in clusters.items()}
    try:
        if args.mixture:
            run_mixture(piles(args.copies, args.personas)["tiny"], args, clients)
            return
        for name, pairs in piles(args.copies, args.personas).items():
            if args.skip_tiny and name == "tiny":
                continue
            with tempfile.TemporaryDirectory() as tmp:
                run(name, pairs, Path(tmp), args, clients)
    finally:
        for w in clients:
            clients[w].close()
            clusters[w].close()


def run_mixture(pairs, args, clients) -> None:
    """Mixture.fit(order="auto", order_grid 3..6, calibrate, segmentation) of the tiny pile's 16 most voluble
    speakers: local, and
    fit_mixture on the 2-worker cluster with heldout_threads 1 and 2; the model bytes checked equal."""
    top = {p for p, _ in collections.Counter(p for p, _ in pairs).most_common(16)}  # the 16 most voluble
    pairs = [(p, t) for p, t in pairs if p in top]
    corpus = simulacra.Corpus.from_texts([t for _, t in pairs], [p for p, _ in pairs])
    fit = dict(order_grid=[3, 4, 5, 6], seed=1)
    print(f"mixture: {len(corpus)} documents, {len(corpus.personas)} personas, {corpus.bytes / 1e6:.1f} MB, "
          f"order_grid {fit['order_grid']}", flush=True)
    sides = {
        "local": lambda: simulacra.Mixture.fit(corpus, **fit),
        "dask-2-threads-1": lambda: sd.fit_mixture(clients[2], corpus, heldout_threads=1, **fit),
        "dask-2-threads-2": lambda: sd.fit_mixture(clients[2], corpus, heldout_threads=2, **fit),
    }
    walls: dict[str, list[float]] = {s: [] for s in sides}
    reference = None
    for r in range(args.repeats):
        for side in (list(sides) if r % 2 == 0 else list(reversed(sides))):
            wall, out = timed(sides[side])
            walls[side].append(wall)
            print(f"    round {r}: {side} {wall:.2f} s (load {os.getloadavg()[0]:.1f})", flush=True)
            reference = reference or pickle.dumps(out)
            assert pickle.dumps(out) == reference, f"{side}: the mixture differs"
    base = statistics.median(walls["local"])
    for side, w in walls.items():
        m = statistics.median(w)
        print(f"  {side:17} {m:7.2f} s  (spread {min(w):.2f}-{max(w):.2f} s)   local / {side} = {base / m:4.2f}x")


def run(name: str, pairs, directory: Path, args, clients) -> None:
    shards = 4 if name == "tiny" else args.shards
    paths = write_shards(pairs, directory, shards)
    corpus = simulacra.Corpus.from_texts([t for _, t in pairs], [p for p, _ in pairs])
    names = corpus.personas
    size = sum(p.stat().st_size for p in paths)
    print(f"{name}: {len(pairs)} documents, {len(names)} personas, {corpus.bytes / 1e6:.1f} MB of text "
          f"in {shards} shards ({size / 1e6:.1f} MB of JSON Lines), order {args.order}", flush=True)
    glob = str(directory / "*.jsonl")
    order = args.order

    def local():
        return [simulacra.NGramPersona.fit(corpus.texts_of(n), order) for n in names]

    def local_counts():
        return {n: simulacra.NGramCounts(corpus.texts_of(n), order) for n in names}

    sides = {
        "local": local,
        "local-cnt": local_counts,
        "dask-1": lambda: sd.fit_personas(clients[1], glob, order, background=False)[1],
        "dask-2": lambda: sd.fit_personas(clients[2], glob, order, background=False)[1],
        "dask-2-cnt": lambda: sd.count_ngrams(clients[2], glob, order),
        "dask-1-text": lambda: sd.fit_personas(clients[1], glob, order, background=False, route="text")[1],
        "dask-2-text": lambda: sd.fit_personas(clients[2], glob, order, background=False, route="text")[1],
    }
    if args.no_counts:
        del sides["local-cnt"], sides["dask-2-cnt"]
    walls: dict[str, list[float]] = {s: [] for s in sides}
    reference = None
    reference_counts = None
    for r in range(args.repeats):
        order_of_sides = list(sides)
        if r % 2:
            order_of_sides.reverse()
        for side in order_of_sides:
            wall, out = timed(sides[side])
            walls[side].append(wall)
            print(f"    round {r}: {side} {wall:.2f} s (load {os.getloadavg()[0]:.1f})", flush=True)
            if side.endswith("-cnt"):
                if reference_counts is None:
                    reference_counts = local_counts() if side != "local-cnt" else out
                assert out == reference_counts, f"{side}: the counts differ"
            else:
                if reference is None:
                    reference = [pickle.dumps(p) for p in (out if side == "local" else local())]
                assert [pickle.dumps(p) for p in out] == reference, f"{side}: the personas differ"
    base = statistics.median(walls["local"])
    for side, w in walls.items():
        m = statistics.median(w)
        print(f"  {side:10} {m:7.2f} s  (spread {min(w):.2f}-{max(w):.2f} s, {len(w)} rounds)   "
              f"local / {side} = {base / m:4.2f}x")
    print(f"  dask-2 / dask-1 speed-up {statistics.median(walls['dask-1']) / statistics.median(walls['dask-2']):.2f}x")
    print(f"  dask-2-text / dask-1-text speed-up "
          f"{statistics.median(walls['dask-1-text']) / statistics.median(walls['dask-2-text']):.2f}x")
    for side in [s for s in sides if s.startswith("dask") and not s.endswith("-cnt")]:
        breakdown(side, sides[side], clients[int(side.split("-")[1])])

    # Bytes shipped: what each shard's counts pickle to, against its text.
    client = clients[2]
    sizes = client.gather(client.map(shard_bytes, [str(p) for p in paths], order=order, pure=False))
    text = [s[0] for s in sizes]
    wire = [s[1] for s in sizes]
    print(f"  shipped per shard: median {statistics.median(wire) / 1e6:.2f} MB of counts "
          f"({min(wire) / 1e6:.2f}-{max(wire) / 1e6:.2f}) for {statistics.median(text) / 1e6:.2f} MB of text; "
          f"all shards {sum(wire) / 1e6:.1f} MB ({sum(wire) / sum(text):.2f} bytes per byte of text)")
    roots, groups = sd._reduced_groups(client, glob, order, "auto", None, 8, None)
    graph: dict = {}
    for job in [dask.delayed(sd._fit_group)(r) for r in roots]:
        graph.update(dict(job.__dask_graph__()))
    tasks = len(graph)
    extra = statistics.median(walls["dask-1"]) - statistics.median(walls["local"])
    print(f"  fit_personas on 2 workers: {tasks} tasks ({len(paths)} shards x {groups} merge groups); "
          f"dask-1 - local = {extra:.2f} s over them ({1e3 * extra / tasks:.1f} ms per task: scheduling, "
          f"reading the shards, shipping and unpickling)")
    wall, _ = timed(lambda: [pickle.loads(b) for b in reference])
    if reference_counts is None:  # --no-counts
        print(f"  unpickling in one process: the personas {wall:.2f} s ({sum(map(len, reference)) / 1e6:.1f} MB)")
        return
    counts_wire = [pickle.dumps(c) for c in reference_counts.values()]
    cwall, _ = timed(lambda: [pickle.loads(b) for b in counts_wire])
    print(f"  unpickling in one process: the personas {wall:.2f} s ({sum(map(len, reference)) / 1e6:.1f} MB), "
          f"the merged counts {cwall:.2f} s ({sum(map(len, counts_wire)) / 1e6:.1f} MB)")


def breakdown(side: str, call, client) -> None:
    """One more run of a side under Dask's task stream: compute seconds per kind of task, transfer and
    deserialisation seconds, and the wall time the tasks' compute does not cover."""
    with distributed.get_task_stream(client) as stream:
        wall, _ = timed(call)
    compute: dict[str, float] = {}
    moved = {"transfer": 0.0, "deserialize": 0.0, "disk-read": 0.0}
    tasks = 0
    for record in stream.data:
        tasks += 1
        prefix = distributed.utils.key_split(record["key"])
        for ss in record["startstops"]:
            if ss["action"] == "compute":
                compute[prefix] = compute.get(prefix, 0.0) + ss["stop"] - ss["start"]
            elif ss["action"] in moved:
                moved[ss["action"]] += ss["stop"] - ss["start"]
    workers = len(client.scheduler_info()["workers"])
    busy = sum(compute.values())
    parts = ", ".join(f"{k} {v:.2f}" for k, v in sorted(compute.items(), key=lambda kv: -kv[1]))
    print(f"  {side:11} breakdown: wall {wall:.2f} s, {tasks} tasks; compute s: {parts}; transfer "
          f"{moved['transfer']:.2f} s, deserialise {moved['deserialize']:.2f} s; wall x workers - compute = "
          f"{wall * workers - busy:.2f} worker-s not computing ({1e3 * (wall * workers - busy) / max(tasks, 1):.0f}"
          f" ms per task)", flush=True)


def shard_bytes(path: str, order: int) -> tuple[int, int, int]:
    """(bytes of text, bytes of the pickled counts, personas present) of one shard, counted on a worker."""
    counts = sd._count_file(path, 0, order, "auto", 1)[0]
    corpus = simulacra.Corpus.from_jsonl(path)
    return corpus.bytes, sum(len(pickle.dumps(c)) for c in counts.values()), len(counts)


if __name__ == "__main__":
    main()
