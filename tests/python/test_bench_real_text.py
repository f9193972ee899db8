"""The arithmetic of bench/bench_real_text.py: its data preparation and metrics on tiny cases
worked out by hand (no fortunes package needed; the baselines' test skips without scikit-learn)."""

import math
import sys
from pathlib import Path

import numpy as np
import pytest

import simulacra

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
import real_text_data as data  # noqa: E402
import real_text_metrics as metrics  # noqa: E402


def tiny_corpus():
    return simulacra.Corpus.from_texts([b"a1", b"a22", b"b1", b"a333", b"b22", b"a4444", b"b333"],
                                       ["a", "a", "b", "a", "b", "a", "b"])


def test_split_end_refuses_what_it_cannot_hold_out():
    with pytest.raises(ValueError, match="heldout"):
        data.split_end(tiny_corpus(), ["a", "b"], 1.0, "tiny")
    with pytest.raises(ValueError, match="single document"):
        data.split_end(simulacra.Corpus.from_texts([b"a1", b"b1", b"b2"], ["a", "b", "b"]), ["a", "b"], 0.2, "tiny")


def test_split_end_keeps_corpus_order_and_holds_out_the_end():
    split = data.split_end(tiny_corpus(), ["a", "b"], 0.4, "tiny")
    # a: 2 + 3 + 4 + 5 = 14 bytes, 40% = 5.6: the last two documents (5 < 5.6, 5 + 4 >= 5.6)
    # b: 2 + 3 + 4 = 9 bytes, 40% = 3.6: the last one (4 >= 3.6)
    assert split.heldout == {"a": b"a333\na4444", "b": b"b333"}
    assert split.train_text == {"a": b"a1\na22", "b": b"b1\nb22"}
    assert [(d.raw, d.persona) for d in split.train] == [(b"a1", "a"), (b"a22", "a"), (b"b1", "b"), (b"b22", "b")]


def test_rank_personas_by_bytes_ties_by_name():
    corpus = simulacra.Corpus.from_texts([b"xx", b"yyy", b"zz", b"w"], ["z", "y", "x", "w"])
    assert data.rank_personas(corpus) == ["y", "x", "z", "w"]


def test_segments_are_seeded_windows_of_the_heldout_text():
    held = {"a": b"abcdefghij", "b": b"0123456789"}
    segs = data.segments(held, ["a", "b"], 4, 5, np.random.default_rng(3))
    assert [k for _, k in segs] == [0] * 5 + [1] * 5
    for text, k in segs:
        assert len(text) == 4 and text in held["ab"[k]]
    assert segs == data.segments(held, ["a", "b"], 4, 5, np.random.default_rng(3))
    with pytest.raises(ValueError, match="fewer than 11"):
        data.segments(held, ["a", "b"], 11, 1, np.random.default_rng(0))


def test_swap_pairs_join_two_different_personas():
    held = {"a": b"abcdefghij", "b": b"0123456789", "c": b"ABCDEFGHIJ"}
    for part_a, a, part_b, b in data.swap_pairs(held, ["a", "b", "c"], 3, 30, np.random.default_rng(5)):
        assert a != b
        assert part_a in held["abc"[a]] and part_b in held["abc"[b]] and len(part_a) == len(part_b) == 3


def test_interleaved_stream_rounds_and_labels():
    held = {"a": b"abcdefg", "b": b"0123456789"}  # a: abc, def (g dropped); b: 012, 345, 678 (9 dropped)
    stream, labels = data.interleaved(held, ["a", "b"], 3, np.random.default_rng(0))
    blocks = [stream[i : i + 3] for i in range(0, len(stream), 3)]
    assert len(stream) == len(labels) == 15
    assert set(blocks[0:2]) == {b"abc", b"012"} and set(blocks[2:4]) == {b"def", b"345"} and blocks[4] == b"678"
    for i, block in enumerate(blocks):
        assert list(labels[3 * i : 3 * i + 3]) == [0 if block.isalpha() else 1] * 3


def test_ece_by_hand():
    probs = np.array([[0.95, 0.05], [0.91, 0.09], [0.25, 0.75], [0.55, 0.45], [1.0, 0.0]])
    labels = np.array([0, 1, 1, 0, 0])
    # bin 9: three rows (0.95 right, 0.91 wrong, 1.0 right): |2/3 - 2.86/3| * 3/5;
    # bin 7: 0.75 right: 0.25 * 1/5; bin 5: 0.55 right: 0.45 * 1/5
    expected = abs(2 / 3 - 2.86 / 3) * 3 / 5 + 0.25 / 5 + 0.45 / 5
    assert metrics.ece(probs, labels) == pytest.approx(expected, abs=1e-12)
    assert metrics.accuracy(probs, labels) == pytest.approx(0.8)


def test_ece_against_a_loop_over_rows():
    rng = np.random.default_rng(1)
    probs = rng.dirichlet(np.ones(4) * 0.5, size=300)
    labels = rng.integers(0, 4, size=300)
    sums = np.zeros((10, 3))  # per bin: rows, right, confidence
    for p, y in zip(probs, labels):
        c = p.max()
        b = min(int(math.floor(c * 10)), 9)
        sums[b] += [1, float(np.argmax(p) == y), c]
    expected = sum(n / 300 * abs(r / n - c / n) for n, r, c in sums if n)
    assert metrics.ece(probs, labels) == pytest.approx(expected, abs=1e-12)


def test_both_ends_right():
    assert metrics.both_ends_right([0, 0, 1, 1, 1], 2, 0, 1)
    assert not metrics.both_ends_right([0, 0, 1, 1, 1], 3, 0, 1)
    assert not metrics.both_ends_right([0, 0, 1, 1, 2], 2, 0, 1)


def test_boundary_error_by_hand():
    assert metrics.boundary_error([0, 0, 0, 1, 1, 1], 3, 0, 1) == 0
    assert metrics.boundary_error([0, 0, 0, 0, 1, 1], 3, 0, 1) == 1
    assert metrics.boundary_error([0, 1, 0, 0, 1, 1, 1], 4, 0, 1) == 0  # one stray byte: the best change point is 4
    # neither a nor b over [1, 3): change points 1, 2 and 3 tie; the farthest from 2 counts
    assert metrics.boundary_error([0, 2, 2, 1], 2, 0, 1) == 1
    # a path that never says a or b: every change point ties, the error is the worst one
    assert metrics.boundary_error([2] * 6, 2, 0, 1) == 4
    assert metrics.boundary_error([1, 1, 1, 0, 0, 0], 3, 0, 1) == 3  # reversed: the best fit puts the swap at 0 or 6


def test_span_count():
    assert metrics.span_count([0, 0, 1, 1, 0]) == 3
    assert metrics.span_count([4]) == 1
    assert metrics.span_count([]) == 0


def test_oracle_by_hand():
    # the true persona gives 1/2 then 1/4, the pooled model 1/4 then 1/2: by symmetry the best
    # weight is 1/2, giving 3/8 to both bytes; persona 1 (never the true one) is ignored
    own = np.log(np.array([[0.5, 0.99], [0.25, 0.99]]))
    pooled = np.log(np.array([0.25, 0.5]))
    bits, lam = metrics.oracle_bits(own, pooled, np.array([0, 0]))
    assert lam == pytest.approx(0.5)
    assert bits == pytest.approx(-math.log2(0.375))
    assert metrics.bits_per_byte(pooled) == pytest.approx(1.5)
    # the grid's ends are the pooled model (0) and the true persona alone (1)
    assert metrics.oracle_bits(own, np.log(np.array([0.1, 0.1])), np.array([0, 0]))[1] == 1.0
    assert metrics.oracle_bits(np.log(np.array([[0.1, 0.9], [0.1, 0.9]])), pooled, np.array([0, 0]))[1] == 0.0


def test_baselines_tell_two_plain_personas_apart():
    pytest.importorskip("sklearn", reason="the bench's baselines need scikit-learn (pip install '.[bench]')")
    import real_text_measure as measure

    corpus = simulacra.Corpus.from_texts([b"ab ba " * 20, b"ba ab " * 20, b"xy yx " * 20, b"yx xy " * 20],
                                         ["ab", "ab", "xy", "xy"])
    split = data.split_end(corpus, ["ab", "xy"], 0.4, "tiny")
    models = measure.fit_baselines(split, chunk=12)
    assert set(models) == {"tfidf + logreg", "naive Bayes", "linear SVM"}
    for model in models.values():
        scores, _ = measure.baseline_scores(model, [(b"abab ba", 0), (b"yx xyyx", 1)])
        assert list(np.argmax(scores, axis=1)) == [0, 1]


def test_line_parts_are_whole_lines():
    text = b"ab\ncde\nf\nghij\n"  # line starts 0, 3, 7, 9; with 6 bytes to go: 0, 3, 7
    rng = np.random.default_rng(2)
    parts = {data.line_part(text, 6, rng) for _ in range(60)}
    assert parts == {b"ab\n", b"cde\nf\n", b"f\n"}
    assert data.line_part(b"abcdefghij\n", 4, rng) == b"abcd"  # one line longer than the part
    with pytest.raises(ValueError, match="12 bytes before its end"):
        data.line_part(b"abcdefghij\n", 12, rng)
    held = {"a": text, "b": text.upper()}
    for part_a, a, part_b, b in data.line_pairs(held, ["a", "b"], 6, 10, rng):
        assert {a, b} == {0, 1} and part_a.endswith(b"\n") and part_b.endswith(b"\n")
        assert part_a in held["ab"[a]] and part_b in held["ab"[b]]


def test_ece_floor_is_the_chance_ece_of_a_calibrated_predictor():
    certain = np.eye(3)[[0, 1, 2, 0]]
    assert metrics.ece_floor(certain) == 0.0  # c = 1: always right, no noise
    rng = np.random.default_rng(1)
    small = rng.dirichlet(np.ones(4), size=50)
    large = rng.dirichlet(np.ones(4), size=5000)
    assert metrics.ece_floor(large) < metrics.ece_floor(small) / 3  # shrinks like 1 / sqrt(N)
    # a single bin at c = 0.5 with n rows: E|Binomial(n, 0.5) / n - 0.5|, exactly computable
    n = 40
    half = np.full((n, 2), 0.5)
    from math import comb
    exact = sum(comb(n, k) * 0.5 ** n * abs(k / n - 0.5) for k in range(n + 1))
    assert metrics.ece_floor(half, draws=4000, seed=3) == pytest.approx(exact, rel=0.05)


def test_one_swap_marginals_against_enumeration():
    rng = np.random.default_rng(3)
    T, K = 7, 3
    lp = rng.normal(-2.0, 1.0, size=(T, K))
    marg = np.zeros((T, K))
    total = 0.0
    for s in range(1, T):
        for i in range(K):
            for j in range(K):
                if i == j:
                    continue
                p = math.exp(lp[:s, i].sum() + lp[s:, j].sum())
                total += p
                for t in range(T):
                    marg[t, i if t < s else j] += p
    np.testing.assert_allclose(metrics.one_swap_marginals(lp), marg / total, rtol=1e-12, atol=1e-15)
    with pytest.raises(ValueError):
        metrics.one_swap_marginals(lp[:1])
