"""Model files: save / load, pickling, the safetensors layout, and damaged files."""

import copy
import json
import os
import pickle
import stat
import tempfile

import numpy as np
import pytest

import simulacra

safetensors = pytest.importorskip("safetensors")
from safetensors import safe_open  # noqa: E402
from safetensors.numpy import load_file, save_file  # noqa: E402

TEXT = "Arr, me hearties! O moon, the data suggest a hypothesis. \xff".encode("latin-1")


def assert_same_model(a, b):
    assert a.personas == b.personas
    assert (a.switching, a.alpha, a.beta, a.gamma) == (b.switching, b.alpha, b.beta, b.gamma)
    # The file holds the normalised prior, which the loader keeps as it is (a prior is
    # renormalised only when it does not sum to 1 within rounding): equal to the bit.
    np.testing.assert_array_equal(a.prior, b.prior)
    ta, tb = a.trace(TEXT), b.trace(TEXT)
    for name in ("log_weights", "persona_logprobs", "logprobs"):
        np.testing.assert_array_equal(getattr(ta, name), getattr(tb, name))
    assert a.score(TEXT) == b.score(TEXT)
    assert a.generate(max_tokens=50, seed=3).bytes == b.generate(max_tokens=50, seed=3).bytes


@pytest.fixture()
def saved(pile, tmp_path):
    path = tmp_path / "pile.safetensors"
    pile.save(path)
    return path


def test_save_and_load_give_identical_models(pile, saved):
    assert_same_model(pile, simulacra.load(saved))
    assert_same_model(pile, simulacra.load(str(saved)))


def test_transition_models_round_trip(personas, tmp_path):
    a = np.array([[0.9, 0.05, 0.05], [0.1, 0.8, 0.1], [0.0, 0.5, 0.5]])
    mix = simulacra.Mixture(list(personas.values()), list(personas), switching="transition", transition=a)
    mix.save(tmp_path / "hmm.safetensors")
    again = simulacra.load(tmp_path / "hmm.safetensors")
    np.testing.assert_array_equal(again.transition, a)
    assert_same_model(mix, again)


def test_the_file_opens_with_the_safetensors_package(pile, saved):
    tensors = load_file(saved)
    np.testing.assert_array_equal(tensors["prior"], pile.prior)
    assert any(name.startswith("persona.0.level.") for name in tensors)
    with safe_open(saved, framework="numpy") as f:
        meta = f.metadata()
    # A pile of interpolated n-gram personas (Mixture.fit's default) is written as version 3; plain n-gram
    # piles stay version 1 (readable by older releases), transformers need 2, compact n-grams 4.
    assert meta["format"] == "simulacra" and meta["format_version"] == "3" and simulacra.FORMAT_VERSION == 4
    assert any(name.startswith("background.0.level.") for name in tensors)
    assert [p["name"] for p in json.loads(meta["personas"])] == pile.personas
    assert json.loads(meta["config"])["switching"] == pile.switching
    assert json.loads(meta["tokenizer"]) == {"kind": "byte", "vocab": 257, "boundary": 256}


def test_pickle_and_deepcopy(pile):
    assert_same_model(pile, pickle.loads(pickle.dumps(pile)))
    assert_same_model(pile, copy.deepcopy(pile))
    state = pile.__getstate__()
    assert isinstance(state, bytes) and state[8:9] == b"{"


def test_pickling_needs_no_temporary_files(pile, monkeypatch, tmp_path):
    # Pickling used to go through a temporary directory (and an fsync); now it stays in memory.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no" / "such" / "dir"))
    assert_same_model(pile, pickle.loads(pickle.dumps(pile)))
    state = pile.__getstate__()
    pile.save(tmp_path / "pile.safetensors")
    assert state == (tmp_path / "pile.safetensors").read_bytes()


def test_damaged_pickles_raise_oserror(pile):
    state = pile.__getstate__()
    blank = simulacra.Mixture.__new__(simulacra.Mixture)
    with pytest.raises(OSError, match="pickled Mixture"):
        blank.__setstate__(state[: len(state) // 2])


def test_fifos_are_refused_without_blocking(pile, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="is a FIFO, not a regular file"):
        simulacra.load(fifo)
    with pytest.raises(OSError, match="is a FIFO, not a regular file"):
        pile.save(fifo)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_saving_through_a_symlink_keeps_the_link_and_the_mode(pile, saved, tmp_path):
    os.chmod(saved, 0o600)
    link = tmp_path / "current.safetensors"
    link.symlink_to(saved.name)
    pile.save(link)
    assert link.is_symlink() and stat.S_IMODE(os.stat(saved).st_mode) == 0o600
    assert_same_model(pile, simulacra.load(link))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["current.safetensors", "pile.safetensors"]


def header_length(data):
    return int.from_bytes(data[:8], "little")


def test_truncated_files_raise_oserror(saved, tmp_path):
    data = saved.read_bytes()
    for cut in (0, 4, 8, 8 + header_length(data) // 2, 8 + header_length(data), len(data) - 1):
        bad = tmp_path / f"cut{cut}.safetensors"
        bad.write_bytes(data[:cut])
        with pytest.raises(OSError, match=f"cut{cut}"):
            simulacra.load(bad)


def test_flipped_header_bytes_raise_oserror_or_load(saved, tmp_path):
    data = bytearray(saved.read_bytes())
    end = 8 + header_length(data)
    rng = np.random.default_rng(0)
    bad = tmp_path / "flipped.safetensors"
    failures = 0
    for pos in rng.choice(np.arange(8, end), size=150, replace=False):
        damaged = bytearray(data)
        damaged[pos] ^= 0xFF
        bad.write_bytes(bytes(damaged))
        try:
            simulacra.load(bad)
        except OSError as err:
            assert str(err)
            failures += 1
    assert failures > 100  # most of the header is structure: almost every flip is caught


def test_damaged_lengths_raise_oserror(saved, tmp_path):
    data = bytearray(saved.read_bytes())
    bad = tmp_path / "huge.safetensors"
    bad.write_bytes(b"\xff" * 8 + data[8:])
    with pytest.raises(OSError):
        simulacra.load(bad)
    bad.write_bytes(b"this is not a safetensors file at all")
    with pytest.raises(OSError):
        simulacra.load(bad)


def test_a_foreign_safetensors_file_is_refused(tmp_path):
    path = tmp_path / "foreign.safetensors"
    save_file({"weight": np.zeros((2, 3), dtype=np.float32)}, path)
    with pytest.raises(OSError, match="not a simulacra model"):
        simulacra.load(path)
    save_file({"weight": np.zeros(3, dtype=np.float32)}, path, metadata={"format": "pt"})
    with pytest.raises(OSError, match="not a simulacra model"):
        simulacra.load(path)


def rewrite(src, dst, **changes):
    """Copies a model file with the safetensors package, changing metadata entries."""
    tensors = load_file(src)
    with safe_open(src, framework="numpy") as f:
        meta = dict(f.metadata())
    meta.update(changes)
    save_file(tensors, dst, metadata=meta)


def test_a_rewritten_file_still_loads(pile, saved, tmp_path):
    copy_path = tmp_path / "copy.safetensors"
    rewrite(saved, copy_path)
    assert_same_model(pile, simulacra.load(copy_path))


def test_a_newer_format_version_is_refused(saved, tmp_path):
    newer = tmp_path / "newer.safetensors"
    rewrite(saved, newer, format_version=str(simulacra.FORMAT_VERSION + 1))
    with pytest.raises(OSError, match="newer"):
        simulacra.load(newer)


@pytest.mark.parametrize(
    "key, value",
    [("config", "{not json"), ("personas", "[]"), ("tokenizer", '{"kind": "bpe", "vocab": 50000, "boundary": 0}')],
)
def test_damaged_metadata_is_refused(saved, tmp_path, key, value):
    bad = tmp_path / "meta.safetensors"
    rewrite(saved, bad, **{key: value})
    with pytest.raises(OSError, match="meta.safetensors"):
        simulacra.load(bad)


def test_missing_tensors_are_refused(saved, tmp_path):
    tensors = load_file(saved)
    with safe_open(saved, framework="numpy") as f:
        meta = f.metadata()
    del tensors["persona.0.level.1.disc"]
    bad = tmp_path / "missing.safetensors"
    save_file(tensors, bad, metadata=meta)
    with pytest.raises(OSError, match="persona.0.level.1.disc"):
        simulacra.load(bad)


def test_missing_and_unwritable_paths(pile, tmp_path):
    with pytest.raises(OSError, match="nowhere"):
        simulacra.load(tmp_path / "nowhere.safetensors")
    with pytest.raises(OSError):
        simulacra.load(tmp_path)
    with pytest.raises(OSError):
        pile.save(tmp_path / "no" / "such" / "dir" / "pile.safetensors")
    assert list(tmp_path.iterdir()) == []
