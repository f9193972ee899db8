"""Draws the figures of docs/inspection.md into docs/figures/ (run: python docs/make_figures.py).

Needs the installed simulacra package and matplotlib. Deterministic: the same
library gives the same pictures. Each PNG is small (about 100 KB at most).
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import simulacra  # noqa: E402
from simulacra import plot  # noqa: E402

OUT = Path(__file__).resolve().parent / "figures"
DPI = 80
TEXT = "Certainly, I'd be happy to help. Arr, me hearties! O moon, thou ghost."


def save(ax, name):
    fig = ax.figure
    path = OUT / f"{name}.png"
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    print(f"{path.relative_to(OUT.parent.parent)}: {path.stat().st_size // 1024} KB")


def main():
    OUT.mkdir(exist_ok=True)
    pile = simulacra.Mixture.fit(simulacra.Corpus.builtin(), order=5)
    trace = pile.trace(TEXT)

    save(plot.plot_trace(trace), "plot_trace")
    save(plot.weights_heatmap(trace), "weights_heatmap")
    save(plot.dominant_timeline(trace), "dominant_timeline")

    save(plot.divergence_matrix(pile.divergence_matrix(TEXT), pile.personas), "divergence_matrix")

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.5), sharey=True, constrained_layout=True)
    text_a = "Certainly! I would be happy to help you with that. Here is a clear, step-by-step summary. " * 2
    text_b = "Arr, me hearties, hoist the sails and fetch the rum, ye scallywags! Yo ho, to the sea!"
    for ax, (title, kw) in zip(
        axes, [("no switching", dict(switching="none")), ("fixed share, alpha = 0.01", dict(alpha=0.01))]
    ):
        model = simulacra.Mixture.fit(simulacra.Corpus.builtin(), order=5, **kw)
        ab, ba = model.switch_asymmetry("assistant", "pirate", text_a, text_b)
        plot.switch_curves(ab, ba, ["assistant \u2192 pirate", "pirate \u2192 assistant"], ax=ax)
        ax.set_title(title)
    save(axes[0], "switch_curves")


if __name__ == "__main__":
    main()
