"""Ctrl-C: every long call stops with KeyboardInterrupt within a fraction of a second, and what it was given is
left as it was."""

import numpy as np
import pytest

import simulacra
from ctrl_c import interrupted

TEXT = "Arr, me hearties! The moon, O silver moon, doth sing. The data suggest a hypothesis."


def test_ctrl_c_stops_a_state_step_and_leaves_it_as_it_was(plain):
    """The steered reading of 2 MB takes minutes: Ctrl-C stops it inside the call, so the State is untouched
    (were it only noticed after the call, the State would have read everything)."""
    state, twin = plain.begin(product=("poet", "pirate", 1.0)), plain.begin(product=("poet", "pirate", 1.0))
    state.step("Arr")
    twin.step("Arr")
    assert interrupted(lambda: state.step(TEXT.encode() * 25000))
    np.testing.assert_array_equal(state.log_weights, twin.log_weights)
    assert state.step("!") == twin.step("!")


@pytest.mark.parametrize("call", [
    lambda pile, long: pile.score(long, product=("poet", "pirate", 1.0)),
    lambda pile, long: pile.bits_per_byte(long, product=("poet", "pirate", 1.0)),
    lambda pile, long: pile.trace(long, product=("poet", "pirate", 1.0)),
    lambda pile, long: pile.predict(long, product=("poet", "pirate", 1.0)),
    lambda pile, long: pile.vote(long, ["A", "B"], product=("poet", "pirate", 1.0)),
    lambda pile, long: pile.attribute_spans(long * 6),  # the fast calls get more text: each takes
    lambda pile, long: pile.divergence_matrix(long * 20),  # seconds, far beyond the 0.2 s of the Ctrl-C
], ids=["score", "bits_per_byte", "trace", "predict", "vote", "attribute_spans", "divergence_matrix"])
def test_ctrl_c_stops_long_calls(personas, call):
    pile = simulacra.Mixture(list(personas.values()), list(personas), switching="fixed_share", alpha=0.01)
    long = TEXT * 25000  # 2 MB
    assert interrupted(lambda: call(pile, long))
    assert pile.score(TEXT) == pytest.approx(
        simulacra.Mixture(list(personas.values()), list(personas), switching="fixed_share", alpha=0.01).score(TEXT),
        rel=1e-12)


def test_ctrl_c_stops_fitting(builtin):
    big = simulacra.Corpus.from_texts([d.raw * 40 for d in builtin], [d.persona for d in builtin])
    assert interrupted(lambda: simulacra.Mixture.fit(big, order=8))
    assert len(simulacra.Mixture.fit(builtin, order=2)) == len(builtin.personas)
