"""Display of simulacra objects (attached on ``import simulacra``).

Plain text: ``Trace.table(max_rows=0)``, ``str(trace)`` and ``repr(trace)``
(the first and last 5 rows), and ``repr(vote)`` are the library's tables
(``simulacra/report.hpp``), the very ones the command-line tool prints:
a title line, then per row the position, the token, each persona's weight
in percent, the entropy of the weights in bits and the mixture's ln p; for
a vote, each persona's and the mixture's option probabilities.

Jupyter: ``Trace._repr_html_`` shows the traced text with each byte coloured
by its dominant persona (the palette of ``simulacra.plot``), a legend, and a
hover title per byte listing every persona's weight before it. Needs nothing
beyond numpy.
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np

from . import _core
from ._core import Trace, Vote
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


def trace_table(trace: Trace, max_rows: int = 0) -> str:
    """The trace as a plain-text table: a title line, the header, then every row, or,
    when 0 < max_rows < len(trace), the first max_rows // 2 and the last rows with a
    rule saying how many rows are not shown."""
    t, k = len(trace), len(trace.personas)
    total = trace.total_logprob
    title = f"Trace: {t} tokens, {k} personas, log p = {total:.4f} nats"
    if t > 0:
        title += f" ({-total / t / math.log(2.0):.3f} bits/token)"
    rows: list = []
    marks: list = []
    if 0 < max_rows < t:
        head = max_rows // 2
        tail = max_rows - head
        rows = list(range(head)) + list(range(t - tail, t))
        marks = [(t - tail, f"{t - head - tail} rows not shown")]
    table = _core.format_trace_table(
        np.asarray(trace.log_weights, dtype=np.float64).reshape(t, k),
        np.asarray(trace.entropy, dtype=np.float64),
        np.asarray(trace.logprobs, dtype=np.float64),
        np.asarray(trace.dominant, dtype=np.int64),
        np.asarray(trace.tokens, dtype=np.int64),
        list(trace.personas),
        rows,
        marks,
    )
    return title + "\n" + table.rstrip("\n")


def vote_table(vote: Vote) -> str:
    """The vote as a plain-text table: a title line naming the options, then a row per
    option with each persona's choice probabilities and the pile's three readings (the
    mixture's linear pool, per byte, plurality; '*' marks each column's choice) and the
    weights after the prompt."""
    options = list(vote.options)
    title = (
        f"Vote: {len(vote.personas)} personas, {len(options)} options "
        f"({', '.join(repr(o) for o in options)}): choice probabilities over the options"
    )
    table = _core.format_vote_table(
        np.asarray(vote.persona_choice, dtype=np.float64),
        np.asarray(vote.mixture_choice, dtype=np.float64),
        np.asarray(vote.mixture_logprobs, dtype=np.float64),
        np.asarray(vote.prompt_weights, dtype=np.float64),
        options,
        list(vote.personas),
        per_byte_choice=np.asarray(vote.per_byte_choice, dtype=np.float64),
        plurality=np.asarray(vote.plurality, dtype=np.float64),
    )
    return title + "\n" + table.rstrip("\n")


def _trace_repr_html_(self: Trace) -> str:
    return trace_html(self)


def _trace_str(self: Trace) -> str:
    return trace_table(self, 10)


def attach() -> None:
    """Installs the displays on simulacra.Trace and simulacra.Vote (idempotent)."""
    Trace._repr_html_ = _trace_repr_html_  # type: ignore[attr-defined]
    Trace.table = trace_table  # type: ignore[assignment]
    Trace.__str__ = _trace_str  # type: ignore[assignment]
    Trace.__repr__ = _trace_str  # type: ignore[assignment]
    Vote.__repr__ = vote_table  # type: ignore[assignment]


attach()

__all__ = ["MAX_HTML_BYTES", "attach", "trace_html", "trace_table", "vote_table"]
