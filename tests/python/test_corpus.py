"""Corpus: building, reading, splitting and the file loaders."""

import os
import pickle
from pathlib import Path

import pytest

import simulacra


def test_builtin_has_the_six_personas(builtin):
    assert builtin.personas == ["assistant", "doctor", "pirate", "poet", "scientist", "trickster"]
    assert len(builtin) > 100
    assert builtin.bytes == sum(len(doc.raw) for doc in builtin)
    assert all(doc.persona in builtin.personas and doc.raw for doc in builtin)


def test_indexing_and_iteration_agree(builtin):
    docs = list(builtin)
    assert len(docs) == len(builtin)
    assert docs[0] == builtin[0] and docs[-1] == builtin[-1] == builtin[len(builtin) - 1]
    with pytest.raises(IndexError, match="out of range"):
        builtin[len(builtin)]
    with pytest.raises(IndexError):
        builtin[-len(builtin) - 1]


def test_from_texts_accepts_str_and_bytes():
    corpus = simulacra.Corpus.from_texts(["Arr!", b"Ahoy!", "caf\u00e9"], ["pirate", b"pirate", "poet"])
    assert corpus.personas == ["pirate", "poet"]
    assert [doc.raw for doc in corpus] == [b"Arr!", b"Ahoy!", "caf\u00e9".encode()]
    assert corpus.texts_of("pirate") == [b"Arr!", b"Ahoy!"]
    assert corpus[2].text == "caf\u00e9"
    assert simulacra.Corpus.from_texts(["a", "b"]).personas == ["default"]


def test_from_texts_rejects_bad_arguments():
    with pytest.raises(ValueError, match="2 texts but 1 personas"):
        simulacra.Corpus.from_texts(["a", "b"], ["x"])
    with pytest.raises(ValueError):
        simulacra.Corpus.from_texts(["a"], [""])
    with pytest.raises(TypeError):
        simulacra.Corpus.from_texts("not a list of texts")
    with pytest.raises(TypeError):
        simulacra.Corpus.from_texts([1, 2])


def test_add_and_texts_of():
    corpus = simulacra.Corpus()
    assert len(corpus) == 0 and corpus.personas == [] and corpus.bytes == 0
    corpus.add("Arr", "pirate")
    corpus.add(b"", "pirate")  # empty texts are allowed
    assert len(corpus) == 2 and corpus.texts_of("pirate") == [b"Arr", b""]
    with pytest.raises(ValueError):
        corpus.add("text", "")
    with pytest.raises(IndexError, match="poet"):
        corpus.texts_of("poet")


def test_invalid_utf8_is_kept_exactly():
    raw = b"caf\xe9 \xff\xfe"
    corpus = simulacra.Corpus.from_texts([raw], ["latin1"])
    assert corpus[0].raw == raw
    assert corpus[0].text == raw.decode("utf-8", errors="replace")
    assert corpus.texts_of("latin1") == [raw]


def test_split_is_stratified_seeded_and_complete(builtin):
    train, heldout = builtin.split(0.2, seed=1)
    assert len(train) + len(heldout) == len(builtin)
    assert train.personas == heldout.personas == builtin.personas
    for name in builtin.personas:
        n = len(builtin.texts_of(name))
        assert len(heldout.texts_of(name)) == round(0.2 * n)
        assert sorted(train.texts_of(name) + heldout.texts_of(name)) == sorted(builtin.texts_of(name))
    again = builtin.split(0.2, seed=1)
    assert list(again[1]) == list(heldout)
    assert list(builtin.split(0.2, seed=2)[1]) != list(heldout)


def test_split_keeps_a_training_document_per_persona():
    corpus = simulacra.Corpus.from_texts(["a", "b", "c"], ["x", "y", "y"])
    train, heldout = corpus.split(0.9, seed=0)
    assert train.personas == ["x", "y"] and len(heldout) == 1


@pytest.mark.parametrize("fraction", [float("nan"), 1.0, -0.1])
def test_split_rejects_bad_fractions(builtin, fraction):
    with pytest.raises(ValueError):
        builtin.split(fraction)


def test_split_tail_holds_out_the_end_of_each_persona():
    corpus = simulacra.Corpus.from_texts([b"a1", b"a22", b"b1", b"a333", b"b22", b"a4444", b"b333"],
                                         ["a", "a", "b", "a", "b", "a", "b"])
    train, heldout = corpus.split_tail(0.4)
    # a: 2 + 3 + 4 + 5 = 14 bytes, 40% = 5.6: the last two (5 < 5.6 <= 5 + 4); b: 9 bytes, 3.6: the last one
    assert [(d.raw, d.persona) for d in heldout] == [(b"a333", "a"), (b"a4444", "a"), (b"b333", "b")]
    assert [d.raw for d in train] == [b"a1", b"a22", b"b1", b"b22"]
    assert len(corpus.split_tail(0.99)[0]) == 2  # each persona keeps its first document
    for bad in (float("nan"), 1.0, -0.1):
        with pytest.raises(ValueError, match="split_tail"):
            corpus.split_tail(bad)


def test_from_directory(tmp_path):
    (tmp_path / "pirate.txt").write_text("Arr, matey.\nYo ho.\n\n  \nAhoy!\n")
    (tmp_path / "poet").mkdir()
    (tmp_path / "poet" / "b.txt").write_bytes(b"Second poem\n\nstill second")
    (tmp_path / "poet" / "a.txt").write_bytes(b"First poem")
    (tmp_path / ".hidden.txt").write_text("never read")
    corpus = simulacra.Corpus.from_directory(tmp_path)  # a PathLike
    assert corpus.personas == ["pirate", "poet"]
    assert corpus.texts_of("pirate") == [b"Arr, matey.\nYo ho.", b"Ahoy!"]
    assert corpus.texts_of("poet") == [b"First poem", b"Second poem\n\nstill second"]
    assert len(simulacra.Corpus.from_directory(str(tmp_path))) == 4


def test_from_jsonl(tmp_path):
    path = tmp_path / "docs.jsonl"
    path.write_text('{"text": "Arr", "persona": "pirate", "id": 1}\n\n{"persona": "poet", "text": "O moon"}\n')
    corpus = simulacra.Corpus.from_jsonl(path)
    assert [(d.persona, d.text) for d in corpus] == [("pirate", "Arr"), ("poet", "O moon")]
    path.write_text('{"text": "Arr", "persona": "pirate"}\n{"text": 3}\n')
    with pytest.raises(OSError, match=r"docs\.jsonl:2"):
        simulacra.Corpus.from_jsonl(path)


def test_from_play(tmp_path):
    path = tmp_path / "play.txt"
    path.write_text(
        "First Citizen:\nBefore we proceed any further, hear me speak.\n\n"
        "All:\nSpeak, speak.\n\n"
        "First Citizen:\nYou are all resolved rather to die than to famish?\n\n"
        "a block without a speaker line\n"
    )
    corpus = simulacra.Corpus.from_play(path)
    assert corpus.personas == ["All", "First Citizen"]
    assert corpus.texts_of("First Citizen")[0] == b"Before we proceed any further, hear me speak."
    top = simulacra.Corpus.from_play(path, top_speakers=1)
    assert top.personas == ["First Citizen"]
    grouped = simulacra.Corpus.from_play(path, groups={"All": "crowd"})
    assert grouped.personas == ["crowd"] and len(grouped) == 1


def test_from_play_on_tiny_shakespeare(shakespeare):
    corpus = simulacra.Corpus.from_play(shakespeare, top_speakers=3)
    assert len(corpus.personas) == 3
    assert "GLOUCESTER" in corpus.personas


def test_from_fortunes(tmp_path):
    (tmp_path / "riddles").write_text("What has keys?\n-- A piano\n%\n\n%\nWhat runs?\n%\n")
    (tmp_path / "riddles.dat").write_bytes(b"\x00\x01")
    (tmp_path / "jokes").write_text("Knock knock.\n")
    single = simulacra.Corpus.from_fortunes(tmp_path / "riddles")
    assert single.texts_of("riddles") == [b"What has keys?\n-- A piano", b"What runs?"]
    listed = simulacra.Corpus.from_fortunes([tmp_path / "jokes", str(tmp_path / "riddles")])
    assert listed.personas == ["jokes", "riddles"] and len(listed) == 3
    assert simulacra.Corpus.from_fortunes(tmp_path).personas == ["jokes", "riddles"]


@pytest.mark.parametrize("loader", ["from_directory", "from_jsonl", "from_play", "from_fortunes"])
def test_missing_files_raise_oserror_naming_the_path(tmp_path, loader):
    missing = tmp_path / "nowhere"
    with pytest.raises(OSError, match="nowhere") as info:
        getattr(simulacra.Corpus, loader)(missing)
    assert isinstance(info.value, simulacra.FileError)


def test_paths_must_be_paths():
    with pytest.raises(TypeError):
        simulacra.Corpus.from_jsonl(42)


def test_pickle_round_trip(builtin):
    again = pickle.loads(pickle.dumps(builtin))
    assert list(again) == list(builtin)
    assert len(pickle.loads(pickle.dumps(simulacra.Corpus()))) == 0


def test_repr_mentions_size(builtin):
    assert f"documents={len(builtin)}" in repr(builtin)
    assert "persona='assistant'" in repr(builtin[0])


def test_fspath_objects(tmp_path):
    class Custom(os.PathLike):
        def __fspath__(self):
            return str(tmp_path / "docs.jsonl")

    Path(Custom().__fspath__()).write_text('{"text": "x", "persona": "p"}\n')
    assert len(simulacra.Corpus.from_jsonl(Custom())) == 1
