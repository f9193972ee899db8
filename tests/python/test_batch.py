"""Batches and streams: Mixture.score_batch / attribute_batch against the one-at-a-time calls (exact
equality), Mixture.stream against generate() with the same seed, Trace.to_pandas against the trace's arrays,
Ctrl-C and the errors."""

import gc
import math
import pickle
import threading
import time

import numpy as np
import pytest

import simulacra
from ctrl_c import interrupted


@pytest.fixture(scope="module")
def documents(builtin):
    """Every document of the embedded corpus, an empty one, and one that is not UTF-8."""
    return [d.raw for d in builtin] + ["", b"\xff\xfe bytes, not UTF-8"]


# ---------------------------------------------------------------- score_batch


def test_score_batch_equals_score_of_each_document(pile, documents):
    lp = pile.score_batch(documents)
    assert lp.dtype == np.float64 and lp.shape == (len(documents),)
    assert lp.tolist() == [pile.score(t) for t in documents]


def test_score_batch_takes_the_steering_of_score(pile, documents):
    docs = documents[:6]
    for kw in [dict(clamp="pirate"), dict(exclude=["poet", "doctor"]), dict(prior_bias={"scientist": 2.0}),
               dict(product=("pirate", "poet", 1.5))]:
        assert pile.score_batch(docs, **kw).tolist() == [pile.score(t, **kw) for t in docs], kw
    with pile.ablate(remove="pirate"):
        assert pile.score_batch(docs).tolist() == [pile.score(t) for t in docs]
    assert pile.score_batch(docs, clamp="pirate").tolist() != pile.score_batch(docs).tolist()


def test_score_batch_takes_any_sequence_of_texts(pile):
    texts = ("Arr!", b"O moon", bytearray(b"The data"))
    want = [pile.score(t) for t in texts]
    assert pile.score_batch(texts).tolist() == want
    assert pile.score_batch(iter(texts)).tolist() == want
    assert pile.score_batch([]).shape == (0,)


def test_batch_errors_name_the_bad_text(pile):
    with pytest.raises(TypeError, match=r"texts\[2\]: expected str or bytes, got int"):
        pile.score_batch(["a", "b", 3])
    with pytest.raises(TypeError, match=r"texts\[1\]: expected str or bytes, got NoneType"):
        pile.attribute_batch(["a", None])
    with pytest.raises(TypeError, match="single str"):
        pile.score_batch("Arr, a text, not a list of them")
    with pytest.raises(TypeError, match="got int"):
        pile.attribute_batch(5)
    with pytest.raises(IndexError, match="nobody"):
        pile.score_batch(["a"], clamp="nobody")
    with pytest.raises(ValueError, match="beta"):
        pile.attribute_batch(["a"], beta=0.0)


# ---------------------------------------------------------------- attribute_batch


def test_attribute_batch_equals_attribute_of_each_document(pile, documents):
    pile = pickle.loads(pickle.dumps(pile))  # a copy: the session's pile stays as fitted
    pile.attribution_beta, pile.attribution_exponent = 0.4, 0.3  # each document has its own beta(n)
    for beta in [None, 1.0, 0.3]:
        post = pile.attribute_batch(documents, beta=beta)
        assert post.dtype == np.float64 and post.shape == (len(documents), len(pile))
        for i, text in enumerate(documents):
            want = pile.attribute(text, beta=beta)
            assert list(want) == pile.personas  # the columns are the pile's personas, in order
            # attribute() exponentiates with the C library's exp, as math.exp does (np.exp may differ in the last bit)
            assert [math.exp(v) for v in post[i]] == list(want.values()), (beta, i)


def test_attribute_batch_sees_the_ablation(pile, documents):
    with pile.ablate(remove="poet"):
        post = pile.attribute_batch(documents[:5])
        want = [list(pile.attribute(t).values()) for t in documents[:5]]
    assert [[math.exp(v) for v in row] for row in post] == want
    assert np.all(post[:, pile.index_of("poet")] == -math.inf)


def test_attribute_batch_is_the_exact_posterior_at_beta_one(plain):
    """Against an independent reference: log pi_k + log p_k(doc) normalised, from each persona's own score."""
    texts = ["Arr, matey!", "O moon, O silver moon", "The data suggest a hypothesis."]
    post = plain.attribute_batch(texts, beta=1.0)
    for i, text in enumerate(texts):
        joint = np.log(plain.prior) + np.array([plain.persona(k).score(text) for k in range(len(plain))])
        np.testing.assert_allclose(post[i], joint - np.logaddexp.reduce(joint), rtol=0, atol=1e-9)


# ---------------------------------------------------------------- GIL and Ctrl-C


def test_batch_releases_the_gil(pile, documents):
    """Another Python thread keeps running while a batch is read."""
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.001)

    t = threading.Thread(target=tick)
    t.start()
    try:
        begin = time.monotonic()
        pile.score_batch(documents * 30)
        end = time.monotonic()
    finally:
        stop.set()
        t.join()
    assert sum(begin < x < end for x in ticks) >= 5


@pytest.mark.parametrize("call", [
    lambda pile, texts: pile.score_batch(texts),
    lambda pile, texts: pile.attribute_batch(texts),
], ids=["score_batch", "attribute_batch"])
def test_ctrl_c_stops_a_batch(pile, documents, call):
    texts = documents * 2000  # far beyond the 0.2 s of the Ctrl-C
    start = time.monotonic()
    assert interrupted(lambda: call(pile, texts))
    assert time.monotonic() - start < 5
    assert pile.score_batch(documents[:3]).tolist() == [pile.score(t) for t in documents[:3]]


# ---------------------------------------------------------------- stream


@pytest.mark.parametrize("kw", [
    dict(seed=7),
    dict(seed=3, temperature=1.0, top_p=1.0, min_p=0.0, stop_at_boundary=False),
    dict(seed=5, mode="persona", clamp=None, exclude="poet"),
    dict(seed=1, product=("pirate", "poet", 1.0), max_tokens=40),
    dict(seed=2, temperature=0.0, max_tokens=60),
], ids=["default", "untruncated", "persona", "product", "greedy"])
def test_stream_yields_what_generate_returns(pile, kw):
    g = pile.generate("Arr, ", **kw)
    s = pile.stream("Arr, ", **kw)
    tokens = list(s)
    assert all(isinstance(t, bytes) and len(t) <= 1 for t in tokens)
    assert b"".join(tokens) == g.bytes
    assert s.tokens.tolist() == g.tokens.tolist()
    assert len(tokens) == len(g)  # one item per token, b"" for the boundary
    np.testing.assert_array_equal(s.weights, g.weights)
    assert s.done and list(s) == []


def test_stream_yields_the_boundary_as_empty_bytes(pile):
    for seed in range(40):
        g = pile.generate("", seed=seed, max_tokens=400)
        if g.tokens[-1] == simulacra.BOUNDARY:
            break
    else:
        pytest.skip("no seed drew the boundary")
    tokens = list(pile.stream("", seed=seed, max_tokens=400))
    assert tokens[-1] == b"" and len(tokens) == len(g)


def test_stream_yields_each_token_before_the_next_is_drawn(pile):
    s = pile.stream("O ", seed=4, max_tokens=30, stop_at_boundary=False)
    for i, tok in enumerate(s):
        assert len(s.tokens) == i + 1  # nothing drawn ahead
        assert s.bytes.endswith(tok)


def test_breaking_out_of_a_stream_stops_it(pile):
    s = pile.stream("Arr", seed=9, max_tokens=10_000, stop_at_boundary=False)
    for i, _ in enumerate(s):
        if i == 4:
            break
    assert len(s.tokens) == 5 and not s.done
    assert next(s) == pile.generate("Arr", seed=9, max_tokens=6, stop_at_boundary=False).bytes[5:]
    s.close()
    assert s.closed and s.done and list(s) == [] and s.tokens.shape == (0,)
    s.close()  # twice is fine
    with pile.stream("Arr", seed=9) as t:
        next(t)
    assert t.closed
    for _ in pile.stream("Arr", seed=9, max_tokens=10_000):  # dropped mid-way: freed with the last reference
        break
    gc.collect()


def test_stream_keeps_its_pile_alive(personas):
    pile = simulacra.Mixture(list(personas.values()), list(personas))
    want = pile.generate("Arr", seed=3, max_tokens=20).bytes
    s = pile.stream("Arr", seed=3, max_tokens=20)
    del pile
    gc.collect()
    assert b"".join(s) == want


def test_stream_checks_its_arguments_before_any_token(pile):
    with pytest.raises(ValueError, match="max_tokens"):
        pile.stream(max_tokens=-1)
    with pytest.raises(ValueError, match="temperature"):
        pile.stream(temperature=-1.0)
    with pytest.raises(ValueError, match="mode"):
        pile.stream(mode="chorus")
    with pytest.raises(IndexError, match="nobody"):
        pile.stream(clamp="nobody")


def test_ctrl_c_stops_a_stream(pile):
    start = time.monotonic()
    assert interrupted(lambda: list(pile.stream(max_tokens=300_000, stop_at_boundary=False)), after=0.3)
    assert time.monotonic() - start < 10


# ---------------------------------------------------------------- to_pandas


def test_to_pandas_one_row_per_token(pile):
    pd = pytest.importorskip("pandas")
    tr = pile.trace("Arr, me hearties! O moon.")
    df = tr.to_pandas()
    assert isinstance(df, pd.DataFrame) and len(df) == len(tr)
    names = pile.personas
    assert list(df.columns) == (["position", "token", "char"] + [f"weight_{n}" for n in names]
                                + [f"logprob_{n}" for n in names] + ["logprob", "entropy", "dominant"])
    assert df["position"].tolist() == list(range(len(tr)))
    assert df["token"].tolist() == tr.tokens.tolist()
    assert df["char"].tolist() == [simulacra.token_name(int(t)) for t in tr.tokens]
    for k, n in enumerate(names):
        np.testing.assert_array_equal(df[f"weight_{n}"].to_numpy(), tr.weights[:, k])
        np.testing.assert_array_equal(df[f"logprob_{n}"].to_numpy(), tr.persona_logprobs[:, k])
    np.testing.assert_array_equal(df["logprob"].to_numpy(), tr.logprobs)
    np.testing.assert_array_equal(df["entropy"].to_numpy(), tr.entropy)
    assert df["dominant"].tolist() == [names[k] for k in tr.dominant]
    assert list(df["dominant"].cat.categories) == names


def test_to_pandas_without_pandas_names_it(pile, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pandas(name, *args, **kwargs):
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError("No module named 'pandas'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pandas)
    with pytest.raises(ImportError, match="pandas"):
        pile.trace("Arr").to_pandas()
