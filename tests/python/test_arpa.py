"""ARPA files (docs/arpa.md): NGramPersona.to_arpa / from_arpa, and the independent check of the whole
Kneser-Ney implementation against KenLM: the `kenlm` module (the test extra) loads the exported ARPA file
and scores held-out lines as simulacra does, to 1e-4 relative, line by line and token by token."""

import math

import numpy as np
import pytest

import simulacra

LN10 = math.log(10.0)


def words(line: bytes) -> str:
    """A document as an ARPA sentence: each byte the word of its two lowercase hex digits."""
    return " ".join(f"{b:02x}" for b in line)


def lines_of(path, limit):
    """The non-empty lines of a text file (up to `limit` bytes of them), as documents."""
    text = path.read_bytes()[:limit]
    return [line for line in text.split(b"\n") if line]


@pytest.fixture(scope="module")
def shakespeare_split(shakespeare):
    lines = lines_of(shakespeare, 300_000)
    return lines[: len(lines) * 9 // 10], lines[len(lines) * 9 // 10 :][:300]


@pytest.fixture(scope="module")
def builtin_split_lines(builtin_split):
    train, held = builtin_split
    return [d.raw for d in train], [d.raw for d in held][:100]


def test_round_trip(tmp_path, personas):
    lm = personas["pirate"]
    lm.to_arpa(tmp_path / "p.arpa")
    back = simulacra.NGramPersona.from_arpa(tmp_path / "p.arpa")
    assert back.order == lm.order
    assert back.ngrams_per_order == lm.ngrams_per_order
    for text in [b"", b"Arr, matey!", b"O silver moon\n\x00\xff"]:
        np.testing.assert_allclose(back.token_logprobs(text), lm.token_logprobs(text), rtol=1e-13)
        np.testing.assert_allclose(back.next_logprobs(text), lm.next_logprobs(text), rtol=1e-6)
    # The file is text any ARPA tool reads: the byte convention.
    text = (tmp_path / "p.arpa").read_text()
    assert text.startswith("\\data\\\nngram 1=259\n")
    assert "\t<s> 41" in text and "\t</s>\n" in text


def test_errors(tmp_path, personas):
    bad = tmp_path / "bad.arpa"
    bad.write_text("\\data\\\nngram 1=1\n\n\\1-grams:\n-1\tZZ\n\n\\end\\\n")
    with pytest.raises(simulacra.FileError, match=r"bad.arpa: line 5: word 'ZZ' is not a byte"):
        simulacra.NGramPersona.from_arpa(bad)
    with pytest.raises(simulacra.FileError, match="no such file|cannot open"):
        simulacra.NGramPersona.from_arpa(tmp_path / "missing.arpa")
    with pytest.raises(OSError):
        personas["pirate"].to_arpa(tmp_path)  # a directory


@pytest.fixture(scope="module")
def kenlm():
    return pytest.importorskip("kenlm", reason="the `kenlm` module of the test extra (pip install kenlm)")


def kenlm_model(kenlm, path, order):
    try:
        return kenlm.Model(str(path))
    except Exception as e:  # a build of the module for lower orders (KENLM_MAX_ORDER, default 6)
        if order > 6 and "order" in str(e).lower():
            pytest.skip(f"this kenlm build stops below order {order} (install it with MAX_ORDER=8): {e}")
        raise


def check_against_kenlm(kenlm, tmp_path, train, held, order):
    lm = simulacra.NGramPersona.fit(train, order)
    path = tmp_path / f"o{order}.arpa"
    lm.to_arpa(path)
    model = kenlm_model(kenlm, path, order)
    assert model.order == order
    total_ours = total_theirs = 0.0
    for line in held:
        ours = lm.token_logprobs(line) / LN10
        theirs = model.score(words(line), bos=True, eos=True)
        assert theirs == pytest.approx(ours.sum(), rel=1e-4), (order, line)
        per_token = np.array([s[0] for s in model.full_scores(words(line), bos=True, eos=True)])
        np.testing.assert_allclose(per_token, ours, rtol=1e-4, atol=1e-6, err_msg=f"order {order}: {line!r}")
        total_ours += ours.sum()
        total_theirs += theirs
    assert total_theirs == pytest.approx(total_ours, rel=1e-5)


# Order 1 is not here: KenLM's models assume at least bigrams ("This ngram implementation assumes at least a
# bigram model"); tests/arpa_test.cpp checks order 1 against the back-off reference.
@pytest.mark.parametrize("order", [2, 3, 4, 5, 6, 8])
def test_kenlm_scores_the_export_as_simulacra(kenlm, tmp_path, shakespeare_split, order):
    train, held = shakespeare_split
    check_against_kenlm(kenlm, tmp_path, train, held, order)


@pytest.mark.parametrize("order", [2, 4, 6])
def test_kenlm_on_the_embedded_corpus(kenlm, tmp_path, builtin_split_lines, order):
    train, held = builtin_split_lines
    check_against_kenlm(kenlm, tmp_path, train, held, order)
