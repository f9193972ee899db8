"""Training the transformer hydra from Python: progress, resume, heads as personas of a Mixture."""

import math

import numpy as np
import pytest

import simulacra

TINY = dict(layers=1, heads=2, width=16, context=16)


def voices():
    corpus = simulacra.Corpus.from_texts(["abab abab abab. " * 8] * 6 + ["xyzzy xyzzy! " * 8] * 6,
                                         personas=["a"] * 6 + ["b"] * 6)
    return simulacra.TransformerData.from_corpus(corpus, heldout=0.34, seed=1)


def trainer(data=None, **kw):
    settings = dict(config=simulacra.TransformerConfig(**TINY), batch=4, steps=30, warmup=5, lr=3e-3,
                    eval_every=0, eval_windows=8, threads=1)
    settings.update(kw)
    return simulacra.TransformerTrainer(data or voices(), **settings)


def test_data():
    d = simulacra.TransformerData.from_text("0123456789", heldout=0.2, name="digits")
    assert d.personas == ["digits"] and d.train_tokens == [8] and d.heldout_tokens == [2]
    assert "1 personas" in repr(d)
    v = voices()
    assert v.personas == ["a", "b"] and all(n > 16 for n in v.train_tokens)
    with pytest.raises(ValueError, match="empty"):
        simulacra.TransformerData.from_text("")
    with pytest.raises(ValueError, match="heldout"):
        simulacra.TransformerData.from_text("abc", heldout=1.5)


def test_progress_is_called_every_step_and_loss_falls():
    seen = []
    t = trainer(progress=seen.append)
    before = t.evaluate()
    assert before == pytest.approx(math.log(257), abs=0.3)
    last = t.run()
    assert [p.step for p in seen] == list(range(1, 31))
    assert all(p.steps == 30 and p.tokens_per_second > 0 and p.learning_rate > 0 for p in seen)
    assert seen[-1].eval_loss is not None and seen[0].eval_loss is None
    assert last.eval_loss < before - 1.0
    assert t.steps_done == 30 and "TransformerProgress(step=30/30" in repr(last)


@pytest.mark.parametrize("objective,posterior", [("mixture", False), ("gate", False), ("gate", True)])
def test_every_objective_trains(objective, posterior):
    t = trainer(objective=objective, gate_posterior=posterior)
    before = t.evaluate()
    assert t.run().eval_loss < before - 1.0


def test_exceptions_in_the_callback_stop_training():
    def stop(p):
        if p.step == 3:
            raise RuntimeError("enough")

    t = trainer(progress=stop)
    with pytest.raises(RuntimeError, match="enough"):
        t.run()
    assert t.steps_done == 3


def test_resume_is_bit_exact(tmp_path):
    straight = trainer(steps=10)
    straight.run()
    first = trainer(steps=10)
    for _ in range(4):
        first.update()
    first.save_checkpoint(tmp_path / "run.safetensors")
    resumed = simulacra.TransformerTrainer.resume(tmp_path / "run.safetensors", voices())
    assert resumed.steps_done == 4
    resumed.run()
    a, b = straight.model.parameters(), resumed.model.parameters()
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    with pytest.raises(OSError):
        simulacra.TransformerTrainer.resume(tmp_path / "missing.safetensors", voices())


def test_seeds_above_2_to_63_resume(tmp_path):
    seed = 2**63 + 5
    straight = trainer(steps=6, seed=seed)
    straight.run()
    first = trainer(steps=6, seed=seed)
    for _ in range(3):
        first.update()
    first.save_checkpoint(tmp_path / "run.safetensors")
    resumed = simulacra.TransformerTrainer.resume(tmp_path / "run.safetensors", voices())
    resumed.run()
    a, b = straight.model.parameters(), resumed.model.parameters()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_threads_are_capped_at_the_api_boundary(tmp_path):
    with pytest.raises(ValueError, match="threads"):
        trainer(threads=100000)
    # A checkpoint whose metadata asks for 100000 threads is refused on resume.
    st = pytest.importorskip("safetensors.numpy")
    path = tmp_path / "run.safetensors"
    trainer(steps=2).save_checkpoint(path)
    tensors = st.load_file(str(path))
    from safetensors import safe_open
    with safe_open(str(path), "np") as f:
        metadata = f.metadata()
    metadata["threads"] = "100000"
    st.save_file(tensors, str(path), metadata=metadata)
    with pytest.raises(OSError, match="threads"):
        simulacra.TransformerTrainer.resume(path, voices())


def test_heads_are_personas_of_a_mixture_with_ngrams(tmp_path):
    t = trainer(steps=60)
    t.run()
    pile = t.mixture(switching="fixed_share", alpha=0.01)
    assert pile.personas == ["a", "b"]
    post = pile.attribute("abab abab abab. abab")
    assert post["a"] > 0.9
    # A transformer head and a Kneser-Ney model side by side; trace, generation and steering work unchanged.
    kn = simulacra.NGramPersona.fit(["xyzzy xyzzy! " * 8], order=4)
    mixed = simulacra.Mixture([t.model.persona(0), kn], ["neural-a", "kn-b"], switching="fixed_share", alpha=0.01)
    tr = mixed.trace("abab abab xyzzy xyzzy")
    assert tr.weights.shape == (21, 2)
    assert tr.weights[9, 0] > 0.5 and tr.weights[-1, 1] > 0.5
    assert len(mixed.generate("ab", max_tokens=10, seed=1, clamp="neural-a").tokens) <= 10
    mixed.save(tmp_path / "mixed.safetensors")
    again = simulacra.load(tmp_path / "mixed.safetensors")
    np.testing.assert_allclose(again.trace("abab xyzzy").logprobs, mixed.trace("abab xyzzy").logprobs, rtol=1e-6)


def test_model_is_shared_with_the_trainer():
    t = trainer(steps=2)
    emb = t.model.parameters()["tok_emb"]
    before = emb.copy()
    t.run()
    assert not np.array_equal(before, emb), "the view sees training"


def test_bad_settings_raise_value_error_naming_them():
    for kw, word in [(dict(batch=0), "batch"), (dict(lr=-1.0), "lr"), (dict(beta2=1.0), "beta2"),
                     (dict(objective="adversarial"), "adversarial"), (dict(eval_windows=0), "eval_windows")]:
        with pytest.raises(ValueError, match=word):
            trainer(**kw)
    with pytest.raises(TypeError, match="progress"):
        trainer(progress=3)
