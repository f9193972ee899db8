"""Every model object pickles through in-memory bytes (no temporary files, so any Dask, Ray or multiprocessing user
can ship it): the copy predicts bit for bit what the original does, in another process too, and damaged state is a
FileError."""

import multiprocessing
import os
import pickle
import tempfile

import numpy as np
import pytest

import simulacra

TEXT = "Arr, matey! O moon, soft night."


def personas():
    lm = simulacra.NGramPersona.fit(["Arr, matey!", "Ahoy, matey!", "Hoist the sails!"], 3)
    bg = simulacra.NGramPersona.fit(["O moon", "Arr, matey!", "soft night"], 2)
    model = simulacra.TransformerModel(simulacra.TransformerConfig(layers=1, heads=1, width=8, context=8, personas=2), seed=3)
    return {
        "ngram": lm,
        "interpolated": simulacra.InterpolatedPersona(lm, bg, 0.3),
        "transformer": model.persona(1),
    }


@pytest.mark.parametrize("kind", ["ngram", "interpolated", "transformer"])
def test_personas_pickle_bit_for_bit(kind):
    p = personas()[kind]
    back = pickle.loads(pickle.dumps(p))
    assert type(back) is type(p)
    assert np.array_equal(back.token_logprobs(TEXT), p.token_logprobs(TEXT))
    assert np.array_equal(back.next_logprobs("Arr"), p.next_logprobs("Arr"))


def test_interpolated_keeps_its_weight_and_parts():
    p = personas()["interpolated"]
    back = pickle.loads(pickle.dumps(p))
    assert back.weight == p.weight
    assert np.array_equal(back.background.token_logprobs(TEXT), p.background.token_logprobs(TEXT))


def test_transformer_model_pickles_in_both_precisions():
    for dtype in ("float32", "float64"):
        model = simulacra.TransformerModel(simulacra.TransformerConfig(layers=1, heads=2, width=8, context=8), seed=5,
                                           dtype=dtype)
        back = pickle.loads(pickle.dumps(model))
        assert back.dtype == model.dtype
        for name, value in model.parameters().items():
            assert np.array_equal(back.parameters()[name], value), name
        tokens = np.array([[256, 65, 114, 114]])
        assert np.array_equal(back.forward(tokens).logits, model.forward(tokens).logits)


def test_no_temporary_file_is_written(monkeypatch):
    scratch = tempfile.mkdtemp()
    for var in ("TMPDIR", "TEMP", "TMP"):
        monkeypatch.setenv(var, scratch)
    tempfile.tempdir = None
    try:
        objects = list(personas().values()) + [simulacra.NGramCounts(["Arr"], 3)]
        for obj in objects:
            pickle.loads(pickle.dumps(obj))
        assert os.listdir(scratch) == []
    finally:
        tempfile.tempdir = None


def _score_in_child(blob):
    return pickle.loads(blob).token_logprobs(TEXT).tolist()


def test_a_pickled_persona_scores_the_same_in_another_process():
    p = personas()["interpolated"]
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        child = pool.apply(_score_in_child, (pickle.dumps(p),))
    assert np.array_equal(np.array(child), p.token_logprobs(TEXT))


def test_damaged_state_is_a_file_error():
    state = personas()["ngram"].__getstate__()
    with pytest.raises(simulacra.FileError):
        simulacra.NGramPersona.__new__(simulacra.NGramPersona).__setstate__(state[: len(state) // 2])
    # A pickled transformer persona is not an n-gram persona.
    other = personas()["transformer"].__getstate__()
    with pytest.raises(simulacra.FileError, match="kind"):
        simulacra.NGramPersona.__new__(simulacra.NGramPersona).__setstate__(other)
