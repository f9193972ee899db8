"""PyTorch reference run of the transformer benchmark: nanoGPT's CPU run on tinyshakespeare.

The model is tests/python/torch_gpt.py (the architecture of simulacra's
transformer.hpp, K = 1 head), trained as nanoGPT's shakespeare_char config on
CPU trains it, but over bytes (257 tokens, the boundary never occurring):

    4 layers, 4 heads, width 128, context 64, batch 12, no dropout, bias False,
    AdamW lr 1e-3 (betas 0.9, 0.99, eps 1e-8), 100 warmup steps then cosine
    to 1e-4 at the last step, weight decay 0.1 on 2-D tensors only, gradient
    clipping 1.0, the last 10% of the text held out.

It reports training tokens/s over the timed steps (the first few are warm-up
and not timed) and the held-out loss: the mean cross-entropy, nats per byte,
over 200 random held-out windows of 64. Importing this module does nothing
but define train_torch (and load torch_gpt.py); the CLI runs it:

    python bench/torch_gpt_train.py --steps 2000 --threads 2

    from torch_gpt_train import train_torch
    run = train_torch(text_bytes, steps=2000, threads=2, seed=1337)
    run.tokens_per_second, run.heldout_loss
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import torch
import torch.nn.functional as F

_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = _ROOT.parent / "shared" / "data" / "tinyshakespeare.txt"


def _load_reference():
    """tests/python/torch_gpt.py as a module, without touching sys.path."""
    name = "simulacra_torch_gpt"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, _ROOT / "tests" / "python" / "torch_gpt.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


torch_gpt = _load_reference()


@dataclass
class TorchRun:
    steps: int  # optimisation steps done
    timed_steps: int  # steps inside the timing (steps - untimed_steps)
    tokens_per_second: float  # training tokens (batch x context per step) per second over the timed steps
    seconds: float  # wall time of the timed steps
    train_loss: float  # the last step's batch loss, nats per byte
    heldout_loss: float  # mean cross-entropy over the held-out windows, nats per byte
    parameter_count: int
    threads: int
    compiled: bool = False  # the forward and loss through torch.compile
    compile_seconds: float = 0.0  # wall time of the first (untimed) step, which compiles when compiled


def learning_rate(step: int, lr: float, min_lr: float, warmup: int, decay_steps: int) -> float:
    """nanoGPT's schedule (0-based step): linear warmup, then cosine from lr to min_lr at decay_steps."""
    if step < warmup:
        return lr * (step + 1) / (warmup + 1)
    if step > decay_steps:
        return min_lr
    ratio = (step - warmup) / max(1, decay_steps - warmup)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (lr - min_lr)


def _windows(data: torch.Tensor, starts: torch.Tensor, context: int):
    """Inputs (B, L) and next-token targets (B, L) of the windows starting at `starts`."""
    index = starts[:, None] + torch.arange(context)  # (B, L)
    return data[index], data[index + 1]


def _loss(model, x, y) -> torch.Tensor:
    logits = model(x).logits[0]  # (B, L, V)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


@torch.no_grad()
def heldout_loss(model, data: torch.Tensor, context: int, windows: int, batch: int, generator) -> float:
    """Mean cross-entropy (nats per byte) over `windows` random windows of the held-out bytes."""
    model.eval()
    total, count = 0.0, 0
    starts = torch.randint(len(data) - context, (windows,), generator=generator)
    for b in range(0, windows, batch):
        x, y = _windows(data, starts[b : b + batch], context)
        total += _loss(model, x, y).item() * x.numel()
        count += x.numel()
    model.train()
    return total / count


def train_torch(
    text_bytes: bytes,
    steps: int = 2000,
    threads: int = 2,
    seed: int = 1337,
    *,
    layers: int = 4,
    heads: int = 4,
    width: int = 128,
    context: int = 64,
    bias: bool = False,
    tie_weights: bool = False,
    batch: int = 12,
    lr: float = 1e-3,
    min_lr: float = 1e-4,
    warmup: int = 100,
    decay_steps: Optional[int] = None,
    betas: tuple = (0.9, 0.99),
    weight_decay: float = 0.1,
    clip: float = 1.0,
    heldout_fraction: float = 0.1,
    eval_windows: int = 200,
    untimed_steps: int = 5,
    compile: bool = False,
    on_step: Optional[Callable[[int, float, float], None]] = None,
) -> TorchRun:
    """Trains the byte-level GPT on `text_bytes` (the last heldout_fraction held out) and measures it.

    decay_steps (default: steps) is where the cosine reaches min_lr. on_step(step, loss, lr) is
    called after each step (1-based); its time is inside the timing, so keep it cheap. Sets
    torch's intra-op threads to `threads`. ValueError unless steps > untimed_steps.

    With compile, the model's forward and loss go through torch.compile (inductor; its backward
    is compiled with it by AOTAutograd) and the optimizer stays eager, as nanoGPT's `compile=True`;
    the compilation happens in the first, untimed step and its wall time is compile_seconds.
    The held-out loss is computed with the eager module (the same parameters).
    """
    if steps <= untimed_steps:
        raise ValueError(f"steps: need more than untimed_steps = {untimed_steps}, got {steps}")
    torch.set_num_threads(threads)
    data = torch.frombuffer(bytearray(text_bytes), dtype=torch.uint8).to(torch.long)
    cut = len(data) - int(len(data) * heldout_fraction)
    train, heldout = data[:cut], data[cut:]
    decay_steps = steps if decay_steps is None else decay_steps

    cfg = torch_gpt.Config(layers=layers, heads=heads, width=width, context=context, bias=bias, tie_weights=tie_weights)
    model = torch_gpt.GPT(cfg).init_weights(seed)
    params = list(model.parameters())
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=lr, betas=betas, eps=1e-8)
    generator = torch.Generator().manual_seed(seed)
    if compile:
        torch._dynamo.reset()  # a fresh compilation for this model and thread count
    loss_of = torch.compile(_loss) if compile else _loss
    compile_seconds = 0.0

    loss = torch.tensor(float("nan"))
    start = time.perf_counter()
    for step in range(steps):
        if step == 1:
            compile_seconds = time.perf_counter() - start  # the first step: tracing and compiling, if any
        if step == untimed_steps:
            start = time.perf_counter()
        rate = learning_rate(step, lr, min_lr, warmup, decay_steps)
        for group in optimizer.param_groups:
            group["lr"] = rate
        x, y = _windows(train, torch.randint(len(train) - context, (batch,), generator=generator), context)
        loss = loss_of(model, x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if clip > 0:
            torch.nn.utils.clip_grad_norm_(params, clip)
        optimizer.step()
        if on_step is not None:
            on_step(step + 1, loss.item(), rate)
    seconds = time.perf_counter() - start
    timed = steps - untimed_steps

    return TorchRun(
        steps=steps,
        timed_steps=timed,
        tokens_per_second=timed * batch * context / seconds,
        seconds=seconds,
        train_loss=loss.item(),
        heldout_loss=heldout_loss(model, heldout, context, eval_windows, batch, generator),
        parameter_count=sum(p.numel() for p in params),
        threads=threads,
        compiled=compile,
        compile_seconds=compile_seconds,
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="text file (default: tinyshakespeare)")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1337)
    parser.add_argument("--untimed-steps", type=int, default=5, help="warm-up steps left out of tokens/s")
    parser.add_argument("--eval-windows", type=int, default=200)
    parser.add_argument("--print-every", type=int, default=100)
    parser.add_argument("--compile", action="store_true", help="torch.compile the forward and loss (inductor)")
    args = parser.parse_args(argv)

    text = args.data.read_bytes()
    print(
        f"torch_gpt_train: {args.data.name} ({len(text)} bytes, last 10% held out), torch {torch.__version__}, "
        f"{args.threads} thread(s), {args.steps} steps"
    )

    def report(step, loss, rate):
        if step % args.print_every == 0 or step == args.steps:
            print(f"  step {step:>5}  loss {loss:.4f}  lr {rate:.2e}", flush=True)

    run = train_torch(
        text,
        steps=args.steps,
        threads=args.threads,
        seed=args.seed,
        untimed_steps=args.untimed_steps,
        eval_windows=args.eval_windows,
        compile=args.compile,
        on_step=report,
    )
    print(f"parameters: {run.parameter_count}")
    if run.compiled:
        print(f"torch.compile: first step (compiling) {run.compile_seconds:.1f} s, not timed")
    print(
        f"training: {run.timed_steps} timed steps in {run.seconds:.1f} s: {run.tokens_per_second:.0f} tokens/s "
        f"({run.threads} threads)"
    )
    print(f"held-out loss ({args.eval_windows} windows of 64): {run.heldout_loss:.4f} nats/byte")


if __name__ == "__main__":
    main()
