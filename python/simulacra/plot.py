"""Plots of what the masks do (needs matplotlib: ``pip install simulacra[plot]``)."""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from ._core import Trace


def plot_trace(
    trace: Any, ax: Optional[Any] = None, names: Optional[Sequence[str]] = None, legend: bool = True
) -> Any:
    """Draws the weights of a Trace (or a Generation) as stacked bands, one per persona.

    The band heights at token x are the weights before token x. names label
    the bands (default: a Trace's personas, else the column numbers). Returns
    the matplotlib Axes.
    """
    import matplotlib.pyplot as plt

    weights = np.asarray(trace.weights, dtype=np.float64)
    if names is None:
        names = trace.personas if isinstance(trace, Trace) else [str(k) for k in range(weights.shape[1])]
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 3))
    ax.stackplot(np.arange(weights.shape[0]), weights.T, labels=list(names), step="post")
    ax.set_xlim(0, max(weights.shape[0] - 1, 1))
    ax.set_ylim(0, 1)
    ax.set_xlabel("token")
    ax.set_ylabel("weight")
    if legend:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    return ax
