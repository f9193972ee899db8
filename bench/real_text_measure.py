"""The measurements of bench_real_text.py: the pile (simulacra.Mixture) and the scikit-learn
baselines on one prepared corpus."""

from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

import numpy as np

import simulacra
from real_text_data import Split
from real_text_metrics import (both_ends_right, one_swap_marginals, boundary_error, bits_per_byte, oracle_bits,
                               span_count)


# ---------------------------------------------------------------- fitting the pile

def fit_fixed_order(train: simulacra.Corpus, order: int, seed: int):
    """(pile, report, order): Mixture.fit at a fixed order, every other argument at its default."""
    pile, report = simulacra.Mixture.fit(train, order=order, seed=seed, return_report=True)
    return pile, report, order


def fit_defaults(train: simulacra.Corpus, seed: int):
    """(pile, report, order): Mixture.fit at its defaults (order "auto", background, calibration,
    segmentation), and the order it chose."""
    pile, report = simulacra.Mixture.fit(train, seed=seed, return_report=True)
    return pile, report, int(report.order)


def persona_index(pile: simulacra.Mixture, personas: Sequence[str]) -> np.ndarray:
    """(K_pile,) the bench's index of each of the pile's masks, -1 for a mask that is no persona
    of the corpus (a background mask)."""
    where = {p: k for k, p in enumerate(personas)}
    return np.array([where.get(name, -1) for name in pile.personas], dtype=np.int64)


# ---------------------------------------------------------------- attribution

_FITTED = object()


def attribute_probs(pile: simulacra.Mixture, segments: Sequence[Tuple[bytes, int]],
                    personas: Sequence[str], beta=_FITTED) -> np.ndarray:
    """(N, K) attribute() posteriors of the segments over the corpus's personas (renormalised
    over them if the pile holds other masks). beta: the default call, or attribute(text, beta=...)."""
    rows = np.empty((len(segments), len(personas)))
    for i, (text, _) in enumerate(segments):
        if beta is _FITTED:
            post = pile.attribute(text)
        else:
            post = pile.attribute(text, beta=beta)
        rows[i] = [post[p] for p in personas]
    return rows / rows.sum(axis=1, keepdims=True)


def fit_baselines(split: Split, chunk: int) -> Dict[str, object]:
    """The scikit-learn baselines, trained on each persona's training text cut into `chunk`-byte
    pieces (bytes read as Latin-1 characters, so every byte is one character):
    TF-IDF of char 1-4-grams + logistic regression, char 1-4-gram counts + multinomial naive
    Bayes, TF-IDF + linear SVM. {name: fitted pipeline}."""
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    texts: List[str] = []
    labels: List[int] = []
    for k, p in enumerate(split.personas):
        text = split.train_text[p]
        for i in range(0, len(text), chunk):
            texts.append(text[i : i + chunk].decode("latin-1"))
            labels.append(k)

    def tfidf():
        return TfidfVectorizer(analyzer="char", ngram_range=(1, 4), sublinear_tf=True, min_df=2)

    models = {
        "tfidf + logreg": make_pipeline(tfidf(), LogisticRegression(C=10.0, max_iter=3000)),
        "naive Bayes": make_pipeline(CountVectorizer(analyzer="char", ngram_range=(1, 4)), MultinomialNB(alpha=0.1)),
        "linear SVM": make_pipeline(tfidf(), LinearSVC(C=1.0)),
    }
    for model in models.values():
        model.fit(texts, labels)
    return models


def baseline_scores(model, segments: Sequence[Tuple[bytes, int]]) -> Tuple[np.ndarray, bool]:
    """((N, K) class probabilities, True) from a model that has them, else ((N, K) decision
    values, False): either way the argmax is the model's answer."""
    texts = [t.decode("latin-1") for t, _ in segments]
    if hasattr(model, "predict_proba"):
        return model.predict_proba(texts), True
    scores = model.decision_function(texts)
    return (np.stack([-scores, scores], axis=1) if scores.ndim == 1 else scores), False  # two classes: one column


# ---------------------------------------------------------------- which mask is speaking

def _joined(pair) -> Tuple[bytes, int]:
    part_a, _, part_b, _ = pair
    return part_a + part_b, len(part_a)


def _swaps_detected(view, pile: simulacra.Mixture, pairs, personas: Sequence[str]) -> float:
    """Share of pairs whose dominant mask under view(text) is right at the end of both parts."""
    index = persona_index(pile, personas)
    right = 0
    for pair in pairs:
        text, len_a = _joined(pair)
        right += both_ends_right(index[view(text).dominant], len_a, pair[1], pair[3])
    return right / len(pairs)


def swap_filtered(pile: simulacra.Mixture, pairs, personas: Sequence[str]) -> float:
    """Share of pairs whose filtered trace's dominant mask is right at the end of both parts."""
    return _swaps_detected(pile.trace, pile, pairs, personas)


def swap_smoothed(pile: simulacra.Mixture, pairs, personas: Sequence[str]) -> float:
    """The same with the smoothed view, Mixture.smooth(text).dominant (forward-backward)."""
    return _swaps_detected(pile.smooth, pile, pairs, personas)


def swap_smoothed_inside(pile: simulacra.Mixture, pairs, personas: Sequence[str], inside: int) -> float:
    """The smoothed view's share of pairs right `inside` bytes before the end of the first part and at
    the end of the text. At the part's very last byte the swap's position is as likely just before as
    just after it (the evidence localises it only to within some bytes), so that byte is right about
    half the time even when both parts are told apart; a few bytes inside, only the parts' identities
    and spurious switches inside a part remain."""
    index = persona_index(pile, personas)
    right = 0
    for part_a, a, part_b, b in pairs:
        dominant = index[pile.smooth(part_a + part_b).dominant]
        right += int(dominant[len(part_a) - 1 - inside] == a and dominant[len(part_a) + len(part_b) - 1] == b)
    return right / len(pairs)


def swap_one_swap_bound(pile: simulacra.Mixture, pairs, personas: Sequence[str], inside: int = 0) -> float:
    """The share of pairs the one-swap Bayes smoother (real_text_metrics.one_swap_marginals over the masks'
    per-byte log-probabilities in the pile's trace) gets right `inside` bytes before the end of the first
    part and at the end of the text: what a smoother that knows there is exactly one swap reaches with
    these masks, the bound of the smoothed view."""
    index = persona_index(pile, personas)
    right = 0
    for part_a, a, part_b, b in pairs:
        marg = one_swap_marginals(pile.trace(part_a + part_b).persona_logprobs)
        dominant = index[np.argmax(marg, axis=1)]
        right += int(dominant[len(part_a) - 1 - inside] == a and dominant[-1] == b)
    return right / len(pairs)


def swap_ceiling(pile: simulacra.Mixture, pairs, personas: Sequence[str]) -> float:
    """Share of pairs with both parts attributed right when each is attributed whole (the
    boundary known): the ceiling of swap detection."""
    right = 0
    for part_a, a, part_b, b in pairs:
        pa = attribute_probs(pile, [(part_a, a), (part_b, b)], personas)
        right += int(np.argmax(pa[0]) == a and np.argmax(pa[1]) == b)
    return right / len(pairs)


def with_alpha(pile: simulacra.Mixture, alpha: float) -> simulacra.Mixture:
    """The pile's masks, prior, beta and switch points under fixed share at another alpha (the Mixture
    constructor)."""
    return simulacra.Mixture([pile.persona(k) for k in range(len(pile))], pile.personas, prior=pile.prior,
                             switching="fixed_share", alpha=alpha, beta=pile.beta, switch_after=pile.switch_after)


def swap_best_alpha(pile: simulacra.Mixture, pairs, personas: Sequence[str],
                    grid: Sequence[float]) -> Tuple[float, float]:
    """(share, alpha): the filtered swap detection of the pile at the best fixed-share alpha of
    `grid`, picked on these pairs (an upper bound for one fixed alpha)."""
    best = (-1.0, 0.0)
    for alpha in grid:
        share = swap_filtered(with_alpha(pile, alpha), pairs, personas)
        if share > best[0]:
            best = (share, float(alpha))
    return best


def viterbi_boundaries(pile: simulacra.Mixture, pairs, personas: Sequence[str]) -> Tuple[float, float, float]:
    """(median boundary error in bytes, median number of spans, share of bytes on their true persona)
    of the Viterbi path (Mixture.attribute_spans) over the joined pairs."""
    index = persona_index(pile, personas)
    errors, spans, right = [], [], []
    for pair in pairs:
        text, len_a = _joined(pair)
        path = index[pile.attribute_spans(text).path]
        truth = np.where(np.arange(len(text)) < len_a, pair[1], pair[3])
        errors.append(boundary_error(path, len_a, pair[1], pair[3]))
        spans.append(span_count(path))
        right.append(np.mean(path == truth))
    return float(np.median(errors)), float(np.median(spans)), float(np.mean(right))


# ---------------------------------------------------------------- the best mask for each job

def stream_bits(pile: simulacra.Mixture, split: Split, order: int, stream: bytes,
                labels: np.ndarray) -> Dict[str, float]:
    """Bits/byte on the interleaved stream: the pile (its filtered trace), the pooled single model
    (one Kneser-Ney model of `order` on all the training text) and the oracle (each byte's true
    persona's own model of `order` interpolated with the pooled one, the best weight)."""
    mixture = bits_per_byte(np.asarray(pile.trace(stream).logprobs, dtype=np.float64))
    pooled_model = simulacra.NGramPersona.fit([d.raw for d in split.train], order)
    pooled = pooled_model.token_logprobs(stream)[:-1]  # the end boundary dropped
    own = np.stack([simulacra.NGramPersona.fit(split.train.texts_of(p), order).token_logprobs(stream)[:-1]
                    for p in split.personas], axis=1)
    oracle, lam = oracle_bits(own, pooled, labels)
    return {"mixture": mixture, "pooled": bits_per_byte(pooled), "oracle": oracle, "oracle_weight": lam}



def fit_switch_points(train: simulacra.Corpus, seed: int, switch_after: bytes = b"\n"):
    """Mixture.fit(switch_after=...) at its other defaults: masks may switch only after those bytes."""
    return simulacra.Mixture.fit(train, switch_after=switch_after, seed=seed)


def own_text_bits(pile: simulacra.Mixture, split: Split, order: int) -> Dict[str, Tuple[float, float, float]]:
    """{persona: (its mask in the pile, the pooled model, its own stand-alone model of `order`)} bits/byte
    on the persona's held-out stream: issue 9 asks the mask to be no worse than either."""
    pooled = simulacra.NGramPersona.fit([d.raw for d in split.train], order)
    out = {}
    for p in split.personas:
        text = split.heldout[p]
        own = simulacra.NGramPersona.fit(split.train.texts_of(p), order)
        out[p] = tuple(bits_per_byte(m.token_logprobs(text)[:-1]) for m in (pile.persona(p), pooled, own))
    return out
