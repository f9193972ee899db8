"""simulacra's transformer trainer against PyTorch eager and torch.compile, same model, same run.

nanoGPT's CPU run on tinyshakespeare (4 layers, 4 heads, width 128, context 64,
batch 12, AdamW (0.9, 0.99), weight decay 0.1, clip 1.0, warmup 100 then cosine
to 1e-4, bytes as tokens, last 10% held out), trained by simulacra's C++ trainer
(through the Python bindings), by bench/torch_gpt_train.py eagerly (the PyTorch
implementation of the same architecture in tests/python/torch_gpt.py), and by
the same script with the forward and loss through torch.compile (inductor;
compilation happens in an untimed first step and is reported apart). For each
thread count the three sides alternate `--rounds` times, the side that starts
rotating from round to round, so that a noisy machine hurts all alike; each
figure is the median over the rounds with the spread (min-max), and the ratios
are of the medians, with the spread of the per-round ratios.

`--noisy N` starts N busy-loop processes (each pinned to one core, cores 1, 0,
...) for the whole measurement and kills them by PID at the end: the ratio on a
busy machine, measured on purpose. `--peak` takes the FMA peak from
build/bench/bench_transformer --peak-only (per thread count, the best of one
measurement per round) for simulacra's share of it.

    python bench/bench_transformer.py                             # 200 steps, 3 rounds, 1 and 2 threads
    python bench/bench_transformer.py --noisy 1                   # beside a busy loop on one core
    python bench/bench_transformer.py --threads 2 --steps 2000 --rounds 1 --sides simulacra eager

Needs torch (scripts/setup.sh --python installs the pinned CPU build).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import simulacra
from torch_gpt_train import DEFAULT_DATA, train_torch

ROOT = Path(__file__).resolve().parents[1]
SIDES = ("simulacra", "eager", "compile")
TOKENS_PER_STEP = 12 * 64
UNTIMED = 5


def train_simulacra(text: bytes, steps: int, threads: int, seed: int) -> dict:
    data = simulacra.TransformerData.from_text(text, heldout=0.1, name="shakespeare")
    trainer = simulacra.TransformerTrainer(data, steps=steps, threads=threads, seed=seed, eval_every=0)
    for _ in range(UNTIMED):  # the same untimed warm-up steps as the torch runs
        trainer.update()
    start = time.perf_counter()
    while trainer.steps_done < steps:
        trainer.update()
    seconds = time.perf_counter() - start
    # the held-out loss (200 windows of 64) outside the timing, as the torch runs'
    return {"tokens_per_second": (steps - UNTIMED) * TOKENS_PER_STEP / seconds, "heldout": trainer.evaluate(),
            "compile_seconds": 0.0}


def train_side(side: str, text: bytes, steps: int, threads: int, seed: int) -> dict:
    if side == "simulacra":
        return train_simulacra(text, steps, threads, seed)
    run = train_torch(text, steps=steps, threads=threads, seed=seed, untimed_steps=UNTIMED, compile=side == "compile")
    return {"tokens_per_second": run.tokens_per_second, "heldout": run.heldout_loss,
            "compile_seconds": run.compile_seconds}


def fma_peak(threads: int) -> float:
    """GFLOP/s of register-only FMA chains on `threads` threads, from the C++ benchmark (0 if absent)."""
    binary = ROOT / "build" / "bench" / "bench_transformer"
    if not binary.exists():
        return 0.0
    out = subprocess.run([str(binary), "--peak-only", "--threads", str(threads)], capture_output=True, text=True)
    for line in out.stdout.splitlines():
        if line.startswith("fma_peak_gflops"):
            return float(line.split()[1])
    return 0.0


def start_noise(count: int) -> list:
    """`count` busy-loop processes, each pinned to one core (the last cores first)."""
    cores = sorted(os.sched_getaffinity(0))
    procs = []
    for i in range(count):
        core = cores[-1 - i % len(cores)]
        procs.append(subprocess.Popen([sys.executable, "-c", "while True: pass"],
                                      preexec_fn=lambda c=core: os.sched_setaffinity(0, {c})))
    return procs


def spread(xs) -> str:
    return f"{min(xs):.0f}-{max(xs):.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--sides", nargs="+", choices=SIDES, default=list(SIDES))
    parser.add_argument("--noisy", type=int, default=0, help="busy-loop processes beside the run, one core each")
    parser.add_argument("--peak", action="store_true", help="the FMA peak from build/bench/bench_transformer")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.steps <= UNTIMED + 1:
        raise SystemExit(f"--steps must be more than {UNTIMED + 1}")
    import torch

    text = args.data.read_bytes()
    flops = simulacra.TransformerConfig().training_flops_per_token
    peaks = {}  # the best FMA peak over the rounds (load only lowers it)
    print(f"bench_transformer.py: {args.data.name} ({len(text)} bytes), {args.steps} steps per run "
          f"({UNTIMED} untimed), {args.rounds} round(s), sides {' '.join(args.sides)}, torch {torch.__version__}")
    print(f"load before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} (1, 5, 15 min); "
          f"noisy neighbours: {args.noisy}")
    noise = start_noise(args.noisy)
    try:
        results = {}
        for threads in args.threads:
            runs = {s: [] for s in args.sides}
            for r in range(args.rounds):
                order = args.sides[r % len(args.sides):] + args.sides[: r % len(args.sides)]
                line = []
                for side in order:
                    runs[side].append(train_side(side, text, args.steps, threads, args.seed))
                    line.append(f"{side} {runs[side][-1]['tokens_per_second']:7.0f}")
                if args.peak:
                    peaks[threads] = max(peaks.get(threads, 0.0), fma_peak(threads))
                print(f"  {threads} thread(s), round {r + 1}: " + "   ".join(line) + "  tokens/s", flush=True)
            results[threads] = runs
    finally:
        for p in noise:
            p.kill()
            p.wait()
    print(f"load after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")

    for threads, runs in results.items():
        tps = {s: [x["tokens_per_second"] for x in runs[s]] for s in runs}
        med = {s: statistics.median(v) for s, v in tps.items()}
        print(f"\n{threads} thread(s): training tokens/s, median (min-max) of {args.rounds}")
        for s in runs:
            extra = ""
            if s == "compile":
                extra = f"   compile (first step) {statistics.median(x['compile_seconds'] for x in runs[s]):.1f} s, not timed"
            if s == "simulacra" and peaks.get(threads):
                extra = (f"   {med[s] * flops / 1e9:.1f} GFLOP/s = {100 * med[s] * flops / 1e9 / peaks[threads]:.1f}% "
                         f"of the FMA peak ({peaks[threads]:.1f} GFLOP/s on {threads} thread(s))")
            print(f"  {s:<10} {med[s]:8.0f}  ({spread(tps[s])}){extra}")
        if "simulacra" in runs:
            for s, target in (("eager", 2.0), ("compile", 1.8)):
                if s not in runs:
                    continue
                per_round = [a / b for a, b in zip(tps["simulacra"], tps[s])]
                ratio = med["simulacra"] / med[s]
                print(f"  simulacra / {s:<8} {ratio:.2f}x  (per round {min(per_round):.2f}-{max(per_round):.2f}x; "
                      f"target >= {target}x: {'met' if ratio >= target else 'not met'})")
        held = "  ".join(f"{s} {runs[s][-1]['heldout']:.4f}" for s in runs)
        print(f"  held-out loss after {args.steps} steps (nats/byte, last round): {held}")
        if "simulacra" in runs and not math.isfinite(runs["simulacra"][-1]["heldout"]):
            raise SystemExit("simulacra's held-out loss is not finite")


if __name__ == "__main__":
    main()
