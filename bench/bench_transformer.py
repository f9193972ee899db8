"""simulacra's transformer trainer against PyTorch, same model, same machine, same run.

nanoGPT's CPU run on tinyshakespeare (4 layers, 4 heads, width 128, context 64,
batch 12, AdamW (0.9, 0.99), weight decay 0.1, clip 1.0, warmup 100 then cosine
to 1e-4, bytes as tokens, last 10% held out), trained by simulacra's C++ trainer
(through the Python bindings) and by bench/torch_gpt_train.py (the PyTorch
implementation of the same architecture in tests/python/torch_gpt.py), with the
same thread count. The two runs alternate `--rounds` times and each figure is
the best round, so that a noisy machine hurts both alike.

    python bench/bench_transformer.py                  # 200 steps per round, 2 rounds
    python bench/bench_transformer.py --steps 2000 --rounds 1   # the full run, with held-out losses

Needs torch (scripts/setup.sh --python installs the pinned CPU build).
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import simulacra
from torch_gpt_train import DEFAULT_DATA, train_torch


def train_simulacra(text: bytes, steps: int, threads: int, seed: int):
    """(tokens/s over the steps, held-out loss in nats/byte, the trainer)."""
    data = simulacra.TransformerData.from_text(text, heldout=0.1, name="shakespeare")
    trainer = simulacra.TransformerTrainer(data, steps=steps, threads=threads, seed=seed, eval_every=0)
    for _ in range(5):  # the same untimed warm-up steps as the torch run
        trainer.update()
    start = time.perf_counter()
    while trainer.steps_done < steps - 1:
        trainer.update()
    last = trainer.run()  # the last step, then the held-out evaluation (200 windows of 64)
    seconds = time.perf_counter() - start
    return (steps - 5) * 12 * 64 / seconds, last.eval_loss, trainer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    text = args.data.read_bytes()
    print(f"bench_transformer.py: {args.data.name} ({len(text)} bytes), {args.steps} steps per run, "
          f"{args.threads} thread(s), best of {args.rounds} round(s)")
    ours, theirs = [], []
    for r in range(args.rounds):
        ours.append(train_simulacra(text, args.steps, args.threads, args.seed))
        theirs.append(train_torch(text, steps=args.steps, threads=args.threads, seed=args.seed))
        print(f"  round {r + 1}: simulacra {ours[-1][0]:8.0f} tokens/s   PyTorch {theirs[-1].tokens_per_second:8.0f} tokens/s")
    best_ours = max(ours, key=lambda x: x[0])
    best_theirs = max(theirs, key=lambda x: x.tokens_per_second)
    flops = simulacra.TransformerConfig().training_flops_per_token
    print(f"\ntraining tokens/s: simulacra {best_ours[0]:.0f}, PyTorch {torch_version()} "
          f"{best_theirs.tokens_per_second:.0f}: {best_ours[0] / best_theirs.tokens_per_second:.2f}x (target >= 2x)")
    print(f"model FLOP/s: simulacra {best_ours[0] * flops / 1e9:.1f} GFLOP/s, "
          f"PyTorch {best_theirs.tokens_per_second * flops / 1e9:.1f} GFLOP/s ({flops / 1e6:.2f} MFLOP/token)")
    print(f"held-out loss after {args.steps} steps (nats/byte): simulacra {best_ours[1]:.4f}, "
          f"PyTorch {best_theirs.heldout_loss:.4f}" + ("  (target <= 1.88 at 2000 steps)" if args.steps >= 2000 else ""))
    if not math.isfinite(best_ours[1]):
        raise SystemExit("simulacra's held-out loss is not finite")


def torch_version() -> str:
    import torch

    return torch.__version__


if __name__ == "__main__":
    main()
