"""A KenLM model as a mask: an ARPA file read by the `kenlm` module, in a pile of n-gram masks.

The file follows simulacra's byte convention (docs/arpa.md): each byte is the word of its two lowercase hex
digits (`41` for `A`), the document start is `<s>` and its end `</s>`, so any tool that reads ARPA reads it and a
KenLM- or SRILM-trained model of hex-word text is a byte model. Here the file is written by simulacra itself
(`NGramPersona.to_arpa`, the pirate's Kneser-Ney model) unless `--arpa FILE` names another one, and the `kenlm`
module (pip install kenlm) answers every query, wrapped as a persona:

    next_logprobs(context)  KenLM's log10 p of each of the 257 tokens after the document so far, as natural logs
                            (257 BaseScore calls from the context's state: generation, State)
    token_logprobs(tokens)  one full_scores call over the document (trace, score, attribute)

The pile is then read as any other: a trace of a text that changes voice, and which mask wrote each of a few
held-out documents. The same file read by simulacra (`NGramPersona.from_arpa`) gives the same numbers: the
example prints the largest difference.

    python examples/python/kenlm_mask.py                       # the pirate's model, order 4
    python examples/python/kenlm_mask.py --arpa pirate.arpa    # any ARPA file in the byte convention
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile

import kenlm
import numpy as np

import simulacra

WORDS = [f"{b:02x}" for b in range(256)] + ["</s>"]  # token t -> its ARPA word
LN10 = math.log(10.0)


class KenLMMask(simulacra.Persona):
    """A kenlm.Model as a persona: natural logs of KenLM's log10 probabilities."""

    kind = "kenlm"

    def __init__(self, model: kenlm.Model):
        super().__init__()
        self.model = model

    def _state_after(self, context: np.ndarray) -> kenlm.State:
        state, out = kenlm.State(), kenlm.State()
        self.model.BeginSentenceWrite(state)
        for t in context:
            self.model.BaseScore(state, WORDS[t], out)
            state, out = out, state
        return state

    def next_logprobs(self, context: np.ndarray) -> np.ndarray:
        state, out = self._state_after(context), kenlm.State()
        return np.array([self.model.BaseScore(state, w, out) for w in WORDS]) * LN10

    def token_logprobs(self, tokens: np.ndarray) -> np.ndarray:
        ends = len(tokens) > 0 and tokens[-1] == simulacra.BOUNDARY  # the boundary only ever ends a document
        body = tokens[:-1] if ends else tokens
        scores = self.model.full_scores(" ".join(WORDS[t] for t in body), bos=True, eos=bool(ends))
        return np.array([s[0] for s in scores]) * LN10


def main(argv: list[str] | None = None) -> simulacra.Mixture:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arpa", help="an ARPA file in the byte convention (default: the pirate's model, exported)")
    ap.add_argument("--order", type=int, default=4, help="order of the n-gram masks (and of the exported model)")
    args = ap.parse_args(argv)

    corpus = simulacra.Corpus.builtin()
    train_part, held = corpus.split(0.2, seed=1)
    names = ["pirate", "poet", "scientist"]
    with tempfile.TemporaryDirectory() as scratch:
        path = args.arpa
        if path is None:
            path = os.path.join(scratch, "pirate.arpa")
            simulacra.NGramPersona.fit(train_part.texts_of("pirate"), order=args.order).to_arpa(path)
            print(f"wrote the pirate's order-{args.order} model as ARPA: {os.path.getsize(path):,} bytes")
        ken = KenLMMask(kenlm.Model(path))
        same_file = simulacra.NGramPersona.from_arpa(path)
    print(f"KenLM loaded it: order {ken.model.order}")

    masks = [simulacra.NGramPersona.fit(train_part.texts_of(n), order=args.order) for n in names[1:]]
    pile = simulacra.Mixture([ken, *masks], names, switching="fixed_share", alpha=0.01)
    print(pile, "- the pirate is a", pile.persona("pirate").kind, "mask\n")

    text = "Arr, me hearties, hoist the sails! The results suggest a significant correlation."
    trace = pile.trace(text)
    print(trace.table(max_rows=12))
    speaking = [names[k] for k in trace.dominant]
    print("\nwho speaks:", " | ".join(f"{speaking[i]} from byte {i}" for i in range(len(speaking))
                                       if i == 0 or speaking[i] != speaking[i - 1]))

    tokens = simulacra.encode_document(text)
    diff = np.abs(ken.token_logprobs(tokens) - same_file.token_logprobs(text)).max()
    step = np.abs(ken.next_logprobs(tokens[:5]) - same_file.next_logprobs(text[:5])).max()
    print(f"\nKenLM against simulacra reading the same file: largest difference {diff:.2e} nats per token, "
          f"{step:.2e} over a next-token distribution")

    print("\nwhich mask wrote each held-out document (attribute):")
    docs = [d for d in held if d.persona in names]
    post = np.exp(pile.attribute_batch([d.raw for d in docs], beta=1.0))  # (N, K), KenLM called per document
    for name in names:
        rows = [i for i, d in enumerate(docs) if d.persona == name]
        print(f"  {name:9} documents: " + ", ".join(f"{n} {post[rows, k].mean():.3f}" for k, n in enumerate(names))
              + f"   ({sum(names[post[i].argmax()] == name for i in rows)}/{len(rows)} right)")
    return pile


if __name__ == "__main__":
    main()
