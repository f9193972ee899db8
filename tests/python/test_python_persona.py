"""Any model as a mask: personas written in Python, against the C++ persona holding the same table.

The reference: an order-2 n-gram's next-token distribution depends on the previous token alone, so it is a
table T[previous, next] (previous 256: a document start), read here in float64 from the n-gram's own
token_logprobs. A pile whose first mask is that n-gram and the same pile whose first mask is a Python persona
returning rows of T must agree to 1e-12 in every float64 result (to float32 rounding in the float32 arrays,
which are equal bit for bit here), draw the same tokens with a seed, and steer the same.
"""

import gc
import math
import pickle
import re
import threading

import numpy as np
import pytest

import simulacra

TEXT = "Arr, matey! O moon, thou art fair.\nThe data suggest arr."
TEXTS = ["Arr, me hearties!", "O moon, O stars", "The hypothesis was tested.", "Shiver me timbers, matey"]
START = simulacra.BOUNDARY


def table_of(lm):
    """T[prev, next] = log p(next | prev) of an order-2 n-gram, float64, prev = 256 at a document start."""
    t = np.empty((257, 257))
    t[START, START] = lm.token_logprobs(b"")[0]
    for a in range(256):
        one = lm.token_logprobs(bytes([a]))  # log p(a | start), log p(<b> | a)
        t[START, a], t[a, START] = one[0], one[1]
        for b in range(256):
            t[a, b] = lm.token_logprobs(bytes([a, b]))[1]
    return t


class TablePersona(simulacra.Persona):
    """next_logprobs only: the row of the previous token."""

    def __init__(self, table):
        super().__init__()
        self.table = table
        self.calls = 0

    def next_logprobs(self, context):
        self.calls += 1
        return self.table[context[-1] if len(context) else START]


class BatchedTable(TablePersona):
    """With the whole-document path: one call per document."""

    kind = "table"

    def __init__(self, table):
        super().__init__(table)
        self.documents = 0

    def token_logprobs(self, tokens):
        self.documents += 1
        assert tokens.dtype == np.int32 and tokens.ndim == 1 and len(tokens) >= 1
        assert START not in tokens[:-1]  # one document: the boundary only at the end
        prev = np.concatenate([[START], tokens[:-1]])
        return self.table[prev, tokens]


class DuckTable:
    """Not a simulacra.Persona: the same methods are enough."""

    def __init__(self, table):
        self.table = table

    def kind(self):
        return "duck"

    def next_logprobs(self, context):
        return self.table[context[-1] if len(context) else START]

    def token_logprobs(self, tokens):
        prev = np.concatenate([[START], tokens[:-1]])
        return self.table[prev, tokens]


@pytest.fixture(scope="module")
def models(builtin):
    pirate = simulacra.NGramPersona.fit(builtin.texts_of("pirate"), order=2)
    others = [simulacra.NGramPersona.fit(builtin.texts_of(n), order=3) for n in ("poet", "scientist")]
    return pirate, others, table_of(pirate)


NAMES = ["pirate", "poet", "scientist"]


def pile_of(first, others, **kw):
    kw.setdefault("prior", [0.5, 0.3, 0.2])
    kw.setdefault("switching", "fixed_share")
    kw.setdefault("alpha", 0.02)
    return simulacra.Mixture([first, *others], NAMES, **kw)


@pytest.fixture(scope="module", params=["next_logprobs", "token_logprobs", "duck"])
def piles(request, models):
    pirate, others, table = models
    python = {"next_logprobs": TablePersona, "token_logprobs": BatchedTable, "duck": DuckTable}[request.param](table)
    return pile_of(pirate, others), pile_of(python, others)


def close(a, b, tol=1e-12):
    np.testing.assert_allclose(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64), rtol=0, atol=tol)


def test_the_table_is_the_ngram(models):
    pirate, _, table = models
    close(np.logaddexp.reduce(table, axis=1), np.zeros(257))  # every row a distribution
    lp = pirate.token_logprobs(TEXT)
    tokens = simulacra.encode_document(TEXT)
    close(lp, table[np.concatenate([[START], tokens[:-1]]), tokens])


def test_the_persona_by_itself(models):
    pirate, _, table = models
    for persona in (TablePersona(table), BatchedTable(table)):
        assert persona.score(TEXT) == pytest.approx(pirate.score(TEXT), abs=1e-12)
        # the base's token_logprobs(text) (a subclass's own token_logprobs takes tokens)
        close(simulacra.Persona.token_logprobs(persona, TEXT), pirate.token_logprobs(TEXT))
        # its own next_logprobs is the subclass's: called with tokens (the n-gram's gives float32)
        close(persona.next_logprobs(simulacra.encode("Ar")), pirate.next_logprobs("Ar"), 1e-6)
    assert TablePersona(table).kind == "python"
    assert BatchedTable(table).kind == "table"


def test_trace_and_scores(piles):
    cpp, py = piles
    a, b = cpp.trace(TEXT), py.trace(TEXT)
    assert a.total_logprob == pytest.approx(b.total_logprob, abs=1e-12)
    for name in ("weights", "log_weights", "persona_logprobs", "logprobs", "entropy"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))  # float32: equal bit for bit
    np.testing.assert_array_equal(a.dominant, b.dominant)
    assert cpp.score(TEXT) == pytest.approx(py.score(TEXT), abs=1e-12)
    assert cpp.bits_per_byte(TEXT) == pytest.approx(py.bits_per_byte(TEXT), abs=1e-12)
    # token ids with boundaries inside: several documents in one trace
    tokens = np.concatenate([simulacra.encode_document("Arr"), simulacra.encode_document("O moon")])
    assert cpp.trace(tokens).total_logprob == pytest.approx(py.trace(tokens).total_logprob, abs=1e-12)


def test_smoothing_and_spans(piles):
    cpp, py = piles
    a, b = cpp.smooth(TEXT), py.smooth(TEXT)
    close(a.weights, b.weights)
    assert a.log_likelihood == pytest.approx(b.log_likelihood, abs=1e-12)
    sa, sb = cpp.attribute_spans(TEXT), py.attribute_spans(TEXT)
    assert sa.spans == sb.spans
    np.testing.assert_array_equal(sa.path, sb.path)
    assert sa.log_joint == pytest.approx(sb.log_joint, abs=1e-12)


def test_attribute_and_batches(piles):
    cpp, py = piles
    for text in TEXTS:
        a, b = cpp.attribute(text, beta=1.0), py.attribute(text, beta=1.0)
        close(list(a.values()), list(b.values()))
    # the batch paths read documents on the OpenMP threads: the Python persona is called from them
    close(cpp.score_batch(TEXTS * 4), py.score_batch(TEXTS * 4))
    close(cpp.attribute_batch(TEXTS * 4), py.attribute_batch(TEXTS * 4))
    close(py.score_batch(TEXTS), [py.score(t) for t in TEXTS])


def test_generation_with_a_seed(piles):
    cpp, py = piles
    for kw in ({}, {"clamp": "pirate"}, {"exclude": "poet", "temperature": 0.7, "top_k": 20}):
        a = cpp.generate("Arr, ", max_tokens=60, seed=11, **kw)
        b = py.generate("Arr, ", max_tokens=60, seed=11, **kw)
        assert a.bytes == b.bytes
        np.testing.assert_array_equal(a.weights, b.weights)
    assert b"".join(py.stream("O ", max_tokens=40, seed=3)) == cpp.generate("O ", max_tokens=40, seed=3).bytes


def test_steering(piles):
    cpp, py = piles
    steer = [
        {"clamp": "pirate"},
        {"clamp": "poet"},
        {"exclude": ["pirate"]},
        {"prior_bias": {"pirate": 2.0}},
        {"product": ("pirate", "scientist", 0.5)},
        {"product": ("poet", "pirate", 1.0)},
    ]
    for kw in steer:
        assert cpp.score(TEXT, **kw) == pytest.approx(py.score(TEXT, **kw), abs=1e-12), kw
        np.testing.assert_array_equal(cpp.trace(TEXT, **kw).weights, py.trace(TEXT, **kw).weights)
    with cpp.ablate(remove="poet"), py.ablate(remove="poet"):
        assert cpp.score(TEXT) == pytest.approx(py.score(TEXT), abs=1e-12)
    with cpp.ablate(reweight={"pirate": 0.1}), py.ablate(reweight={"pirate": 0.1}):
        assert cpp.score(TEXT) == pytest.approx(py.score(TEXT), abs=1e-12)


def test_vote_and_inspection(piles):
    cpp, py = piles
    options = ["Arr", "O moon", "Data"]
    a, b = cpp.vote("Say: ", options), py.vote("Say: ", options)
    for name in ("persona_logprobs", "mixture_logprobs", "persona_choice", "mixture_choice", "plurality"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    np.testing.assert_array_equal(a.persona_answers, b.persona_answers)
    close(cpp.divergence_matrix(TEXT), py.divergence_matrix(TEXT))
    ra, rb = cpp.raw_view("Arr, m", top_k=5), py.raw_view("Arr, m", top_k=5)
    assert str(ra) == str(rb)
    ea = cpp.switch_evidence("pirate", "poet", "Arr, matey", "O moon")
    eb = py.switch_evidence("pirate", "poet", "Arr, matey", "O moon")
    np.testing.assert_array_equal(ea.weight_b, eb.weight_b)
    sa, sb = cpp.begin(), py.begin()
    for byte in b"Arr, ":
        assert sa.step(byte) == pytest.approx(sb.step(byte), abs=1e-12)
    np.testing.assert_array_equal(sa.predict().logprobs, sb.predict().logprobs)


def test_one_call_per_token(models):
    _, others, table = models
    persona = TablePersona(table)
    pile = pile_of(persona, others)
    pile.trace(TEXT)
    assert persona.calls == len(TEXT.encode()) + 0  # the trace has no end boundary: one call per byte
    persona.calls = 0
    pile.generate("Arr", max_tokens=10, seed=1, stop_at_boundary=False)
    assert persona.calls == 3 + 10  # the prompt's bytes, then next_logprobs + advance share one call
    batched = BatchedTable(table)
    pile_of(batched, others).score_batch(TEXTS)
    assert (batched.documents, batched.calls) == (len(TEXTS), 0)


def test_the_pile_keeps_the_object(models):
    _, others, table = models
    persona = TablePersona(table)
    pile = pile_of(persona, others)
    assert pile.persona("pirate") is persona
    score = pile.score(TEXT)
    del persona
    gc.collect()
    assert pile.persona(0).score(TEXT) == pytest.approx(models[0].score(TEXT), abs=1e-12)
    assert pile.score(TEXT) == score
    duck = DuckTable(table)
    assert pile_of(duck, others).persona("pirate") is duck


def test_interpolated_over_a_python_model(models):
    pirate, others, table = models
    mine = simulacra.InterpolatedPersona(TablePersona(table), others[0], 0.7)
    ref = simulacra.InterpolatedPersona(pirate, others[0], 0.7)
    gc.collect()
    assert mine.score(TEXT) == pytest.approx(ref.score(TEXT), abs=1e-12)
    assert isinstance(mine.own, TablePersona)
    assert pile_of(mine, others).score(TEXT) == pytest.approx(pile_of(ref, others).score(TEXT), abs=1e-12)


def test_threads_take_turns(piles):
    cpp, py = piles
    want = [cpp.score(t) for t in TEXTS]
    got = {}

    def work(i):
        got[i] = [py.score(t) for t in TEXTS]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    for i in range(4):
        close(got[i], want)


def test_float32_is_converted(models):
    pirate, others, table = models
    t32 = table.astype(np.float32)
    t32 -= np.logaddexp.reduce(t32.astype(np.float64), axis=1, keepdims=True).astype(np.float32)
    pile = pile_of(TablePersona(t32), others)
    rows = t32.astype(np.float64)
    tokens = simulacra.encode_document("Arr")
    prev = np.concatenate([[START], tokens[:-1]])
    assert pile.persona(0).score("Arr") == pytest.approx(float(rows[prev, tokens].sum()), abs=1e-12)


# ---------------------------------------------------------------- what is refused


class Returns(simulacra.Persona):
    def __init__(self, value):
        super().__init__()
        self.value = value

    def next_logprobs(self, context):
        return self.value(context) if callable(self.value) else self.value


class ReturnsBatched(Returns):
    def __init__(self, value, batched):
        super().__init__(value)
        self.batched = batched

    def token_logprobs(self, tokens):
        return self.batched(tokens)


UNIFORM = np.full(257, -math.log(257))


def bad(value, models, batched=None):
    _, others, _ = models
    return pile_of(Returns(value) if batched is None else ReturnsBatched(value, batched), others)


@pytest.mark.parametrize(
    "value, error, match",
    [
        (np.full(256, -math.log(256)), ValueError, r"persona 'pirate' \(Returns\): next_logprobs returned shape \(256,\), expected \(257,\)"),
        (np.full((1, 257), -math.log(257)), ValueError, r"shape \(1, 257\)"),
        (np.zeros(257, dtype=np.int64), TypeError, r"'pirate'.*dtype int64, expected floating point"),
        (None, TypeError, r"'pirate'.*returned NoneType \(dtype object\)"),
        (np.where(np.arange(257) == 65, np.nan, UNIFORM), ValueError, r"'pirate'.*NaN for token 'A'"),
        (np.where(np.arange(257) == 256, np.inf, UNIFORM), ValueError, r"'pirate'.*returned inf for token <b>"),
        (UNIFORM + 0.01, ValueError, r"'pirate'.*not a distribution.*sum to 1\.01"),
        (np.full(257, -np.inf), ValueError, r"'pirate'.*not a distribution.*sum to 0"),
    ],
)
def test_bad_distributions_are_named(models, value, error, match):
    pile = bad(lambda ctx: value, models)
    with pytest.raises(error, match=match):
        pile.generate("Arr", max_tokens=3, seed=1)


def test_a_list_is_an_array(models):
    pile = bad(lambda ctx: list(UNIFORM), models)
    assert len(pile.generate("A", max_tokens=3, seed=1, stop_at_boundary=False)) == 3


def test_the_tolerance(models):
    off = 0.9e-6  # within kPythonPersonaTolerance = 1e-6 (logsumexp)
    pile = bad(lambda ctx: UNIFORM + off, models)
    pile.generate("A", max_tokens=2, seed=1)
    with pytest.raises(ValueError, match="tolerance is 1e-06"):
        bad(lambda ctx: UNIFORM + 2e-6, models).generate("A", max_tokens=2, seed=1)


@pytest.mark.parametrize(
    "batched, error, match",
    [
        (lambda t: np.full(len(t) - 1, -1.0), ValueError, r"'pirate'.*token_logprobs returned shape \(6,\), expected \(7,\) for 7 tokens"),
        (lambda t: np.full(len(t), -1, dtype=np.int32), TypeError, r"token_logprobs returned dtype int32"),
        (lambda t: np.where(np.arange(len(t)) == 2, np.nan, -1.0), ValueError, r"NaN at position 2 \(token 'r'\)"),
        (lambda t: np.where(np.arange(len(t)) == 0, 0.5, -1.0), ValueError, r"returned 0.5 at position 0 .*at most 0"),
        (lambda t: "nope", TypeError, r"returned str \(dtype <U4\)"),
    ],
)
def test_bad_scores_are_named(models, batched, error, match):
    pile = bad(UNIFORM, models, batched)
    with pytest.raises(error, match=match):
        pile.score("Arr, m")


def test_what_is_not_a_persona(models):
    _, others, _ = models
    with pytest.raises(TypeError, match=r"personas\[0\]: expected a persona .* got object"):
        simulacra.Mixture([object(), *others], NAMES)
    with pytest.raises(ValueError, match="Mixture: persona 1 is null"):
        simulacra.Mixture([others[0], None], ["a", "b"])
    with pytest.raises(TypeError, match="personas: expected a sequence"):
        simulacra.Mixture("abc", NAMES)
    with pytest.raises(TypeError, match=r"persona 'p' \(Persona\): a Python persona needs a method next_logprobs"):
        simulacra.Mixture([simulacra.Persona()], ["p"])

    class Kind(TablePersona):
        kind = 3

    with pytest.raises(TypeError, match="kind must be a str, got int"):
        simulacra.Mixture([Kind(None)], ["p"])
    with pytest.raises(TypeError, match="own: expected a persona .* got str"):
        simulacra.InterpolatedPersona("pirate", others[0], 0.5)


class Boom(Exception):
    pass


class Raises(TablePersona):
    """Raises Boom on its `at`-th call."""

    def __init__(self, table, at):
        super().__init__(table)
        self.at = at

    def next_logprobs(self, context):
        if self.calls == self.at:
            self.calls += 1
            raise Boom(f"call {self.at}")
        return super().next_logprobs(context)


def test_an_exception_raised_mid_trace_is_itself(models):
    _, others, table = models
    persona = Raises(table, 5)
    pile = pile_of(persona, others)
    with pytest.raises(Boom, match="call 5"):
        pile.trace(TEXT)
    assert pile.score("Arr") == pytest.approx(pile_of(models[0], others).score("Arr"), abs=1e-12)  # still usable
    for call in (
        lambda p: p.generate("Arr, matey", max_tokens=20, seed=1),
        lambda p: list(p.stream("Arr, matey", max_tokens=20, seed=1)),
        lambda p: p.score_batch(TEXTS * 3),  # raised on an OpenMP thread
        lambda p: p.attribute_batch(TEXTS * 3),
        lambda p: p.smooth(TEXT),
        lambda p: p.attribute(TEXT),
    ):
        persona.calls = 0
        with pytest.raises(Boom):
            call(pile)


def test_not_savable(models, tmp_path):
    _, others, table = models
    pile = pile_of(TablePersona(table), others)
    path = tmp_path / "pile.safetensors"
    with pytest.raises(ValueError, match="persona 'pirate' of kind 'python' cannot be saved"):
        pile.save(path)
    assert not path.exists()
    with pytest.raises(ValueError, match="persona 'pirate' of kind 'python' cannot be saved"):
        pickle.dumps(pile)


# ---------------------------------------------------------------- the PyTorch example


def test_the_torch_example_runs(capsys):
    pytest.importorskip("torch")
    import runpy
    from pathlib import Path

    example = runpy.run_path(str(Path(__file__).parents[2] / "examples" / "python" / "torch_mask.py"))
    pile = example["main"](["--steps", "40", "--order", "3"])
    out = capsys.readouterr().out
    assert "the scientist is a torch mask" in out and "Trace: 81 tokens, 3 personas" in out
    assert len(re.findall(r"documents: .*\((\d+)/(\d+) right\)", out)) == 3
    mask = pile.persona("scientist")
    assert isinstance(mask, example["TorchMask"]) and mask.kind == "torch"
    # the two paths of the mask agree: token by token through a State (next_logprobs) and the batched forward
    # pass of score (token_logprobs); float32 matrix products of other shapes, hence 1e-4
    text = "The data suggest a correlation."
    state = pile.begin()
    stepped = sum(state.step(b) for b in simulacra.encode_document(text))
    assert stepped == pytest.approx(pile.score(text), abs=1e-4)
    lp = np.array([mask.next_logprobs(simulacra.encode(text[:i])) for i in range(4)])
    close(np.logaddexp.reduce(lp, axis=1), np.zeros(4), 1e-12)  # float64 log-softmax: normalised to rounding


# ---------------------------------------------------------------- the KenLM example


def test_the_kenlm_example_runs(capsys, tmp_path):
    pytest.importorskip("kenlm", reason="the `kenlm` module of the test extra (pip install kenlm)")
    import runpy
    from pathlib import Path

    example = runpy.run_path(str(Path(__file__).parents[2] / "examples" / "python" / "kenlm_mask.py"))
    pile = example["main"](["--order", "3"])
    out = capsys.readouterr().out
    assert "the pirate is a kenlm mask" in out and "Trace: 81 tokens, 3 personas" in out
    assert len(re.findall(r"documents: .*\((\d+)/(\d+) right\)", out)) == 3
    mask = pile.persona("pirate")
    assert isinstance(mask, example["KenLMMask"]) and mask.kind == "kenlm"

    # The KenLM mask against the same model in C++: a pile with KenLM reading the ARPA file and one with simulacra
    # reading it (NGramPersona.from_arpa) score, trace and attribute alike. KenLM's probing model keeps float32
    # probabilities, hence 1e-5 relative rather than 1e-12.
    corpus = simulacra.Corpus.builtin()
    train_part, held = corpus.split(0.2, seed=1)
    path = tmp_path / "pirate.arpa"
    simulacra.NGramPersona.fit(train_part.texts_of("pirate"), order=3).to_arpa(path)
    import kenlm

    ken = example["KenLMMask"](kenlm.Model(str(path)))
    own = simulacra.NGramPersona.from_arpa(path)
    others = [simulacra.NGramPersona.fit(train_part.texts_of(n), order=3) for n in ("poet", "scientist")]
    names = ["pirate", "poet", "scientist"]
    with_ken = simulacra.Mixture([ken, *others], names, switching="fixed_share", alpha=0.01)
    with_own = simulacra.Mixture([own, *others], names, switching="fixed_share", alpha=0.01)
    texts = [d.raw for d in held][:12]
    assert np.allclose(with_ken.score_batch(texts), with_own.score_batch(texts), rtol=1e-5, atol=0)
    assert np.allclose(with_ken.attribute_batch(texts), with_own.attribute_batch(texts), rtol=0, atol=1e-4)
    text = "Arr, me hearties! The results suggest a correlation."
    a, b = with_ken.trace(text), with_own.trace(text)
    assert np.allclose(a.weights, b.weights, atol=1e-5) and (a.dominant == b.dominant).all()
    # The step-by-step path (257 KenLM queries per token) and the batched one (full_scores) agree.
    state = with_ken.begin()
    stepped = sum(state.step(t) for t in simulacra.encode_document(text))
    assert stepped == pytest.approx(with_ken.score(text), rel=1e-6)
    lp = ken.next_logprobs(simulacra.encode("Arr, me"))
    assert abs(np.logaddexp.reduce(lp)) < 1e-5  # KenLM's distribution sums to 1 to float32 rounding
