"""Shared fixtures: the embedded corpus, a pile trained on it, small hand-built mixtures."""

import signal
from pathlib import Path

import pytest

import simulacra

SHAKESPEARE = Path(__file__).parents[2].parent / "shared" / "data" / "tinyshakespeare.txt"


@pytest.fixture(scope="session", autouse=True)
def python_handles_ctrl_c():
    """The Ctrl-C tests need Python's own SIGINT handler (KeyboardInterrupt). A shell that starts pytest in
    the background starts it with SIGINT ignored, and Python then installs no handler: put it in place."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.fixture(scope="session")
def builtin():
    return simulacra.Corpus.builtin()


@pytest.fixture(scope="session")
def builtin_split(builtin):
    return builtin.split(0.2, seed=1)


@pytest.fixture(scope="session")
def pile(builtin_split):
    """The README's pile: order 5, fixed share, alpha fitted, trained on 80% of the embedded corpus."""
    return simulacra.Mixture.fit(builtin_split[0], order=5)


@pytest.fixture(scope="session")
def personas(builtin):
    """Order-3 persona models of three embedded personas, by name."""
    names = ["pirate", "poet", "scientist"]
    return {name: simulacra.NGramPersona.fit(builtin.texts_of(name), order=3) for name in names}


@pytest.fixture(scope="session")
def plain(personas):
    """A mixture without switching and with a non-uniform prior: the exact Bayesian marginal."""
    return simulacra.Mixture(list(personas.values()), list(personas), prior=[0.5, 0.3, 0.2])


@pytest.fixture(scope="session")
def shakespeare():
    if not SHAKESPEARE.exists():
        pytest.skip(f"{SHAKESPEARE} is missing")
    return SHAKESPEARE
