"""The plain-text tables of Trace and Vote (simulacra.display): the library's
tables (simulacra/report.hpp, the ones the CLI prints), checked cell by cell
against the numbers of the trace and the vote."""

import math

import numpy as np

import simulacra
from simulacra import display

TEXT = "Arr, me hearties! O silver moon, I am happy to help."


def rows_of(table):
    """The table's data rows (after the title and the header), split into fields."""
    return [line.split() for line in table.splitlines()[2:] if not line.lstrip().startswith("----")]


def test_trace_table_cells_are_the_trace(pile):
    tr = pile.trace(TEXT)
    table = tr.table()
    lines = table.splitlines()
    assert lines[0].startswith(f"Trace: {len(tr)} tokens, {len(pile)} personas, log p = {tr.total_logprob:.4f} nats")
    assert lines[1].split() == ["pos", "token", *pile.personas, "H", "bits", "ln", "p"]
    weights = np.asarray(tr.weights, dtype=np.float64)
    rows = rows_of(table)
    assert len(rows) == len(tr)
    for t, fields in enumerate(rows):
        token = int(tr.tokens[t])
        name = "<b>" if token == 256 else "'" + simulacra.token_name(token) + "'"
        shown = " ".join(fields[1:-(len(pile) + 2)])  # a space token splits into two fields
        assert int(fields[0]) == t and shown == name
        cells = fields[-(len(pile) + 2):]
        for k in range(len(pile)):
            assert abs(float(cells[k].rstrip("%")) - 100 * weights[t, k]) <= 0.05 + 1e-6, (t, k)
        assert abs(float(cells[-2]) - tr.entropy[t] / math.log(2)) <= 0.005 + 1e-6
        assert abs(float(cells[-1]) - tr.logprobs[t]) <= 0.005 + 1e-6


def test_trace_str_shows_the_first_and_last_rows(pile):
    tr = pile.trace(TEXT)
    text = str(tr)
    assert text == repr(tr) == display.trace_table(tr, 10)
    positions = [int(fields[0]) for fields in rows_of(text)]
    assert positions == [0, 1, 2, 3, 4] + list(range(len(tr) - 5, len(tr)))
    assert f"---- {len(tr) - 10} rows not shown" in text


def test_trace_table_is_the_library_table(pile):
    tr = pile.trace(TEXT)
    library = simulacra._core.format_trace_table(
        tr.log_weights, tr.entropy, tr.logprobs, tr.dominant, tr.tokens, tr.personas
    )
    assert tr.table().split("\n", 1)[1] == library.rstrip("\n")
    assert "\x1b[" in simulacra._core.format_trace_table(
        tr.log_weights, tr.entropy, tr.logprobs, tr.dominant, tr.tokens, tr.personas, color=True
    )


def test_vote_repr_cells_are_the_vote(plain):
    options = ["the sea", "the moon"]
    v = plain.vote("Question: which is best? Answer: ", options)
    text = repr(v)
    assert text.startswith(f"Vote: {len(plain)} personas, 2 options ('the sea', 'the moon')")
    lines = text.splitlines()
    assert lines[1].split() == ["option", *plain.personas, "mixture", "per", "byte", "plurality", "mixture", "ln", "p"]
    winners = [int(np.argmax(v.persona_choice[k])) for k in range(len(plain))]
    for m, option in enumerate(options):
        line = lines[2 + m]
        assert line.strip().startswith(f'"{option}"')
        cells = line.split('"')[2].split()
        for k in range(len(plain)):
            assert abs(float(cells[k].rstrip("*%")) - 100 * v.persona_choice[k, m]) <= 0.05 + 1e-6
            assert cells[k].endswith("*") == (winners[k] == m)
        assert abs(float(cells[len(plain)].rstrip("*%")) - 100 * v.mixture_choice[m]) <= 0.05 + 1e-6
        assert abs(float(cells[len(plain) + 1].rstrip("*%")) - 100 * v.per_byte_choice[m]) <= 0.05 + 1e-6
        assert abs(float(cells[len(plain) + 2].rstrip("*%")) - 100 * v.plurality[m]) <= 0.05 + 1e-6
        assert cells[len(plain) + 2].endswith("*") == (int(np.argmax(v.plurality)) == m)
        assert abs(float(cells[-1]) - v.mixture_logprobs[m]) <= 0.005 + 1e-6
    assert "weights after the prompt" in text
