"""A PyTorch model as a mask: a byte-level network trained on one persona, in a pile of n-gram masks.

The network reads the last WINDOW tokens of the document (the start padded with the boundary token 256)
through a byte embedding and a small MLP, and predicts the next of the 257 tokens. It is trained for a few
seconds on the CPU on the scientist's documents of the embedded corpus, then wrapped as a persona:

    next_logprobs(context)  the distribution after the document so far (generation, State)
    token_logprobs(tokens)  every token of a document in one batched forward pass (trace, score, attribute)

and joins a Mixture beside n-gram masks of the other personas. The pile is then read as any other:
a trace of a text that changes voice, and which mask wrote each of a few documents.

    python examples/python/torch_mask.py               # about ten seconds
    python examples/python/torch_mask.py --steps 50    # quicker, a weaker mask
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import simulacra

BOUNDARY = simulacra.BOUNDARY  # 256: the document start (as context) and end (as a token)
WINDOW = 8


class ByteMLP(torch.nn.Module):
    """log p(next token | the last WINDOW tokens): embedding, one hidden layer, log-softmax."""

    def __init__(self, window: int = WINDOW, dim: int = 24, hidden: int = 192):
        super().__init__()
        self.embed = torch.nn.Embedding(simulacra.VOCAB, dim)
        self.hidden = torch.nn.Linear(window * dim, hidden)
        self.out = torch.nn.Linear(hidden, simulacra.VOCAB)

    def forward(self, windows: torch.Tensor) -> torch.Tensor:  # (B, window) int64 -> (B, 257) float32 logits
        x = self.embed(windows).flatten(1)
        return self.out(torch.nn.functional.gelu(self.hidden(x)))


def windows_of(tokens: np.ndarray, window: int = WINDOW) -> np.ndarray:
    """(n, window) the context of each token of one document: the tokens before it, padded with 256."""
    padded = np.concatenate([np.full(window, BOUNDARY), tokens]).astype(np.int64)
    return np.lib.stride_tricks.sliding_window_view(padded, window)[: len(tokens)].copy()


def train(texts: list[bytes], steps: int, seed: int = 0) -> ByteMLP:
    torch.manual_seed(seed)
    torch.set_num_threads(1)  # a model this small trains fastest on one thread
    docs = [simulacra.encode_document(t) for t in texts]
    x = torch.from_numpy(np.concatenate([windows_of(d) for d in docs]))
    y = torch.from_numpy(np.concatenate(docs).astype(np.int64))
    model = ByteMLP()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        batch = torch.randint(len(y), (512,), generator=gen)
        loss = torch.nn.functional.cross_entropy(model(x[batch]), y[batch])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


class TorchMask(simulacra.Persona):
    """The network as a persona. Log-softmax in float64, so the distribution sums to 1 to rounding."""

    kind = "torch"

    def __init__(self, model: ByteMLP):
        super().__init__()
        self.model = model

    @torch.inference_mode()
    def next_logprobs(self, context: np.ndarray) -> np.ndarray:
        window = np.concatenate([np.full(WINDOW, BOUNDARY), context[-WINDOW:]])[-WINDOW:]
        logits = self.model(torch.from_numpy(window.astype(np.int64))[None])
        return logits.double().log_softmax(-1)[0].numpy()

    @torch.inference_mode()
    def token_logprobs(self, tokens: np.ndarray) -> np.ndarray:
        logp = self.model(torch.from_numpy(windows_of(tokens))).double().log_softmax(-1)
        return logp[torch.arange(len(tokens)), torch.from_numpy(tokens.astype(np.int64))].numpy()


def main(argv: list[str] | None = None) -> simulacra.Mixture:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=300, help="training steps of the network (batches of 512)")
    ap.add_argument("--order", type=int, default=4, help="order of the n-gram masks")
    args = ap.parse_args(argv)

    corpus = simulacra.Corpus.builtin()
    train_part, held = corpus.split(0.2, seed=1)
    start = time.perf_counter()
    net = train(train_part.texts_of("scientist"), args.steps)
    print(f"trained the byte MLP on the scientist's text: {args.steps} steps in {time.perf_counter() - start:.1f} s")

    names = ["pirate", "poet", "scientist"]
    masks = [simulacra.NGramPersona.fit(train_part.texts_of(n), order=args.order) for n in names[:2]]
    pile = simulacra.Mixture([*masks, TorchMask(net)], names, switching="fixed_share", alpha=0.01)
    print(pile, "- the scientist is a", pile.persona("scientist").kind, "mask\n")

    text = "Arr, me hearties, hoist the sails! The results suggest a significant correlation."
    trace = pile.trace(text)
    print(trace.table(max_rows=12))
    speaking = [names[k] for k in trace.dominant]
    print("\nwho speaks:", " | ".join(f"{speaking[i]} from byte {i}" for i in range(len(speaking))
                                       if i == 0 or speaking[i] != speaking[i - 1]))

    print("\nwhich mask wrote each held-out document (attribute):")
    docs = [d for d in held if d.persona in names]
    post = np.exp(pile.attribute_batch([d.raw for d in docs], beta=1.0))  # (N, K), the torch mask called per document
    for name in names:
        rows = [i for i, d in enumerate(docs) if d.persona == name]
        print(f"  {name:9} documents: " + ", ".join(f"{n} {post[rows, k].mean():.3f}" for k, n in enumerate(names))
              + f"   ({sum(names[post[i].argmax()] == name for i in rows)}/{len(rows)} right)")
    return pile


if __name__ == "__main__":
    main()
