"""The matplotlib helpers (skipped without matplotlib).

Each plot is checked for what it must show, read back from the matplotlib
objects it returns (the Axes, their artists and data) and compared with the
trace's numbers: the stacked bands' heights are the weights, the heatmap's
array is the weight matrix, the colour ranges span the data. Each is also
rendered to a PNG that must not be blank.
"""

import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from simulacra.plot import plot_trace  # noqa: E402


def test_plot_trace_draws_one_band_per_persona(pile):
    ax = plot_trace(pile.trace("Arr, me hearties! O moon."))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == pile.personas
    assert len(ax.collections) == len(pile)


def band_at(ax, x, y):
    """The indices of the bands (ax.collections) whose area contains the point (x, y)."""
    return [k for k, band in enumerate(ax.collections) if any(p.contains_point((x, y)) for p in band.get_paths())]


def test_plot_trace_band_heights_are_the_weights(pile):
    from matplotlib.colors import to_rgba

    trace = pile.trace("Arr, me hearties! O silver moon.")
    weights = np.asarray(trace.weights, dtype=np.float64)
    ax = plot_trace(trace)
    t_count, k_count = weights.shape
    assert ax.get_ylim() == (0.0, 1.0)
    for k, band in enumerate(ax.collections):
        np.testing.assert_allclose(band.get_facecolor()[0], to_rgba(plot.PALETTE[k]))
    tops = np.cumsum(weights, axis=1)  # (T, K): top of band k before token t
    bottoms = tops - weights
    for t in range(t_count - 1):  # band k spans [bottoms[t, k], tops[t, k]] over [t, t + 1)
        for y in np.linspace(0.004, 0.996, 60):
            inside = [k for k in range(k_count) if bottoms[t, k] + 1e-3 < y < tops[t, k] - 1e-3]
            near_edge = np.any(np.abs(np.concatenate([bottoms[t], tops[t]]) - y) <= 1e-3)
            if not near_edge:
                assert band_at(ax, t + 0.5, y) == inside, (t, y)
    plt.close(ax.figure)


def test_plot_generation_weights(pile):
    g = pile.generate("Arr", max_tokens=20, seed=1, stop_at_boundary=False)
    ax = plot_trace(g, names=pile.personas, legend=False)
    assert ax.get_legend() is None and len(ax.collections) == len(pile)


# ---------------------------------------------------------------- every plot to PNG

import html  # noqa: E402
import re  # noqa: E402

import numpy as np  # noqa: E402
import matplotlib.image  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

import simulacra  # noqa: E402
from simulacra import plot  # noqa: E402

SIZE, DPI = (4.0, 3.0), 50  # -> 200 x 150 pixels


def render(tmp_path, draw, name):
    """Draws into a fresh fixed-size figure, saves a PNG, reads it back; returns (Axes, image)."""
    fig, ax = plt.subplots(figsize=SIZE, dpi=DPI)
    try:
        returned = draw(ax)
        path = tmp_path / f"{name}.png"
        fig.savefig(path, dpi=DPI)
    finally:
        plt.close(fig)
    assert path.stat().st_size > 0
    image = matplotlib.image.imread(path)
    assert image.shape[:2] == (int(SIZE[1] * DPI), int(SIZE[0] * DPI))
    # Not a blank canvas: more than one colour was drawn.
    assert np.unique(image.reshape(-1, image.shape[-1]), axis=0).shape[0] > 2
    return returned, image


@pytest.fixture(scope="module")
def short_trace(pile):
    return pile.trace("Arr, me hearties! O moon.")


def test_weights_heatmap_png(tmp_path, short_trace, pile):
    ax, _ = render(tmp_path, lambda ax: plot.weights_heatmap(short_trace, ax=ax), "heatmap")
    assert [t.get_text() for t in ax.get_yticklabels()] == pile.personas
    # A short text is written along the x axis.
    assert len(ax.get_xticklabels()) == len(short_trace)
    assert [t.get_text() for t in ax.get_xticklabels()][:4] == ["A", "r", "r", ","]
    # The image is the (K, T) weight matrix, on a colour range [0, 1] that spans it.
    (image,) = ax.images
    np.testing.assert_allclose(np.asarray(image.get_array()), np.asarray(short_trace.weights).T, rtol=1e-6)
    assert image.get_clim() == (0.0, 1.0)
    weights = np.asarray(short_trace.weights)
    assert 0.0 <= weights.min() and weights.max() <= 1.0
    assert image.colorbar is not None
    assert (image.colorbar.norm.vmin, image.colorbar.norm.vmax) == (0.0, 1.0)


def test_weights_heatmap_long_text_uses_token_numbers(tmp_path, pile):
    trace = pile.trace("Arr, me hearties! " * 10)
    ax, _ = render(tmp_path, lambda ax: plot.weights_heatmap(trace, ax=ax, colorbar=False), "heatmap_long")
    assert ax.get_xlabel() == "token"
    assert ax.images[0].colorbar is None
    np.testing.assert_allclose(np.asarray(ax.images[0].get_array()), np.asarray(trace.weights).T, rtol=1e-6)


def test_plot_trace_png(tmp_path, short_trace):
    render(tmp_path, lambda ax: plot.plot_trace(short_trace, ax=ax), "trace")


def test_dominant_timeline_png(tmp_path, short_trace, pile):
    from matplotlib.colors import to_rgba

    ax, _ = render(tmp_path, lambda ax: plot.dominant_timeline(short_trace, ax=ax), "dominant")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == [pile.personas[k] for k in sorted(set(short_trace.dominant.tolist()))]
    # Cell t is the dominant persona before token t, in that persona's colour.
    (image,) = ax.images
    dominant = np.asarray(short_trace.dominant)
    assert np.array_equal(np.asarray(image.get_array()), dominant.reshape(1, -1))
    assert dominant.tolist() == np.asarray(short_trace.weights).argmax(axis=1).tolist()
    for k in range(len(pile)):
        np.testing.assert_allclose(image.cmap(image.norm(k)), to_rgba(plot.PALETTE[k]))


def test_divergence_matrix_png(tmp_path, pile):
    matrix = pile.divergence_matrix("Arr, me hearties! O moon, I am happy to help.")
    ax, _ = render(tmp_path, lambda ax: plot.divergence_matrix(matrix, pile.personas, ax=ax), "divergence")
    assert len(ax.texts) == len(pile) ** 2
    (image,) = ax.images
    np.testing.assert_allclose(np.asarray(image.get_array()), matrix)
    assert image.get_clim() == (0.0, pytest.approx(float(np.max(matrix))))
    k = len(pile)
    cells = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}
    assert cells == {(i, j): f"{matrix[i, j]:.2f}" for i in range(k) for j in range(k)}
    with pytest.raises(ValueError):
        plot.divergence_matrix(matrix, pile.personas[:-1], ax=ax)


def test_switch_curves_png(tmp_path, pile):
    ab, ba = pile.switch_asymmetry(
        "assistant", "pirate", "Certainly, I would be happy to help you with that.", "Arr, hoist the sails, me hearties!"
    )
    ax, _ = render(tmp_path, lambda ax: plot.switch_curves(ab, ba, ["assistant -> pirate", "pirate -> assistant"], ax=ax), "switch")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["assistant -> pirate", "pirate -> assistant"]
    assert len(ax.lines) == 2 + 2  # two curves, the 0.5 and 0.9 lines
    np.testing.assert_allclose(ax.lines[0].get_ydata(), ab.weight_b, rtol=1e-6)
    np.testing.assert_allclose(ax.lines[1].get_ydata(), ba.weight_b, rtol=1e-6)
    assert np.array_equal(ax.lines[0].get_xdata(), np.arange(len(ab.weight_b)))
    assert [line.get_ydata()[0] for line in ax.lines[2:]] == [0.5, 0.9]


def test_plots_make_their_own_figure(short_trace):
    for draw in (plot.weights_heatmap, plot.dominant_timeline):
        ax = draw(short_trace)
        assert ax.figure is not None
        plt.close(ax.figure)


# ---------------------------------------------------------------- the HTML display


def text_spans(markup):
    """The spans of the text (each carries a hover title), in order: [(title, content)]."""
    return re.findall(r'<span style="[^"]*" title="([^"]*)">([^<]*)</span>', markup)


def test_trace_html_one_span_per_byte(pile):
    text = "Arr <b>me</b> & hearties!\n\"quoted\" O moon."
    trace = pile.trace(text)
    markup = trace._repr_html_()
    spans = text_spans(markup)
    assert len(spans) == len(text.encode())
    assert "".join(html.unescape(content) for _, content in spans) == text
    # Everything is escaped: no raw markup of the text leaks through.
    contents = [content for _, content in spans]
    assert "&lt;" in contents and "&amp;" in contents and "&gt;" in contents
    assert "<b>me" not in markup.split("monospace", 1)[1]
    for name in pile.personas:
        assert name in markup
        assert f"{name}: " in html.unescape(spans[0][0])
    assert repr(trace).startswith("Trace:")  # the plain table is kept


def test_trace_html_escapes_persona_names(personas):
    names = ["<pirate>", "poet & co", 'sci"ence']
    mixture = simulacra.Mixture(list(personas.values()), names)
    markup = mixture.trace("a<&")._repr_html_()
    for name in names:
        assert html.escape(name) in markup
    assert "<pirate>" not in markup


def test_trace_html_is_limited(pile):
    from simulacra import display

    trace = pile.trace("Arr! " * 10)
    markup = display.trace_html(trace, max_bytes=7)
    assert len(text_spans(markup)) == 7
    assert "showing the first 7 of 50 bytes" in markup


def test_trace_html_multibyte_and_control_bytes(pile):
    trace = pile.trace(b"caf\xc3\xa9 \xff\x01")
    markup = trace._repr_html_()
    contents = [html.unescape(c) for _, c in text_spans(markup)]
    assert contents == ["c", "a", "f", "\u00e9", " ", "\\xff", "\\x01"]
