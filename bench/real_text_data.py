"""Data preparation of bench_real_text.py: the personas, their held-out ends, and the test material.

Every persona's documents are kept in corpus order; the last `heldout` share of
its bytes (whole documents, from the end) is held out, so the test text comes
after all the training text, never from between it. The held-out documents of
a persona are joined with newlines into one stream, from which segments, swap
pairs and the interleaved stream are cut with a seeded numpy generator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np

import simulacra


@dataclass
class Split:
    """One corpus prepared for the bench: a training Corpus and each persona's held-out stream."""

    name: str
    personas: List[str]  # in rank order (most bytes first)
    train: simulacra.Corpus
    heldout: Dict[str, bytes]  # persona -> its held-out documents joined by b"\n"
    train_text: Dict[str, bytes] = field(default_factory=dict)  # persona -> its training documents joined


def persona_bytes(corpus: simulacra.Corpus) -> Dict[str, int]:
    """Bytes of text per persona."""
    sizes: Dict[str, int] = {}
    for doc in corpus:
        sizes[doc.persona] = sizes.get(doc.persona, 0) + len(doc.raw)
    return sizes


def rank_personas(corpus: simulacra.Corpus) -> List[str]:
    """The personas by bytes of text, most first; ties in name order."""
    sizes = persona_bytes(corpus)
    return sorted(sizes, key=lambda p: (-sizes[p], p))


def split_end(corpus: simulacra.Corpus, personas: Sequence[str], heldout: float, name: str) -> Split:
    """Training documents (each persona's first ones) and held-out streams (its last ones):
    Corpus.split_tail on the chosen personas. ValueError if a persona has nothing to hold out."""
    if not 0.0 < heldout < 1.0:
        raise ValueError(f"heldout must be in (0, 1), got {heldout}")
    keep = set(personas)
    chosen = simulacra.Corpus()
    for doc in corpus:
        if doc.persona in keep:
            chosen.add(doc.raw, doc.persona)
    train, tail = chosen.split_tail(heldout)
    held = set(tail.personas)
    for p in personas:
        if p not in held:
            raise ValueError(f"persona {p!r} has a single document: nothing to hold out")
    heldout_text = {p: b"\n".join(tail.texts_of(p)) for p in personas}
    train_text = {p: b"\n".join(train.texts_of(p)) for p in personas}
    return Split(name, list(personas), train, heldout_text, train_text)


def shakespeare(path: Path, ranks: Tuple[int, int], heldout: float) -> Split:
    """The speakers ranked ranks[0]..ranks[1] (1-based, inclusive) by bytes of speech."""
    play = simulacra.Corpus.from_play(path)
    ranked = rank_personas(play)
    chosen = ranked[ranks[0] - 1 : ranks[1]]
    return split_end(play, chosen, heldout, f"Shakespeare speakers ranked {ranks[0]}-{ranks[1]}")


def fortunes(directory: Path, categories: Sequence[str], heldout: float) -> Split:
    """Fortune categories (fortune(6) files of `directory`), in rank order."""
    corpus = simulacra.Corpus.from_fortunes([str(directory / c) for c in categories])
    return split_end(corpus, rank_personas(corpus), heldout, "fortune categories")


def segments(heldout: Dict[str, bytes], personas: Sequence[str], length: int, per_persona: int,
             rng: np.random.Generator) -> List[Tuple[bytes, int]]:
    """per_persona windows of `length` bytes at uniform random offsets of each held-out stream:
    [(segment, persona index)]. ValueError if a stream is shorter than `length`."""
    out: List[Tuple[bytes, int]] = []
    for k, p in enumerate(personas):
        text = heldout[p]
        if len(text) < length:
            raise ValueError(f"the held-out text of {p!r} has {len(text)} bytes, fewer than {length}")
        for start in rng.integers(0, len(text) - length + 1, size=per_persona):
            out.append((text[start : start + length], k))
    return out


def swap_pairs(heldout: Dict[str, bytes], personas: Sequence[str], length: int, count: int,
               rng: np.random.Generator) -> List[Tuple[bytes, int, bytes, int]]:
    """`count` pairs (part_a, a, part_b, b) of two different personas, each part a window of
    `length` bytes of its persona's held-out stream."""
    out = []
    for _ in range(count):
        a, b = rng.choice(len(personas), size=2, replace=False)
        parts = []
        for k in (a, b):
            text = heldout[personas[k]]
            if len(text) < length:
                raise ValueError(f"the held-out text of {personas[k]!r} has {len(text)} bytes, fewer than {length}")
            start = int(rng.integers(0, len(text) - length + 1))
            parts.append(text[start : start + length])
        out.append((parts[0], int(a), parts[1], int(b)))
    return out


def interleaved(heldout: Dict[str, bytes], personas: Sequence[str], length: int,
                rng: np.random.Generator) -> Tuple[bytes, np.ndarray]:
    """Every persona's held-out stream cut into consecutive `length`-byte segments (a shorter
    tail dropped), interleaved round by round, each round in a shuffled persona order:
    (stream, (len(stream),) int32 true persona index of every byte)."""
    cut = {k: [heldout[p][i : i + length] for i in range(0, len(heldout[p]) - length + 1, length)]
           for k, p in enumerate(personas)}
    rounds = max(len(v) for v in cut.values())
    parts: List[bytes] = []
    labels: List[np.ndarray] = []
    for r in range(rounds):
        for k in rng.permutation(len(personas)):
            if r < len(cut[int(k)]):
                parts.append(cut[int(k)][r])
                labels.append(np.full(length, int(k), dtype=np.int32))
    return b"".join(parts), np.concatenate(labels)


def line_part(text: bytes, length: int, rng: np.random.Generator) -> bytes:
    """Whole lines of `text` from a random line start at least `length` bytes before its end: the
    longest run of them that fits in `length` bytes (ending with its newline), or the first `length`
    bytes if one line is longer."""
    starts = [s for s in [0] + [i + 1 for i, c in enumerate(text) if c == 10] if s + length <= len(text)]
    if not starts:
        raise ValueError(f"no line of a {len(text)}-byte held-out text starts {length} bytes before its end")
    start = starts[int(rng.integers(0, len(starts)))]
    end = text.rfind(b"\n", start, start + length) + 1
    return text[start:end] if end > start else text[start : start + length]


def line_pairs(heldout: Dict[str, bytes], personas: Sequence[str], length: int, count: int,
               rng: np.random.Generator) -> List[Tuple[bytes, int, bytes, int]]:
    """As swap_pairs, each part whole lines (line_part), so that the swap falls after a newline."""
    out = []
    for _ in range(count):
        a, b = rng.choice(len(personas), size=2, replace=False)
        out.append((line_part(heldout[personas[a]], length, rng), int(a),
                    line_part(heldout[personas[b]], length, rng), int(b)))
    return out
