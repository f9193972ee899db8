"""Mixture.fit with a shared background, order='auto' and a calibrated attribute() (issue 9, points 1-3)."""
import math
import pickle

import pytest

import simulacra


def corpus():
    texts = ["arr matey, the sea be rough", "o gentle moon, thy silver light", "the mitochondria is the powerhouse",
             "ahoy, hoist the mainsail", "my heart doth sing of spring", "we measured the reaction rate",
             "walk the plank, ye scurvy dog", "the rose, the thorn, the dew", "the hypothesis was falsified",
             "shiver me timbers, arr", "soft winds whisper through the pines", "entropy always increases overall"]
    return simulacra.Corpus.from_texts(texts, ["pirate", "poet", "scientist"] * 4)


def test_fit_reports_order_weights_and_beta():
    mix, rep = simulacra.Mixture.fit(corpus(), order_grid=[1, 2, 3], heldout_fraction=0.25,
                                     calibration_lengths=[10, 20], return_report=True,
                                     attribution_orders=[])  # the evidence at the masks' order
    assert rep.orders == [1, 2, 3]
    assert rep.order == rep.orders[min(range(3), key=lambda i: rep.order_heldout_bits[i])]
    assert len(rep.background_weights) == 3 and all(0.0 <= w <= 1.0 for w in rep.background_weights)
    assert mix.attribution_beta == rep.attribution_beta > 0.0
    assert rep.calibration_lengths == [10, 20] and len(rep.ece_after_by_length) == 2
    # attribute() uses the fitted beta; beta=1.0 is the exact posterior, log pi + sum log p normalised.
    text = b"arr, the moon"
    assert mix.attribution_exponent == rep.attribution_exponent
    beta_here = rep.attribution_beta * (len(text) / 300) ** -rep.attribution_exponent
    for n, p in mix.attribute(text, beta=beta_here).items():
        assert math.isclose(mix.attribute(text)[n], p, rel_tol=1e-9)
    exact = mix.attribute(text, beta=1.0)
    assert math.isclose(sum(exact.values()), 1.0, rel_tol=1e-12)
    w = mix.attribution_own_weight  # attribute() weighs the masks reweighted to this own share (None: the masks)

    def evidence(n):
        mask = mix.persona(n)
        return mask if w is None else simulacra.InterpolatedPersona(mask.own, mask.background, w)
    logs = {n: math.log(mix.prior[i]) + evidence(n).score(text) for i, n in enumerate(mix.personas)}
    z = math.log(sum(math.exp(v) for v in logs.values()))
    for n in mix.personas:
        assert math.isclose(exact[n], math.exp(logs[n] - z), rel_tol=1e-9)


def test_pickle_keeps_background_and_beta():
    mix = simulacra.Mixture.fit(corpus(), order=2, heldout_fraction=0.25, calibration_lengths=[10])
    back = pickle.loads(pickle.dumps(mix))
    assert back.attribution_beta == mix.attribution_beta
    assert back.attribution_exponent == mix.attribution_exponent
    assert back.score(b"ahoy moon") == mix.score(b"ahoy moon")


def test_bad_arguments():
    with pytest.raises(ValueError):
        simulacra.Mixture.fit(corpus(), order="best")
    with pytest.raises(ValueError):
        simulacra.Mixture.fit(corpus(), order=0)
    with pytest.raises(TypeError):
        simulacra.Mixture.fit(corpus(), order=2.5)
    mix = simulacra.Mixture.fit(corpus(), order=2, background=False, calibrate=False)
    assert mix.attribution_beta == 1.0
    with pytest.raises(ValueError):
        mix.attribute(b"arr", beta=0.0)
    with pytest.raises(ValueError):
        mix.attribution_beta = -1.0
    with pytest.raises(ValueError):
        mix.attribution_exponent = 2.0
    mix.attribution_exponent = 0.5
    assert mix.attribution_exponent == 0.5 and mix.attribution_beta == 1.0


def test_interpolated_persona_is_the_linear_mix_of_its_two_models():
    import numpy as np
    mix = simulacra.Mixture.fit(corpus(), order=2, heldout_fraction=0.25, calibration_lengths=[10])
    mask = mix.persona("pirate")
    assert isinstance(mask, simulacra.InterpolatedPersona) and mask.kind == "interpolated"
    assert 0.0 <= mask.weight <= 1.0
    text = b"arr, the sea"
    for lam in (0.0, 0.3, 1.0):
        p = simulacra.InterpolatedPersona(mask.own, mask.background, lam)
        a, b = mask.own.token_logprobs(text), mask.background.token_logprobs(text)
        with np.errstate(divide="ignore"):
            want = np.logaddexp(np.log(lam) + a, np.log1p(-lam) + b)
        np.testing.assert_allclose(p.token_logprobs(text), want, rtol=1e-12)
        np.testing.assert_allclose(p.next_logprobs(b"arr"), np.logaddexp(
            np.log(lam) + mask.own.next_logprobs(b"arr").astype(np.float64) if lam > 0 else -np.inf,
            np.log1p(-lam) + mask.background.next_logprobs(b"arr").astype(np.float64) if lam < 1 else -np.inf),
            rtol=1e-6)
    # The fitted weight maximises the held-out log-likelihood: no grid point beats it.
    a, b = mask.own.token_logprobs(b"shiver me timbers"), mask.background.token_logprobs(b"shiver me timbers")
    lam = simulacra.fit_interpolation_weight(a, b)
    best = max(np.linspace(0, 1, 1001), key=lambda w: np.logaddexp(np.log(max(w, 1e-300)) + a,
                                                                   np.log(max(1 - w, 1e-300)) + b).sum())
    assert abs(lam - best) <= 1e-3
    with pytest.raises(ValueError, match="weight"):
        simulacra.InterpolatedPersona(mask.own, mask.background, 1.5)
    with pytest.raises(ValueError, match="null"):
        simulacra.InterpolatedPersona(mask.own, None, 0.5)
    with pytest.raises(ValueError):
        simulacra.fit_interpolation_weight([0.0, -1.0], [0.0])


def test_attribution_evidence_share_is_chosen_set_and_saved(tmp_path):
    import numpy as np
    mix, rep = simulacra.Mixture.fit(corpus(), order=2, heldout_fraction=0.25, calibration_lengths=[10, 20],
                                     return_report=True, attribution_orders=[])
    assert rep.attribution_candidates == [-1.0, 0.25, 0.5, 0.75, 1.0]
    assert rep.attribution_candidate_orders == [2] * 5 and rep.attribution_order == 2
    best = rep.attribution_candidates[int(np.argmin(rep.attribution_candidate_logloss))]
    assert rep.attribution_own_weight == best
    assert mix.attribution_own_weight == (None if best < 0 else best)
    text = b"arr, the moon"
    mix.attribution_own_weight = 1.0  # each mask's own model alone
    ref = {n: math.log(p) + 0.5 * mix.persona(n).own.score(text) for n, p in zip(mix.personas, mix.prior)}
    z = math.log(sum(math.exp(v) for v in ref.values()))
    for n, p in mix.attribute(text, beta=0.5).items():
        assert p == pytest.approx(math.exp(ref[n] - z), rel=1e-9)
    path = tmp_path / "pile.safetensors"
    mix.save(path)
    assert simulacra.load(path).attribution_own_weight == 1.0
    mix.attribution_own_weight = None  # the masks as they are
    assert mix.attribution_own_weight is None
    for n, p in mix.attribute(text, beta=0.5).items():
        assert p == pytest.approx(math.exp(math.log(mix.prior[mix.personas.index(n)]) + 0.5 * mix.persona(n).score(text)
                                           - math.log(sum(math.exp(math.log(q) + 0.5 * mix.persona(m).score(text))
                                                          for m, q in zip(mix.personas, mix.prior)))), rel=1e-9)
    with pytest.raises(ValueError, match="own_weight"):
        mix.attribution_own_weight = 1.5


def test_fit_takes_the_calibration_folds_and_the_own_weights():
    mix, rep = simulacra.Mixture.fit(corpus(), order=2, heldout_fraction=0.25, calibration_lengths=[10],
                                     calibration_folds=2, attribution_own_weights=[1.0], return_report=True)
    assert rep.attribution_candidates == [-1.0, 1.0]
    with pytest.raises(ValueError, match="calibration_folds"):
        simulacra.Mixture.fit(corpus(), order=2, calibration_folds=1)
    with pytest.raises(ValueError, match="attribution_own_weights"):
        simulacra.Mixture.fit(corpus(), order=2, attribution_own_weights=[2.0])


def test_attribution_evidence_order_is_chosen_kept_saved_and_pickled(tmp_path):
    import numpy as np
    mix, rep = simulacra.Mixture.fit(corpus(), order=3, heldout_fraction=0.25, calibration_lengths=[10, 20],
                                     attribution_orders=[1, 3], attribution_own_weights=[0.5, 1.0],
                                     return_report=True)
    assert rep.attribution_candidates == [-1.0, 0.5, 1.0, 0.5, 1.0]
    assert rep.attribution_candidate_orders == [3, 3, 3, 1, 1]
    best = int(np.argmin(rep.attribution_candidate_logloss))
    assert (rep.attribution_order, rep.attribution_own_weight) == (rep.attribution_candidate_orders[best],
                                                                  rep.attribution_candidates[best])
    assert mix.attribution_order == (None if rep.attribution_own_weight < 0 else rep.attribution_order)
    assert rep.order == 3
    text = b"arr, the moon"
    for back in (pickle.loads(pickle.dumps(mix)), simulacra.load(mix.save(tmp_path / "p.safetensors") or
                                                                 tmp_path / "p.safetensors")):
        assert back.attribution_order == mix.attribution_order
        assert back.attribute(text) == mix.attribute(text)
        assert back.attribute(text, beta=1.0) == mix.attribute(text, beta=1.0)
    with pytest.raises(ValueError, match="attribution_orders"):
        simulacra.Mixture.fit(corpus(), order=2, attribution_orders=[2, 0])
