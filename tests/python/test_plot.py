"""The matplotlib helper (skipped without matplotlib)."""

import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from simulacra.plot import plot_trace  # noqa: E402


def test_plot_trace_draws_one_band_per_persona(pile):
    ax = plot_trace(pile.trace("Arr, me hearties! O moon."))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == pile.personas
    assert len(ax.collections) == len(pile)


def test_plot_generation_weights(pile):
    g = pile.generate("Arr", max_tokens=20, seed=1, stop_at_boundary=False)
    ax = plot_trace(g, names=pile.personas, legend=False)
    assert ax.get_legend() is None and len(ax.collections) == len(pile)
