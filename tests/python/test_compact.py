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


def test_quantised_scores_close_sums_within_tolerance_and_files_round_trip(corpus, tmp_path):
    train, held = corpus
    lm = simulacra.NGramPersona.fit(train, 5)
    tiny = lm.compact(quantize=True)
    assert isinstance(tiny, simulacra.QuantNGramPersona) and tiny.kind == "ngram_quant"
    assert tiny.num_ngrams == lm.num_ngrams and tiny.ngrams_per_order == lm.ngrams_per_order
    assert tiny.memory_bytes * 5 < lm.memory_bytes
    tokens = sum(len(t.encode()) + 1 for t in held)
    ratio = math.exp(-(sum(tiny.score(t) for t in held) - sum(lm.score(t) for t in held)) / tokens)
    assert abs(ratio - 1) < 5e-3  # perplexity within 0.5%
    assert 0 <= tiny.max_sum_error <= tiny.sum_tolerance
    probs = np.exp(tiny.next_logprobs("To be, or not to").astype(np.float64))
    assert abs(probs.sum() - 1) <= tiny.sum_tolerance
    # The pile's Mixture.compact, files, the mapping and pickles: the same bits.
    pile = simulacra.Mixture([lm, simulacra.NGramPersona.fit(held, 2)], ["big", "small"])
    small = pile.compact(quantize=True)
    assert [small.persona(k).kind for k in range(2)] == ["ngram_quant", "ngram_quant"]
    assert pile.compact().persona(0).kind == "ngram_compact"
    path = tmp_path / "tiny.safetensors"
    small.save(path)
    for again in (simulacra.load(path), simulacra.load(path, mmap=True), pickle.loads(pickle.dumps(small))):
        for text in held[:5]:
            assert again.score(text) == small.score(text)
    back = pickle.loads(pickle.dumps(tiny))
    assert isinstance(back, simulacra.QuantNGramPersona) and back.score(held[0]) == tiny.score(held[0])
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(simulacra.FileError):
        simulacra.load(path, mmap=True)


def test_mixture_compact_refuses_interpolated_masks(corpus):
    train, held = corpus
    bg = simulacra.NGramPersona.fit(train, 3)
    pile = simulacra.Mixture([simulacra.InterpolatedPersona(simulacra.NGramPersona.fit(held, 3), bg, 0.5)], ["mix"])
    with pytest.raises(ValueError, match="background"):
        pile.compact(quantize=True)
