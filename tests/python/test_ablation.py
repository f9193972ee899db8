"""Ablation: masks removed or reweighted for the calls made inside `with pile.ablate(...)`, never in the pile itself."""

import threading

import numpy as np
import pytest

import simulacra

TEXT = "Arr, me hearties! The moon, O silver moon, doth sing. The data suggest a hypothesis."


def test_ablate_removes_and_restores(personas, plain):
    prior = plain.prior.copy()
    others = simulacra.Mixture([personas["pirate"], personas["scientist"]], ["pirate", "scientist"], prior=[0.5, 0.2])
    with plain.ablate(remove="poet") as pile:
        assert pile is plain
        assert pile.prior[pile.index_of("poet")] == 0.0
        assert plain.score(TEXT) == pytest.approx(others.score(TEXT), rel=1e-12)
        assert np.all(plain.trace(TEXT).weights[:, plain.index_of("poet")] == 0)
    np.testing.assert_array_equal(plain.prior, prior)
    with pytest.raises(RuntimeError, match="inside"):
        with plain.ablate(remove=["poet", 0]):
            assert plain.prior[0] == 0.0
            raise RuntimeError("inside the block")
    np.testing.assert_array_equal(plain.prior, prior)


def test_ablate_reweights_and_nests(plain):
    prior = plain.prior.copy()
    scope = plain.ablate(reweight={"poet": 4.0})
    assert not scope.active
    with scope:
        assert scope.active
        expected = prior * np.where(np.array(plain.personas) == "poet", 4.0, 1.0)
        np.testing.assert_allclose(plain.prior, expected / expected.sum(), rtol=1e-15)
        with plain.ablate(remove="pirate"):
            assert plain.prior[plain.index_of("pirate")] == 0.0 and plain.prior.sum() == pytest.approx(1.0)
        np.testing.assert_allclose(plain.prior, expected / expected.sum(), rtol=1e-15)
        with pytest.raises(ValueError, match="already active"):
            scope.__enter__()
    assert not scope.active
    np.testing.assert_array_equal(plain.prior, prior)
    with plain.ablate(reweight=[1.0, 0.0, 1.0]):
        assert plain.prior[1] == 0.0
    np.testing.assert_array_equal(plain.prior, prior)


def test_ablation_scopes_exited_out_of_order_leave_nothing_behind(plain):
    prior = plain.prior.copy()
    poet, pirate = plain.index_of("poet"), plain.index_of("pirate")
    without_poet, without_pirate = plain.ablate(remove="poet"), plain.ablate(remove="pirate")
    without_poet.__enter__()
    without_pirate.__enter__()
    assert plain.prior[poet] == 0.0 and plain.prior[pirate] == 0.0
    without_poet.__exit__(None, None, None)  # the outer scope ends first
    assert plain.prior[poet] > 0.0 and plain.prior[pirate] == 0.0
    np.testing.assert_allclose(plain.prior, np.where(np.arange(3) == pirate, 0.0, prior) / (1 - prior[pirate]),
                               rtol=1e-15)
    without_pirate.__exit__(None, None, None)
    np.testing.assert_array_equal(plain.prior, prior)
    assert plain.score(TEXT) == pytest.approx(simulacra.Mixture(
        [plain.persona(k) for k in range(3)], plain.personas, prior=prior).score(TEXT), rel=1e-12)


def test_ablation_is_seen_by_its_own_thread_only(personas, plain):
    prior = plain.prior.copy()
    entered, done = threading.Barrier(2), threading.Barrier(2)
    seen = {}

    def reader(name):
        with plain.ablate(remove=name):
            entered.wait()  # both scopes are open now
            seen[name] = (plain.prior.copy(), plain.score(TEXT))
            done.wait()

    threads = [threading.Thread(target=reader, args=(name,)) for name in ("poet", "pirate")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for name in ("poet", "pirate"):
        others = [n for n in plain.personas if n != name]
        alone = simulacra.Mixture([personas[n] for n in others], others,
                                  prior=[prior[plain.index_of(n)] for n in others])
        expected = np.where(np.array(plain.personas) == name, 0.0, prior)
        np.testing.assert_allclose(seen[name][0], expected / expected.sum(), rtol=1e-15)
        assert seen[name][1] == pytest.approx(alone.score(TEXT), rel=1e-12)
    np.testing.assert_array_equal(plain.prior, prior)


def test_bad_ablations_raise_before_changing_anything(plain):
    prior = plain.prior.copy()
    with pytest.raises(ValueError, match="no persona"):
        plain.ablate(remove=plain.personas)
    with pytest.raises(ValueError, match="poet"):
        plain.ablate(reweight={"poet": -1.0})
    with pytest.raises(ValueError, match="reweight"):
        plain.ablate(reweight=[1.0, 2.0])
    with pytest.raises(IndexError, match="wizard"):
        plain.ablate(remove="wizard")
    with pytest.raises(TypeError, match="remove"):
        plain.ablate(remove=1.5)
    np.testing.assert_array_equal(plain.prior, prior)
