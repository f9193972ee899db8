"""Mixture.fit: alpha chosen on held-out text, fixed or no switching, argument checks, progress
callbacks and bars, Ctrl-C, and the library's exception hierarchy in Python."""

import sys
import types

import numpy as np
import pytest

import simulacra


def test_fit_chooses_alpha_on_held_out_text(builtin):
    pile, report = simulacra.Mixture.fit(builtin, order=3, background=False, return_report=True)
    assert isinstance(report, simulacra.TrainReport)
    assert pile.switching == "fixed_share" and report.alpha == pile.alpha
    assert len(report.alpha_grid) == len(report.heldout_bits) == 10
    assert report.alpha == report.alpha_grid[int(np.argmin(report.heldout_bits))]
    assert report.heldout_documents > 0
    np.testing.assert_allclose(pile.prior, [len(builtin.texts_of(p)) / len(builtin) for p in pile.personas])
    assert pile.persona("pirate").score("Arr") == simulacra.NGramPersona.fit(builtin.texts_of("pirate"), 3).score("Arr")


def test_fit_with_fixed_or_no_switching(builtin):
    fixed, report = simulacra.Mixture.fit(builtin, order=2, alpha=0.05, return_report=True)
    assert fixed.alpha == 0.05 and report.alpha_grid == []
    none = simulacra.Mixture.fit(builtin, order=2, switching="none", beta=0.5)
    assert (none.switching, none.beta) == ("none", 0.5)
    grid = simulacra.Mixture.fit(builtin, order=2, alpha_grid=[0.0, 0.5], return_report=True)[1]
    assert grid.alpha_grid == [0.0, 0.5]


def test_fit_checks_its_arguments(builtin):
    with pytest.raises(ValueError, match="alpha"):
        simulacra.Mixture.fit(builtin, order=2, alpha=float("nan"))
    with pytest.raises(ValueError, match="order"):
        simulacra.Mixture.fit(builtin, order=0)
    with pytest.raises(ValueError, match="heldout_fraction"):
        simulacra.Mixture.fit(builtin, heldout_fraction=1.0)
    with pytest.raises(ValueError, match="no documents"):
        simulacra.Mixture.fit(simulacra.Corpus())
    with pytest.raises(TypeError, match="progress"):
        simulacra.Mixture.fit(builtin, order=2, progress="yes")


def test_progress_callback_is_called(builtin):
    seen = []
    _, report = simulacra.Mixture.fit(builtin, order=2, progress=seen.append, return_report=True)
    stages = [p.stage for p in seen]
    order = ["persona", "alpha", "segmentation", "calibration", "refit"]
    assert stages == sorted(stages, key=order.index)  # in this order
    assert set(stages) == set(order)
    for stage in ("persona", "refit"):
        assert {p.name for p in seen if p.stage == stage} >= set(builtin.personas)
    assert [float(p.name) for p in seen if p.stage == "alpha"] == report.alpha_grid
    assert seen[-1].done == seen[-1].total == len(builtin.personas) + 1  # and the background
    only = []
    simulacra.Mixture.fit(builtin, order=2, alpha=0.01, background=False, calibrate=False, progress=only.append)
    assert {p.stage for p in only} == {"persona"}
    assert "TrainProgress(stage=" in repr(seen[0])


def test_exceptions_in_the_progress_callback_propagate(builtin):
    class Stop(Exception):
        pass

    def stop(progress):
        if progress.stage == "alpha":
            raise Stop(progress.name)

    with pytest.raises(Stop):
        simulacra.Mixture.fit(builtin, order=2, progress=stop)


def test_keyboard_interrupt_stops_training(builtin):
    calls = []

    def interrupt(progress):
        calls.append(progress)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        simulacra.Mixture.fit(builtin, order=2, progress=interrupt)
    assert len(calls) == 1


def test_progress_true_uses_tqdm_when_installed(builtin, monkeypatch):
    bars = []

    class FakeBar:
        def __init__(self, total, desc):
            self.total, self.desc, self.n, self.closed = total, desc, 0, False
            bars.append(self)

        def set_postfix_str(self, text, refresh=True):
            self.postfix = text

        def update(self, n):
            self.n += n

        def close(self):
            self.closed = True

    fake = types.ModuleType("tqdm.auto")
    fake.tqdm = FakeBar
    monkeypatch.setitem(sys.modules, "tqdm", types.ModuleType("tqdm"))
    monkeypatch.setitem(sys.modules, "tqdm.auto", fake)
    simulacra.Mixture.fit(builtin, order=2, progress=True)
    assert [b.desc for b in bars] == ["fit personas", "fit alpha", "fit segmentation", "calibrate", "refit personas"]
    # The refit covers every persona and the background.
    assert all(b.closed for b in bars) and bars[-1].n == bars[-1].total == len(builtin.personas) + 1


def test_progress_true_without_tqdm_is_silent(builtin, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    assert len(simulacra.Mixture.fit(builtin, order=2, progress=True)) == 6


def test_exception_types_follow_the_library_hierarchy():
    assert issubclass(simulacra.FileError, OSError)
    with pytest.raises(ValueError):  # InvalidArgument
        simulacra.NGramPersona.fit(["a"], order=0)
    with pytest.raises(IndexError):  # OutOfRange
        simulacra.decode([999])
