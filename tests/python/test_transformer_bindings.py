"""The Python face of the transformer hydra: TransformerConfig, TransformerModel (zero-copy
parameters, forward / backward argument checks, files) and TransformerPersona in a Mixture.
The numerics are checked against PyTorch in test_transformer_torch.py."""

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import load_file

import simulacra

SMALL = dict(layers=2, heads=2, width=16, context=8)


def small(**overrides):
    return simulacra.TransformerConfig(**{**SMALL, **overrides})


def tokens(B=2, L=5, seed=0):
    return np.random.default_rng(seed).integers(0, simulacra.VOCAB, size=(B, L))


# ---------------------------------------------------------------- config


def test_config_defaults_attributes_and_counts():
    cfg = simulacra.TransformerConfig()
    assert (cfg.layers, cfg.heads, cfg.width, cfg.context, cfg.personas) == (4, 4, 128, 64, 1)
    assert (cfg.bias, cfg.tie_weights, cfg.gate) == (False, False, False)
    assert cfg == simulacra.TransformerConfig(layers=4)
    assert cfg != small()
    assert "TransformerConfig(layers=4" in repr(cfg)
    for c in (cfg, small(personas=3, bias=True, gate=True), small(tie_weights=True)):
        layout = simulacra.TransformerModel(c).layout
        assert c.parameter_count == sum(int(np.prod(shape)) for _, shape in layout)
    assert 0 < cfg.training_flops_per_token < simulacra.TransformerConfig(context=128).training_flops_per_token
    with pytest.raises(AttributeError):
        cfg.layers = 3


@pytest.mark.parametrize("field, value", [("layers", 0), ("heads", 3), ("width", -1), ("context", 0), ("personas", 0)])
def test_config_rejects_bad_fields_naming_them(field, value):
    with pytest.raises(ValueError, match=field):
        simulacra.TransformerConfig(**{field: value})


# ---------------------------------------------------------------- model and parameters


@pytest.mark.parametrize("dtype", ["float32", "float64", np.float64, np.dtype("float32")])
def test_model_dtype_layout_and_parameter_views(dtype):
    model = simulacra.TransformerModel(small(personas=2, bias=True, gate=True), seed=1, dtype=dtype)
    assert model.dtype == np.dtype(dtype)
    params = model.parameters()
    assert list(params) == [name for name, _ in model.layout]
    for name, shape in model.layout:
        assert params[name].shape == shape and params[name].dtype == model.dtype, name
        assert params[name].flags.writeable and params[name].flags.c_contiguous, name
    assert model.config == small(personas=2, bias=True, gate=True)
    assert np.all(params["h.0.ln1.weight"] == 1) and np.all(params["h.0.ln1.bias"] == 0)


def test_parameters_are_zero_copy_and_keep_the_model_alive():
    model = simulacra.TransformerModel(small(), seed=2)
    x = tokens()
    before = model.forward(x).logits.copy()
    view = model.parameters()["head.0.ln.weight"]
    view *= 2.0  # in place, through the view
    assert np.array_equal(model.parameters()["head.0.ln.weight"], view)
    assert not np.allclose(model.forward(x).logits, before)
    del model
    view[:] = 1.0  # still valid memory
    assert np.all(view == 1.0)


def test_same_seed_same_model_other_seed_other_model():
    a = simulacra.TransformerModel(small(), seed=5).parameters()["tok_emb"]
    b = simulacra.TransformerModel(small(), seed=5).parameters()["tok_emb"]
    c = simulacra.TransformerModel(small(), seed=6).parameters()["tok_emb"]
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_bad_dtype_argument():
    with pytest.raises(ValueError, match="dtype"):
        simulacra.TransformerModel(small(), dtype="int32")
    with pytest.raises(TypeError, match="dtype"):
        simulacra.TransformerModel(small(), dtype="no such dtype")


# ---------------------------------------------------------------- forward


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_forward_outputs(dtype):
    model = simulacra.TransformerModel(small(personas=3, gate=True), seed=3, dtype=dtype)
    out = model.forward(tokens(2, 8))
    assert out.logits.shape == (3, 2, 8, simulacra.VOCAB) and out.logits.dtype == np.dtype(dtype)
    assert out.hidden.shape == (2, 8, 16) and out.hidden.dtype == np.dtype(dtype)
    assert out.gate.shape == (2, 8, 3) and out.gate.dtype == np.dtype(dtype)
    assert not out.logits.flags.writeable
    assert simulacra.TransformerModel(small()).forward(tokens()).gate is None
    # causal: the first positions do not see later tokens
    x = tokens(1, 6)
    y = x.copy()
    y[0, 4:] = (y[0, 4:] + 1) % simulacra.VOCAB
    np.testing.assert_array_equal(model.forward(x).logits[:, :, :4], model.forward(y).logits[:, :, :4])


def test_forward_rejects_bad_tokens():
    model = simulacra.TransformerModel(small())
    with pytest.raises(TypeError, match="tokens"):
        model.forward(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="tokens"):
        model.forward([1, 2, 3])
    with pytest.raises(ValueError, match="L = 9"):
        model.forward(np.zeros((1, 9), dtype=int))
    with pytest.raises(IndexError, match="257"):
        model.forward([[1, 257]])
    with pytest.raises(IndexError):
        model.forward([[-1]])
    with pytest.raises(IndexError, match="tokens"):
        model.forward([[2**40]])


# ---------------------------------------------------------------- backward


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_backward_gradients_have_the_layout(dtype):
    model = simulacra.TransformerModel(small(personas=2, gate=True, bias=True), seed=4, dtype=dtype)
    out = model.forward(tokens())
    grads = model.backward(out, np.ones_like(out.logits), np.ones_like(out.gate))
    assert list(grads) == [name for name, _ in model.layout]
    for name, shape in model.layout:
        assert grads[name].shape == shape and grads[name].dtype == np.dtype(dtype), name
    # zero upstream gradient, zero parameter gradient; dgate=None means zero
    zero = model.backward(out, np.zeros_like(out.logits))
    assert all(not g.any() for g in zero.values())
    only_gate = model.backward(out, np.zeros_like(out.logits), np.ones_like(out.gate))
    assert only_gate["gate.weight"].any() and not only_gate["head.0.unembed.weight"].any()


def test_backward_rejects_bad_arguments_naming_them():
    model = simulacra.TransformerModel(small(personas=2, gate=True), seed=5)
    out = model.forward(tokens(2, 4))
    good = np.zeros((2, 2, 4, simulacra.VOCAB), np.float32)
    with pytest.raises(TypeError, match="dlogits.*float32.*float64"):
        model.backward(out, good.astype(np.float64))
    with pytest.raises(ValueError, match=r"dlogits: expected shape \(2, 2, 4, 257\)"):
        model.backward(out, good[:, :, :3])
    with pytest.raises(TypeError, match="dlogits"):
        model.backward(out, good.tolist())
    with pytest.raises(ValueError, match="dgate"):
        model.backward(out, good, np.zeros((2, 4, 3), np.float32))
    with pytest.raises(TypeError, match="dgate"):
        model.backward(out, good, np.zeros((2, 4, 2), np.float64))
    ungated = simulacra.TransformerModel(small(personas=2), seed=5)
    with pytest.raises(ValueError, match="dgate.*no gate"):
        ungated.backward(ungated.forward(tokens(2, 4)), good, np.zeros((2, 4, 2), np.float32))
    with pytest.raises(ValueError, match="forward_result"):
        ungated.backward(out, good)
    # a non-contiguous array of the right dtype and shape is fine
    wide = np.zeros((2, 2, 4, 2 * simulacra.VOCAB), np.float32)[..., ::2]
    assert not model.backward(out, wide)["tok_emb"].any()


# ---------------------------------------------------------------- files


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_save_and_load_round_trip(tmp_path, dtype):
    model = simulacra.TransformerModel(small(personas=2, bias=True, tie_weights=True, gate=True), seed=6, dtype=dtype)
    rng = np.random.default_rng(0)
    for p in model.parameters().values():
        p += rng.normal(size=p.shape).astype(p.dtype)
    path = tmp_path / "hydra.safetensors"
    model.save(path)
    again = simulacra.TransformerModel.load(str(path))
    assert again.dtype == np.dtype(dtype) and again.config == model.config
    for name, value in model.parameters().items():
        assert np.array_equal(again.parameters()[name], value), name
    stored = load_file(path)
    assert set(stored) == {name for name, _ in model.layout}
    assert all(stored[name].shape == shape and stored[name].dtype == np.dtype(dtype) for name, shape in model.layout)
    with safe_open(str(path), framework="np") as f:
        meta = f.metadata()
    assert meta["format"] == "simulacra-transformer" and meta["tie_weights"] == "true" and meta["layers"] == "2"


def test_loading_bad_files_raises_file_error(tmp_path):
    path = tmp_path / "hydra.safetensors"
    simulacra.TransformerModel(small(), seed=7).save(path)
    data = path.read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(simulacra.FileError, match="cut.safetensors"):
        simulacra.TransformerModel.load(tmp_path / "cut.safetensors")
    with pytest.raises(simulacra.FileError, match="missing"):
        simulacra.TransformerModel.load(tmp_path / "missing.safetensors")
    with pytest.raises(OSError):
        simulacra.TransformerModel.load(tmp_path)


# ---------------------------------------------------------------- persona


def test_persona_in_a_mixture_beside_an_ngram():
    model = simulacra.TransformerModel(small(personas=2), seed=8)
    heads = [model.persona(0), model.persona(1)]
    assert isinstance(heads[0], simulacra.Persona) and heads[1].kind == "transformer" and heads[1].head == 1
    ngram = simulacra.NGramPersona.fit(["arr matey", "ahoy there"], order=3)
    pile = simulacra.Mixture(heads + [ngram], ["a", "b", "ngram"])
    text = "arr, the sea be rough tonight, matey"  # longer than the context of 8
    trace = pile.trace(text)
    for k, persona in enumerate(heads):
        np.testing.assert_allclose(trace.persona_logprobs[:, k], persona.token_logprobs(text)[:-1], rtol=0, atol=1e-5)
    lp = heads[0].next_logprobs("arr")
    assert lp.shape == (simulacra.VOCAB,) and abs(np.logaddexp.reduce(lp.astype(np.float64))) < 1e-5
    with pytest.raises(IndexError):
        model.persona(2)
    with pytest.raises(ValueError, match="float32"):
        simulacra.TransformerModel(small(), dtype="float64").persona(0)
