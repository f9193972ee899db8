"""simulacra's transformer against an independent PyTorch implementation (torch_gpt.py), llm.c style.

Both sides get the same weights (the file TransformerModel.save writes, read
with safetensors.torch.load_file) and the same tokens. The logits, the trunk
output, the gate logits and EVERY parameter's gradient are compared for two
losses: a random linear one, sum_k <R_k, logits_k> + <S, gate>, and a
cross-entropy (the gated mixture's when there is a gate, else the mean over
heads). simulacra's backward gets dL/dlogits and dL/dgate from PyTorch's
autograd, so the comparison is of the hand-written backward pass alone.

The error of a tensor is max|simulacra - torch| / max|torch| (relative to the
max-norm of the reference). Tolerances:

    float64: 1e-10        float32: 1e-4

`pytest -s` prints every tensor's max difference.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import simulacra  # noqa: E402
import torch_gpt  # noqa: E402

TOLERANCE = {"float64": 1e-10, "float32": 1e-4}

# (id, config, B, L): bias on/off, tied/untied, K = 1 and 3, gate on/off, L < context and L = context,
# and the benchmark's size (the kernels' blocked and threaded paths).
CASES = [
    ("plain-L<ctx", dict(layers=2, heads=2, width=16, context=8), 3, 5),
    (
        "bias-tied-K3-gate-L=ctx",
        dict(layers=2, heads=4, width=16, context=8, personas=3, bias=True, tie_weights=True, gate=True),
        2,
        8,
    ),
    ("bias-K3-L<ctx", dict(layers=1, heads=2, width=8, context=6, personas=3, bias=True), 3, 4),
    ("tied-K1-gate-L=ctx", dict(layers=3, heads=1, width=12, context=5, tie_weights=True, gate=True), 2, 5),
    ("K3-gate-L<ctx", dict(layers=2, heads=2, width=16, context=10, personas=3, gate=True), 2, 7),
    ("nanogpt-size-L=ctx", dict(layers=4, heads=4, width=128, context=64), 3, 64),
]


def hydra_pair(tmp_path, config, dtype, seed):
    """A simulacra model with every parameter perturbed (LayerNorm weights away from 1, biases
    away from 0), saved, and the PyTorch model loaded from that file."""
    model = simulacra.TransformerModel(simulacra.TransformerConfig(**config), seed=seed, dtype=dtype)
    rng = np.random.default_rng(seed)
    for p in model.parameters().values():
        p += rng.normal(0.0, 0.05, p.shape).astype(p.dtype)  # in place: the views are the model's memory
    path = tmp_path / f"hydra-{dtype}.safetensors"
    model.save(path)
    return model, torch_gpt.GPT.load(path)


def cross_entropy(logits, gate, targets):
    """Mean over positions of -log p(target): p the gate-weighted mixture of the heads with a gate,
    else the mean over heads of each head's cross-entropy. logits (K, B, L, V), gate (B, L, K)."""
    K = logits.shape[0]
    picked = logits.log_softmax(-1).gather(-1, targets.expand(K, *targets.shape).unsqueeze(-1)).squeeze(-1)
    if gate is None:
        return -picked.mean()
    log_weights = gate.log_softmax(-1).permute(2, 0, 1)  # (K, B, L)
    return -torch.logsumexp(log_weights + picked, dim=0).mean()


def relative_error(ours, reference):
    ours = np.asarray(ours, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    assert ours.shape == reference.shape, f"shape {ours.shape} vs {reference.shape}"
    diff = float(np.max(np.abs(ours - reference)))
    scale = float(np.max(np.abs(reference)))
    return diff, diff / scale if scale > 0 else diff


def compare(title, pairs, tolerance):
    """Prints each tensor's max difference (llm.c style) and asserts the tolerance, naming failures."""
    rows = [(name, *relative_error(ours, ref)) for name, ours, ref in pairs]
    worst = max(rel for _, _, rel in rows)
    print(f"\n{title}: max relative difference {worst:.3e} (tolerance {tolerance:.0e})")
    for name, diff, rel in rows:
        print(f"  {name:26s} max|diff| {diff:.3e}  relative {rel:.3e}  {'OK' if rel <= tolerance else 'NOT OK'}")
    bad = [f"{name}: relative {rel:.3e}" for name, _, rel in rows if rel > tolerance]
    assert not bad, f"{title}: above {tolerance:.0e}: " + "; ".join(bad)


@pytest.mark.parametrize("loss", ["linear", "cross_entropy"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_forward_and_every_gradient_match_pytorch(tmp_path, case, dtype, loss):
    name, config, B, L = case
    seed = 1 + CASES.index(case)
    model, ref = hydra_pair(tmp_path, config, dtype, seed)
    rng = np.random.default_rng(100 + seed)
    tokens = rng.integers(0, simulacra.VOCAB, size=(B, L))
    tokens[0, 0] = simulacra.BOUNDARY

    ours = model.forward(tokens)
    theirs = ref(torch.from_numpy(tokens))
    K = config.get("personas", 1)
    assert ours.logits.shape == (K, B, L, simulacra.VOCAB) and ours.logits.dtype == np.dtype(dtype)
    assert ours.hidden.shape == (B, L, config["width"]) and ours.hidden.dtype == np.dtype(dtype)
    assert (ours.gate is None) == (theirs.gate is None)
    if ours.gate is not None:
        assert ours.gate.shape == (B, L, K) and ours.gate.dtype == np.dtype(dtype)

    if loss == "linear":
        R = torch.from_numpy(rng.normal(size=(K, B, L, simulacra.VOCAB)).astype(dtype))
        S = torch.from_numpy(rng.normal(size=(B, L, K)).astype(dtype))
        value = (theirs.logits * R).sum() + ((theirs.gate * S).sum() if theirs.gate is not None else 0.0)
    else:
        targets = torch.from_numpy(rng.integers(0, simulacra.VOCAB, size=(B, L)))
        value = cross_entropy(theirs.logits, theirs.gate, targets)
    outputs = [theirs.logits] + ([theirs.gate] if theirs.gate is not None else [])
    names = [n for n, _ in ref.named_parameters()]
    grads = torch.autograd.grad(value, outputs + list(ref.parameters()))
    dlogits, dgate = grads[0], (grads[1] if theirs.gate is not None else None)
    theirs_grads = dict(zip(names, grads[len(outputs) :]))

    our_grads = model.backward(ours, dlogits.numpy(), None if dgate is None else dgate.numpy())
    assert sorted(our_grads) == sorted(theirs_grads), "gradient names differ from the PyTorch state_dict's"
    assert [n for n, _ in model.layout] == names, "layout order differs from the PyTorch module's"

    pairs = [("logits", ours.logits, theirs.logits.detach()), ("hidden", ours.hidden, theirs.hidden.detach())]
    if ours.gate is not None:
        pairs.append(("gate", ours.gate, theirs.gate.detach()))
    for n in names:
        assert our_grads[n].dtype == np.dtype(dtype), n
        pairs.append((f"d {n}", our_grads[n], theirs_grads[n]))
    compare(f"{name} {dtype} {loss}", pairs, TOLERANCE[dtype])


@pytest.mark.parametrize("case", [CASES[1], CASES[3]], ids=[CASES[1][0], CASES[3][0]])
def test_persona_reads_documents_as_the_reference_does(tmp_path, case):
    """TransformerPersona (KV cache, sliding window past the context, batched scoring) against
    full forward passes over the same windows in PyTorch, computed in float64 from the float32 weights."""
    name, config, _, _ = case
    model, ref = hydra_pair(tmp_path, config, "float32", 7)
    ref = ref.double()
    text = b"Arr, the sea be rough tonight, matey! \xff\x00 Hoist the sails."  # longer than the context
    doc = simulacra.encode_document(text)
    worst = 0.0
    for k in range(config.get("personas", 1)):
        persona = model.persona(k)
        expected = ref.document_logprobs(doc, k).numpy()
        got = persona.token_logprobs(text)
        worst = max(worst, float(np.max(np.abs(got - expected))))
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4, err_msg=f"{name}: head {k} token_logprobs")
        windows = list(ref.windows(doc))
        for n in (0, 3, len(text)):
            got = persona.next_logprobs(text[:n])
            expected = ref.next_logprobs(windows[n], k).numpy()
            worst = max(worst, float(np.max(np.abs(got - expected))))
            np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4, err_msg=f"{name}: head {k} after {n} bytes")
    print(f"\n{name} persona float32 vs PyTorch float64: max |log p difference| {worst:.3e} (tolerance 1e-4)")
