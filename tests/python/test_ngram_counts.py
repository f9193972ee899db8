"""NGramCounts from Python: counts against a brute-force count of the windows, merged shards against one fit of all
the documents (the same log-probabilities bit for bit, on real text), the serialisation and pickling, and errors."""

import pickle
import random
from collections import Counter

import pytest

import simulacra

from conftest import SHAKESPEARE


def windows(docs, order):
    """Every n-gram of orders 1..order with its count, as bytes (b"\\x00" prefix marks the document start)."""
    counts = Counter()
    for d in docs:
        seq = [("S",)] + [(b,) for b in d.encode()] + [("E",)]
        for p in range(len(seq)):
            for n in range(1, order + 1):
                if p + n <= len(seq):
                    counts[tuple(seq[p : p + n])] += 1
    return counts


def test_counts_match_brute_force():
    rng = random.Random(0)
    docs = ["".join(rng.choice("abc ") for _ in range(rng.randint(0, 40))) for _ in range(20)]
    counts = simulacra.NGramCounts(docs, order=4)
    for gram, c in windows(docs, 4).items():
        if ("E",) in gram[:-1] or any(t == ("S",) for t in gram[1:]):
            continue
        start = gram[0] == ("S",)
        body = [t[0] for t in gram[1 if start else 0 :]]
        if body and body[-1] == "E":
            continue  # the end boundary is not a byte: count() takes bytes
        if not body:
            continue
        assert counts.count(bytes(body), start=start) == c
    assert counts.num_documents == len(docs)
    assert counts.num_tokens == sum(len(d) + 1 for d in docs)
    assert counts.count(b"zz") == 0


@pytest.mark.skipif(not SHAKESPEARE.exists(), reason="../shared/data/tinyshakespeare.txt is not beside the repository")
def test_merged_shards_are_the_whole_fit_on_real_text():
    lines = SHAKESPEARE.read_text().split("\n\n")[:400]
    rng = random.Random(5)
    shards = [[] for _ in range(5)]
    for doc in lines:
        shards[rng.randrange(5)].append(doc)
    for order in (3, 6):
        parts = [simulacra.NGramCounts(s, order) for s in shards]
        merged = parts[0]
        for p in parts[1:]:
            merged = merged + p
        assert merged == simulacra.NGramCounts(lines, order)
        from_counts, whole = merged.to_persona(), simulacra.NGramPersona.fit(lines, order)
        held_out = SHAKESPEARE.read_text()[-3000:]
        assert (from_counts.token_logprobs(held_out) == whole.token_logprobs(held_out)).all()
        assert from_counts.ngrams_per_order == whole.ngrams_per_order
        assert merged.truncated(2) == simulacra.NGramCounts(lines, 2)


def test_bytes_and_pickle_round_trip():
    counts = simulacra.NGramCounts(["Arr, matey!", "Ahoy, matey!", ""], 3)
    wire = counts.to_bytes()
    assert isinstance(wire, bytes)
    assert simulacra.NGramCounts.from_bytes(wire) == counts
    assert pickle.loads(pickle.dumps(counts)) == counts
    with pytest.raises(simulacra.FileError):
        simulacra.NGramCounts.from_bytes(wire[:-1])
    with pytest.raises(simulacra.FileError):
        simulacra.NGramCounts.from_bytes(b"not counts")


def test_merge_in_place_and_errors():
    a = simulacra.NGramCounts(["abc"], 3)
    b = simulacra.NGramCounts(["abd"], 3)
    total = a + b
    assert a.merge(b) is a
    assert a == total
    a += simulacra.NGramCounts([], 3)
    assert a == total
    with pytest.raises(ValueError, match="order"):
        a.merge(simulacra.NGramCounts(["x"], 2))
    with pytest.raises(ValueError, match="no documents"):
        simulacra.NGramCounts([], 3).to_persona()
    with pytest.raises(ValueError, match="order"):
        simulacra.NGramCounts(["x"], 0)
    assert "NGramCounts(order=3" in repr(a)
