"""The compact n-gram persona from Python (docs/compact.md): NGramPersona.compact(), model files, load(mmap=True),
pickling, against the double model it is made from."""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import numpy as np
import pytest

import simulacra

PERSONAS = Path(__file__).resolve().parents[2] / "data" / "personas"


@pytest.fixture(scope="module")
def corpus():
    paras = [p for f in sorted(PERSONAS.glob("*.txt")) for p in f.read_text().split("\n\n") if p.strip()]
    return [p for i, p in enumerate(paras) if i % 5 != 4], [p for i, p in enumerate(paras) if i % 5 == 4]


def test_compact_scores_within_the_rounding_bound(corpus):
    train, held = corpus
    lm = simulacra.NGramPersona.fit(train, 5)
    small = lm.compact()
    assert isinstance(small, simulacra.CompactNGramPersona) and small.kind == "ngram_compact"
    assert small.num_ngrams == lm.num_ngrams and small.ngrams_per_order == lm.ngrams_per_order
    assert small.memory_bytes * 3 < lm.memory_bytes
    bound = math.log1p((1 + small.prob_rel_error_bound) * (1 + 2.0**-24) ** 5 - 1)
    worst = max(np.abs(lm.token_logprobs(t) - small.token_logprobs(t)).max() for t in held)
    assert 0 < worst <= bound
    probs = np.exp(small.next_logprobs("To be, or not to").astype(np.float64))
    assert abs(probs.sum() - 1) < 1e-4  # float32 logs: 257 x 6e-8 rounding, plus the compact tolerance
    with pytest.raises(ValueError, match="quantize"):
        lm.compact(quantize=True)


def test_compact_piles_save_load_map_and_pickle(corpus, tmp_path):
    train, held = corpus
    small = simulacra.NGramPersona.fit(train, 4).compact()
    pile = simulacra.Mixture([small, simulacra.NGramPersona.fit(held, 2)], ["small", "plain"])
    path = tmp_path / "pile.safetensors"
    pile.save(path)
    for again in (simulacra.load(path), simulacra.load(path, mmap=True), pickle.loads(pickle.dumps(pile))):
        for text in held[:5]:
            assert again.score(text) == pile.score(text)
    back = pickle.loads(pickle.dumps(small))
    assert back.score(held[0]) == small.score(held[0])
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(simulacra.FileError):
        simulacra.load(path, mmap=True)
