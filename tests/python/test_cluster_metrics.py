"""Scores of discovered personas from Python: NMI and ARI against scikit-learn (where installed) on seeded
random labelings, purity and the persona matching against brute force written here, boundary F1 by hand, and
the errors of bad arguments."""

import itertools

import numpy as np
import pytest

import simulacra


def labelings(seed, n, k, l, keep=0.6):
    """A true labeling over l labels and a discovered one over k personas that keeps part of it, renumbered."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, l, n)
    found = np.where(rng.random(n) < keep, rng.permutation(max(k, l))[truth] % k, rng.integers(0, k, n))
    return found, truth


CASES = [(seed, n, k, l) for seed, (n, k, l) in enumerate(
    [(1, 1, 1), (2, 2, 1), (5, 1, 3), (10, 2, 2), (50, 3, 4), (200, 5, 5), (1000, 8, 3), (3000, 20, 20),
     (7, 7, 7), (40, 1, 1)])]


@pytest.mark.parametrize("seed,n,k,l", CASES)
def test_nmi_and_ari_agree_with_scikit_learn(seed, n, k, l):
    metrics = pytest.importorskip("sklearn.metrics")
    found, truth = labelings(seed, n, k, l)
    assert simulacra.normalized_mutual_info(found, truth) == pytest.approx(
        metrics.normalized_mutual_info_score(truth, found), abs=1e-12)
    assert simulacra.adjusted_rand_index(found, truth) == pytest.approx(
        metrics.adjusted_rand_score(truth, found), abs=1e-12)


def test_degenerate_cases_agree_with_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    for found, truth in [([0, 0, 0], [3, 3, 3]), ([0, 0, 0, 0], [0, 1, 0, 1]), ([0, 1, 0, 1], [2, 2, 2, 2]),
                         ([0, 1, 2], [2, 0, 1]), ([5], [0]), ([0, 0, 1, 1], [0, 1, 0, 1])]:
        assert simulacra.normalized_mutual_info(found, truth) == pytest.approx(
            metrics.normalized_mutual_info_score(truth, found), abs=1e-15), (found, truth)
        assert simulacra.adjusted_rand_index(found, truth) == pytest.approx(
            metrics.adjusted_rand_score(truth, found), abs=1e-15), (found, truth)


def test_contingency_table_agrees_with_scikit_learn_on_dense_labels():
    cluster = pytest.importorskip("sklearn.metrics.cluster")
    found = np.array([0, 1, 1, 2, 2, 2, 0])
    truth = np.array([1, 1, 0, 0, 0, 1, 1])
    table = simulacra.contingency_table(found, truth)
    assert table.dtype == np.int64
    np.testing.assert_array_equal(table, cluster.contingency_matrix(found, truth))


def test_purity_against_counts_written_here():
    for seed in range(5):
        found, truth = labelings(seed, 300, 6, 4)
        want = sum(np.bincount(truth[found == c]).max() for c in np.unique(found)) / len(found)
        assert simulacra.purity(found, truth) == pytest.approx(want, abs=1e-15)


def test_match_personas_is_the_best_permutation():
    for seed, (k, l) in enumerate([(3, 3), (4, 2), (2, 5), (6, 6), (5, 4)]):
        found, truth = labelings(100 + seed, 200, k, l, keep=0.5)
        m = simulacra.match_personas(found, truth)
        kk, ll = found.max() + 1, truth.max() + 1
        n = max(kk, ll)
        best = max(int((np.array(p)[found] == truth).sum()) for p in itertools.permutations(range(n)))
        assert m.matched == best
        assert m.accuracy == pytest.approx(best / len(found))
        assert m.mapping.dtype == np.int32 and m.mapping.shape == (kk,)
        assert m.order.shape == (n,)
        assert m.confusion.dtype == np.int64 and m.confusion.shape == (n, n)
        assert np.trace(m.confusion) == m.matched
        assert m.confusion.sum() == len(found)
        table = simulacra.contingency_table(found, truth)
        for c, persona in enumerate(m.order):
            column = m.confusion[:, c]
            if persona < 0:
                assert not column.any()
            else:
                np.testing.assert_array_equal(column[:ll], table[persona])


def test_match_personas_recovers_a_renumbering():
    truth = np.array([0, 0, 1, 1, 1, 2, 3, 3])
    found = np.array([2, 3, 0, 1])[truth]
    m = simulacra.match_personas(found, truth)
    np.testing.assert_array_equal(m.mapping, [2, 3, 0, 1])
    assert m.accuracy == 1.0
    np.testing.assert_array_equal(m.confusion, np.diag([2, 3, 1, 2]))
    assert "accuracy=1.0000" in repr(m)


def test_max_weight_assignment_against_permutations():
    rng = np.random.default_rng(4)
    for rows, cols in [(1, 1), (3, 3), (2, 5), (5, 2), (6, 6), (4, 6)]:
        w = rng.normal(size=(rows, cols))
        a = simulacra.max_weight_assignment(w)
        assert a.shape == (rows,)
        chosen = [(r, c) for r, c in enumerate(a) if c >= 0]
        assert len(chosen) == min(rows, cols)
        assert len({c for _, c in chosen}) == len(chosen)
        total = sum(w[r, c] for r, c in chosen)
        if rows <= cols:
            best = max(sum(w[r, p[r]] for r in range(rows)) for p in itertools.permutations(range(cols), rows))
        else:
            best = max(sum(w[p[c], c] for c in range(cols)) for p in itertools.permutations(range(rows), cols))
        assert total == pytest.approx(best, abs=1e-12)


def test_boundary_f1_by_hand():
    s = simulacra.boundary_f1([80, 10, 50], np.array([11, 30, 50, 77]), tolerance=2)
    assert (s.matched, s.predicted, s.truth) == (2, 3, 4)
    assert s.precision == pytest.approx(2 / 3)
    assert s.recall == pytest.approx(0.5)
    assert s.f1 == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    assert simulacra.boundary_f1([9, 11], [10], 5).matched == 1  # one to one
    assert simulacra.boundary_f1([5, 8], [6, 3], 2).matched == 2  # maximum, not nearest-first
    both_empty = simulacra.boundary_f1([], [], 3)
    assert (both_empty.precision, both_empty.recall, both_empty.f1) == (1.0, 1.0, 1.0)
    assert simulacra.boundary_f1([], [4], 3).f1 == 0.0
    assert "f1=" in repr(s)


def test_label_boundaries_feed_boundary_f1():
    truth = np.array([0] * 10 + [1] * 5 + [0] * 7)
    found = np.array([0] * 9 + [2] * 7 + [0] * 6)
    np.testing.assert_array_equal(simulacra.label_boundaries(truth), [10, 15])
    b = simulacra.label_boundaries(found)
    assert b.dtype == np.int64
    np.testing.assert_array_equal(b, [9, 16])
    assert simulacra.boundary_f1(b, simulacra.label_boundaries(truth), tolerance=1).f1 == 1.0


def test_any_integer_dtype_and_sequences():
    truth = [0, 0, 1, 1, 2]
    found = [1, 1, 0, 0, 0]
    want = simulacra.normalized_mutual_info(found, truth)
    for dtype in (np.int8, np.uint8, np.int16, np.uint32, np.int64, np.uint64):
        assert simulacra.normalized_mutual_info(np.array(found, dtype=dtype), np.array(truth, dtype=dtype)) == want
    assert simulacra.normalized_mutual_info(tuple(found), truth) == want


@pytest.mark.parametrize("f", [simulacra.normalized_mutual_info, simulacra.adjusted_rand_index,
                               simulacra.purity, simulacra.contingency_table, simulacra.match_personas])
def test_bad_labels_are_named(f):
    with pytest.raises(ValueError, match="predicted has 3 labels and truth 2"):
        f([0, 1, 2], [0, 1])
    with pytest.raises(ValueError, match="empty"):
        f([], [])
    with pytest.raises(ValueError, match="label -1 at position 1 of truth is negative"):
        f([0, 0], [0, -1])
    with pytest.raises(TypeError, match="predicted: expected integers, got dtype float64"):
        f([0.0, 1.0], [0, 1])
    with pytest.raises(TypeError, match="truth: expected integers, got dtype bool"):
        f([0, 1], [True, False])
    with pytest.raises(ValueError, match=r"predicted: expected shape \(n,\), got \(1, 2\)"):
        f([[0, 1]], [[0, 1]])
    with pytest.raises(TypeError, match="predicted: expected a sequence of integers, got int"):
        f(3, [0])
    with pytest.raises(ValueError, match="truth: label 4294967296 at position 0 is beyond"):
        f([0], [2**32])


def test_bad_boundaries_are_named():
    with pytest.raises(ValueError, match="tolerance -1 is negative"):
        simulacra.boundary_f1([1], [1], -1)
    with pytest.raises(ValueError, match="boundary -5 of truth is negative"):
        simulacra.boundary_f1([1], [3, -5], 1)
    with pytest.raises(ValueError, match="boundary 3 is given twice in predicted"):
        simulacra.boundary_f1([3, 1, 3], [1], 1)
    with pytest.raises(TypeError, match="predicted: expected integers, got dtype float64"):
        simulacra.boundary_f1([1.5], [1], 1)


def test_bad_weights_are_named():
    with pytest.raises(ValueError, match=r"weight: expected shape \(R, C\), got \(2,\)"):
        simulacra.max_weight_assignment([1.0, 2.0])
    with pytest.raises(ValueError, match="weight is empty"):
        simulacra.max_weight_assignment(np.zeros((0, 3)))
    with pytest.raises(ValueError, match=r"weight \(0, 1\) is nan"):
        simulacra.max_weight_assignment([[0.0, np.nan]])
    with pytest.raises(TypeError, match="weight: expected real numbers"):
        simulacra.max_weight_assignment([["a"]])


def test_the_guide_example_runs():
    """docs/python.md's "Scoring discovered personas" example, run as written."""
    import re
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[2] / "docs" / "python.md").read_text()
    section = guide.split("## Scoring discovered personas", 1)[1].split("\n## ", 1)[0]
    (code,) = re.findall(r"```python\n(.*?)```", section, re.S)
    scope = {}
    exec(compile(code, "docs/python.md", "exec"), scope)
    m, scramble, b = scope["m"], scope["scramble"], scope["b"]
    assert m.accuracy >= 0.9
    np.testing.assert_array_equal(m.mapping, np.argsort(scramble))
    assert b.truth == len(scope["names"]) - 1
    assert b.f1 >= 0.8
