"""Rich display of simulacra objects in Jupyter (attached on ``import simulacra``).

``Trace._repr_html_`` shows the traced text with each byte coloured by its
dominant persona (the palette of ``simulacra.plot``), a legend, and a hover
title per byte listing every persona's weight before it. The plain-text
``repr`` (a table) is unchanged. Needs nothing beyond numpy.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np

from ._core import Trace
from .plot import PALETTE

# At most this many bytes are drawn; a note says how many were left out.
MAX_HTML_BYTES = 20_000


def _rgba(color: str, alpha: float) -> str:
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha:.2f})"


def _glyph(data: bytes, i: int, token: int) -> tuple:
    """(visible text of the character starting at byte i, number of bytes it spans)."""
    if token == 256:
        return "\u23ce\n", 1  # the document boundary: a return symbol and a line break
    b = data[i]
    if b in (0x0A, 0x09) or 0x20 <= b < 0x7F:
        return chr(b), 1
    if b >= 0xC0:  # a multi-byte UTF-8 character: keep it whole when valid
        n = 2 if b < 0xE0 else 3 if b < 0xF0 else 4
        try:
            return data[i : i + n].decode("utf-8"), n
        except UnicodeDecodeError:
            pass
    if b == 0x0D:
        return "\\r", 1
    return f"\\x{b:02x}", 1


def trace_html(trace: Trace, max_bytes: int = MAX_HTML_BYTES) -> str:
    """The HTML of a trace: coloured text (one <span> per byte; a valid multi-byte
    UTF-8 character is one span titled with the weights before its first byte)."""
    names = list(trace.personas)
    weights = np.asarray(trace.weights)
    dominant = np.asarray(trace.dominant)
    tokens = np.asarray(trace.tokens)
    data = trace.text
    total = len(tokens)
    shown = min(total, max_bytes)
    colors = [PALETTE[k % len(PALETTE)] for k in range(len(names))]
    esc = html.escape

    legend = " ".join(
        f'<span style="background:{_rgba(colors[k], 0.55)};padding:0 0.4em;border-radius:3px">{esc(name)}</span>'
        for k, name in enumerate(names)
    )
    parts = [
        '<div class="simulacra-trace">',
        f"<div style=\"font-family:sans-serif;font-size:90%;margin-bottom:0.4em\"><b>Trace</b>: "
        f"{total} tokens, {len(names)} personas, log p = {trace.total_logprob:.4g} nats. "
        f"Colour: the dominant persona (stronger = larger weight); hover a byte for all weights.<br>{legend}</div>",
        '<div style="font-family:monospace;white-space:pre-wrap;word-break:break-all;line-height:1.5">',
    ]
    i = 0
    while i < shown:
        token = int(tokens[i])
        glyph, n = _glyph(data, i, token)
        k = int(dominant[i])
        w = weights[i]
        title = f"byte {i} {esc(repr(glyph if n > 1 or token == 256 else chr(data[i])), quote=True)}\n" + "\n".join(
            f"{esc(name, quote=True)}: {float(w[j]):.3f}" for j, name in enumerate(names)
        )
        alpha = 0.15 + 0.6 * float(w[k])
        parts.append(f'<span style="background:{_rgba(colors[k], alpha)}" title="{title}">{esc(glyph)}</span>')
        i += n
    parts.append("</div>")
    if shown < total:
        parts.append(
            f'<div style="font-family:sans-serif;font-size:90%;color:#666">showing the first {shown:,} of '
            f"{total:,} bytes</div>"
        )
    parts.append("</div>")
    return "".join(parts)


def _trace_repr_html_(self: Trace) -> str:
    return trace_html(self)


def attach() -> None:
    """Installs the HTML display on simulacra.Trace (idempotent)."""
    Trace._repr_html_ = _trace_repr_html_  # type: ignore[attr-defined]


attach()

__all__ = ["MAX_HTML_BYTES", "attach", "trace_html"]
