"""Plots of what the masks do (needs matplotlib: ``pip install simulacra[plot]``).

Every function draws into ``ax`` (a new figure when None) and returns the
matplotlib Axes. matplotlib is imported inside the functions, so importing this
module does not need it.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Tuple

import numpy as np

from ._core import Trace

# A fixed palette (matplotlib's tab10), persona k gets PALETTE[k % 10]; shared
# with the HTML display of a Trace so colours agree everywhere.
PALETTE: Tuple[str, ...] = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)

# Tick labels show the text itself up to this many tokens.
_MAX_TEXT_TICKS = 80


def persona_colors(k: int) -> list:
    """The colours of personas 0..k-1 (the palette, repeated past 10)."""
    return [PALETTE[i % len(PALETTE)] for i in range(k)]


def _new_ax(ax: Optional[Any], figsize: Tuple[float, float]) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize)
    return ax


def _names(trace: Any, k: int, names: Optional[Sequence[str]]) -> list:
    if names is not None:
        return list(names)
    if isinstance(trace, Trace):
        return list(trace.personas)
    return [str(i) for i in range(k)]


def _tick_label(token: int) -> str:
    if token == 256:
        return "<b>"
    if token == 0x20:
        return "\u2423"  # open box: a visible space
    if token == 0x0A:
        return "\u21b5"
    if 0x20 < token < 0x7F:
        return chr(token)
    return f"\\x{token:02x}"


def _text_ticks(ax: Any, trace: Any, n: int) -> None:
    """The text along the x axis when it is short, else plain token numbers."""
    tokens = getattr(trace, "tokens", None)
    if tokens is not None and 0 < n <= _MAX_TEXT_TICKS and len(tokens) >= n:
        ax.set_xticks(np.arange(n))
        ax.set_xticklabels([_tick_label(int(t)) for t in tokens[:n]], fontfamily="monospace", fontsize="small")
        ax.tick_params(axis="x", length=0)
        ax.set_xlabel("text")
    else:
        ax.set_xlabel("token")


def plot_trace(
    trace: Any, ax: Optional[Any] = None, names: Optional[Sequence[str]] = None, legend: bool = True
) -> Any:
    """Draws the weights of a Trace (or a Generation) as stacked bands, one per persona.

    The band heights at token x are the weights before token x. names label
    the bands (default: a Trace's personas, else the column numbers). Returns
    the matplotlib Axes.
    """
    weights = np.asarray(trace.weights, dtype=np.float64)
    names = _names(trace, weights.shape[1], names)
    ax = _new_ax(ax, (10, 3))
    ax.stackplot(
        np.arange(weights.shape[0]),
        weights.T,
        labels=list(names),
        step="post",
        colors=persona_colors(weights.shape[1]),
    )
    ax.set_xlim(0, max(weights.shape[0] - 1, 1))
    ax.set_ylim(0, 1)
    ax.set_xlabel("token")
    ax.set_ylabel("weight")
    if legend:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    return ax


def weights_heatmap(
    trace: Any, ax: Optional[Any] = None, names: Optional[Sequence[str]] = None, colorbar: bool = True
) -> Any:
    """The weights of a Trace (or a Generation) as a personas x tokens heatmap.

    Cell (k, t) is persona k's weight before token t (0 white .. 1 dark). For a
    text of at most 80 tokens the x axis is labelled with the text itself.
    """
    weights = np.asarray(trace.weights, dtype=np.float64)
    t, k = weights.shape
    names = _names(trace, k, names)
    ax = _new_ax(ax, (max(6.0, min(16.0, 0.18 * t + 2.0)), 0.4 * k + 1.2))
    image = ax.imshow(
        weights.T, aspect="auto", interpolation="nearest", cmap="Blues", vmin=0.0, vmax=1.0
    )
    ax.set_yticks(np.arange(k))
    ax.set_yticklabels(names)
    _text_ticks(ax, trace, t)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label="weight", fraction=0.03, pad=0.01)
    return ax


def dominant_timeline(
    trace: Any, ax: Optional[Any] = None, names: Optional[Sequence[str]] = None, legend: bool = True
) -> Any:
    """A colour strip: at each token, the colour of the persona with the largest weight."""
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    weights = np.asarray(trace.weights, dtype=np.float64)
    t, k = weights.shape
    names = _names(trace, k, names)
    dominant = np.asarray(getattr(trace, "dominant", None) if isinstance(trace, Trace) else weights.argmax(axis=1))
    colors = persona_colors(k)
    cmap = ListedColormap(colors)
    norm = BoundaryNorm(np.arange(k + 1) - 0.5, k)
    ax = _new_ax(ax, (10, 1.2))
    ax.imshow(dominant.reshape(1, -1), aspect="auto", interpolation="nearest", cmap=cmap, norm=norm)
    ax.set_yticks([])
    _text_ticks(ax, trace, t)
    if legend:
        present = sorted(set(int(d) for d in dominant))
        ax.legend(
            handles=[Patch(color=colors[i], label=names[i]) for i in present],
            loc="upper left",
            bbox_to_anchor=(1.0, 1.0),
            fontsize="small",
        )
    return ax


def divergence_matrix(
    matrix: Any, names: Sequence[str], ax: Optional[Any] = None, fmt: str = "{:.2f}", label: str = "divergence"
) -> Any:
    """An annotated K x K heatmap, e.g. of Mixture.divergence_matrix(text) (row persona vs column persona)."""
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] != len(names):
        raise ValueError(f"divergence_matrix: expected a ({len(names)}, {len(names)}) matrix, got shape {m.shape}")
    k = m.shape[0]
    ax = _new_ax(ax, (0.9 * k + 2.5, 0.8 * k + 1.5))
    finite = m[np.isfinite(m)]
    vmax = float(finite.max()) if finite.size else 1.0
    image = ax.imshow(m, cmap="viridis", vmin=0.0, vmax=vmax if vmax > 0 else 1.0)
    ax.set_xticks(np.arange(k))
    ax.set_xticklabels(names, rotation=45, ha="right")
    ax.set_yticks(np.arange(k))
    ax.set_yticklabels(names)
    for i in range(k):
        for j in range(k):
            value = m[i, j]
            bright = np.isfinite(value) and value > 0.6 * vmax
            ax.text(
                j, i, fmt.format(value), ha="center", va="center", fontsize="small",
                color="black" if bright else "white",
            )
    ax.figure.colorbar(image, ax=ax, label=label, fraction=0.046, pad=0.04)
    return ax


def _curve(evidence: Any) -> np.ndarray:
    return np.asarray(getattr(evidence, "weight_b", evidence), dtype=np.float64).ravel()


def switch_curves(
    ab: Any,
    ba: Any = None,
    labels: Sequence[str] = ("A \u2192 B", "B \u2192 A"),
    ax: Optional[Any] = None,
    linestyle: str = "-",
    colors: Optional[Sequence[str]] = None,
) -> Any:
    """The weight of the new mask against tokens of the new text, with 0.5 and 0.9 lines.

    ab, ba: SwitchEvidence objects (their weight_b) or plain arrays; ba may be
    None. Call it again with the same ax (and another linestyle) to compare
    switching rules.
    """
    curves = [c for c in (ab, ba) if c is not None]
    colors = list(colors) if colors is not None else [PALETTE[0], PALETTE[3]]
    ax = _new_ax(ax, (8, 3.5))
    for i, evidence in enumerate(curves):
        y = _curve(evidence)
        ax.plot(np.arange(y.size), y, linestyle, color=colors[i % len(colors)], label=labels[i])
    for level in (0.5, 0.9):
        ax.axhline(level, color="0.5", linewidth=0.8, linestyle=":")
        ax.text(1.0, level, f" {level:g}", transform=ax.get_yaxis_transform(), va="center", fontsize="small", color="0.4")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("tokens of the new text read")
    ax.set_ylabel("weight of the new mask")
    ax.legend(loc="lower right", fontsize="small")
    return ax


__all__ = [
    "PALETTE",
    "divergence_matrix",
    "dominant_timeline",
    "persona_colors",
    "plot_trace",
    "switch_curves",
    "weights_heatmap",
]
