"""Discovery from Python: fit_weighted against a Dirichlet recursion written here and against
NGramPersona.fit; kmeans against scikit-learn; discover against EM on a tiny case worked in numpy,
its arrays, its mixture, choosing k, progress and errors."""

import pickle
from collections import defaultdict

import numpy as np
import pytest

import simulacra

V = simulacra.VOCAB
START = V  # the start boundary in the reference's sequences


def sequence(doc):
    return [START, *doc.encode(), simulacra.BOUNDARY]


def dirichlet_score(docs, weights, order, mu, text):
    """log p(text) under the interpolated Dirichlet recursion on weighted counts (dicts)."""
    count, context = defaultdict(float), defaultdict(float)
    for doc, w in zip(docs, weights):
        s = sequence(doc)
        for t in range(1, len(s)):
            for n in range(1, min(order, t + 1) + 1):
                g = tuple(s[t + 1 - n : t + 1])
                count[g] += w
                context[g[:-1]] += w

    def prob(h, w):
        lower = 1.0 / V if not h else prob(h[1:], w)
        return (count[h + (w,)] + mu * lower) / (context[h] + mu)

    s = sequence(text)
    return sum(np.log(prob(tuple(s[max(0, t - order + 1) : t]), s[t])) for t in range(1, len(s)))


DOCS = ["abracadabra", "cadabra", "abba", "", "barbara", "acab"]


@pytest.mark.parametrize("order", [1, 2, 3])
def test_fit_weighted_dirichlet_is_the_recursion(order):
    weights = np.array([0.5, 1.0, 0.0, 2.0, 0.25, 1.5])
    lm = simulacra.fit_weighted(DOCS, weights, order, smoothing="dirichlet", mu=1.5)
    assert lm.kind == "ngram"
    for text in DOCS + ["zebra", "ab"]:
        assert lm.score(text) == pytest.approx(dirichlet_score(DOCS, weights, order, 1.5, text), abs=1e-11)


@pytest.mark.parametrize("order", [1, 2, 4])
def test_fit_weighted_kneser_ney_at_weights_zero_one_is_fit(order):
    weights = [1, 0, 1, 1, 0, 1]
    lm = simulacra.fit_weighted(DOCS, weights, order, smoothing="expected_kneser_ney")
    ref = simulacra.NGramPersona.fit([d for d, w in zip(DOCS, weights) if w], order)
    for text in DOCS + ["zebra"]:
        assert lm.score(text) == pytest.approx(ref.score(text), abs=1e-12)


def test_fit_weighted_errors_name_the_argument():
    with pytest.raises(ValueError, match="weights"):
        simulacra.fit_weighted(DOCS, [1.0, 2.0], 2)
    with pytest.raises(ValueError, match="document 1"):
        simulacra.fit_weighted(DOCS, [1, np.nan, 1, 1, 1, 1], 2)
    with pytest.raises(ValueError, match="probabilities"):
        simulacra.fit_weighted(DOCS, [1, 2, 1, 1, 1, 1], 2, smoothing="ekn")
    with pytest.raises(ValueError, match="mu"):
        simulacra.fit_weighted(DOCS, np.ones(6), 2, mu=0.0)
    with pytest.raises(ValueError, match="smoothing"):
        simulacra.fit_weighted(DOCS, np.ones(6), 2, smoothing="laplace")


def blobs(seed=0, n=240, k=4, d=6):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=10.0, size=(k, d))
    labels = np.arange(n) % k
    return centres[labels] + rng.normal(scale=0.5, size=(n, d)), labels


def same_partition(a, b):
    pairs = set(zip(a.tolist(), b.tolist()))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


def test_kmeans_matches_scikit_learn():
    sklearn_cluster = pytest.importorskip("sklearn.cluster")
    x, labels = blobs()
    ours = simulacra.kmeans(x, 4, seed=3)
    theirs = sklearn_cluster.KMeans(4, n_init=4, random_state=0).fit(x)
    assert ours.assignments.dtype == np.int32
    assert same_partition(ours.assignments, labels)
    assert same_partition(ours.assignments, theirs.labels_)
    assert ours.objective == pytest.approx(theirs.inertia_, rel=1e-9)
    assert all(b <= a * (1 + 1e-12) for a, b in zip(ours.objective_history, ours.objective_history[1:]))
    again = simulacra.kmeans(x, 4, seed=3)
    np.testing.assert_array_equal(ours.centroids, again.centroids)


def test_kmeans_on_texts():
    docs = ["arr matey ahoy " * 4, "thou doth hath " * 4] * 6
    km = simulacra.kmeans(docs, 2)
    assert same_partition(km.assignments, np.arange(12) % 2)
    with pytest.raises(ValueError, match="k must be"):
        simulacra.kmeans(docs, 13)


def em_by_hand(n, r, tempering):
    """Order-1 Dirichlet EM (mu 1) worked in numpy: the log-likelihoods, objectives and final
    responsibilities, the E-step after iteration t tempered by tempering[t]."""
    lls, objectives = [], []
    for b in tempering:
        pi = r.mean(axis=0)
        c = r.T @ n  # (K, 3)
        total = c.sum(axis=1, keepdims=True)
        theta = (c + 1.0 / V) / (total + 1.0)
        ll = n @ np.log(theta).T  # (docs, K)
        lls.append(np.logaddexp.reduce(np.log(pi) + ll, axis=1).sum())
        # The log Dirichlet prior: the 3 seen types' mu / V log theta, the V - 3 unseen sharing mu / (total + mu).
        prior = (np.log(theta) / V).sum() + ((1.0 - 3.0 / V) * np.log(1.0 / (total + 1.0))).sum()
        objectives.append(lls[-1] + prior)
        t = np.log(pi) + b * ll
        r = np.exp(t - np.logaddexp.reduce(t, axis=1)[:, None])
    return lls, objectives, r


@pytest.mark.parametrize("docs,n,r0,annealed_wins", [
    (["ab", "bb"], [[1, 1, 1], [0, 2, 1]], [[0.9, 0.1], [0.2, 0.8]], False),
    (["aab", "b"], [[2, 1, 1], [0, 1, 1]], [[0.7, 0.3], [0.06, 0.94]], True)])
def test_discover_order_one_by_hand(docs, n, r0, annealed_wins):
    n, r0 = np.array(n, float), np.array(r0)  # n: counts of a, b, <b>
    kw = dict(order=1, mu=1.0, iterations=4, tolerance=0.0, heldout_fraction=0.0, initial_responsibilities=r0)
    found = simulacra.discover(docs, 2, **kw)
    # The default annealing over 4 // 2 = 2 iterations: 0.1, 0.1^(1/2), then 1; and the start's plain run beside it.
    annealed = em_by_hand(n, r0, [0.1, 0.1 ** 0.5, 1.0, 1.0])
    plain = em_by_hand(n, r0, [1.0] * 4)
    assert (annealed[1][-1] > plain[1][-1]) == annealed_wins  # no held-out documents: the higher final objective
    assert found.annealed == annealed_wins
    for got, want in ((found, annealed if annealed_wins else plain),
                      (simulacra.discover(docs, 2, anneal=1.0, **kw), plain)):
        np.testing.assert_allclose(got.log_likelihoods, want[0], atol=1e-12)
        np.testing.assert_allclose(got.objective, want[1], atol=1e-12)
        np.testing.assert_allclose(got.responsibilities, want[2], atol=1e-12)
    assert found.responsibilities.dtype == np.float64 and found.responsibilities.shape == (2, 2)
    assert found.assignments.dtype == np.int32


SOURCES = [["arr ", "matey ", "ahoy ", "ye ", "booty "], ["thou ", "doth ", "hath ", "thee ", "wherefore "],
           ["lol ", "omg ", "btw ", "idk ", "tbh "]]


def synthetic(n=60, words=10, seed=1):
    rng = np.random.default_rng(seed)
    docs = ["".join(rng.choice(SOURCES[i % 3], words)) for i in range(n)]
    return docs, np.arange(n) % 3


def test_discover_recovers_sources_and_gives_a_usable_mixture():
    docs, labels = synthetic()
    seen = []
    found = simulacra.discover(docs, 3, order=3, seed=2, progress=seen.append, names=["a", "b", "c"])
    assert same_partition(found.assignments, labels)
    assert found.mixture.personas == ["a", "b", "c"]
    assert seen and isinstance(seen[0], simulacra.DiscoveryProgress)
    # The objective climbs once the annealing is over: from iteration 40 // 2 + 1, whose E-step is at beta.
    assert simulacra.discovery_beta(21) == 1.0 and simulacra.discovery_beta(20) < 1.0
    after = found.objective[20:]
    assert len(after) >= 2 and all(b >= a - 1e-9 * abs(a) for a, b in zip(after, after[1:]))
    np.testing.assert_allclose(found.responsibilities.sum(axis=1), 1.0, atol=1e-12)
    # The mixture is an ordinary one: attribution reproduces the responsibilities, it pickles.
    post = found.mixture.attribute(docs[0])
    np.testing.assert_allclose([post[n] for n in "abc"], found.responsibilities[0], atol=1e-9)
    again = pickle.loads(pickle.dumps(found.mixture))
    assert again.score(docs[1]) == found.mixture.score(docs[1])
    assert len(found.heldout) == 6


def test_discover_a_range_of_k_chooses_the_best_heldout():
    docs, _ = synthetic(n=90)
    found = simulacra.discover(docs, range(1, 5), order=3, heldout_fraction=0.2)
    assert found.k_values == [1, 2, 3, 4]
    assert found.k == found.k_values[int(np.argmax(found.heldout_by_k))]
    assert found.k >= 3 and len(found.mixture) == found.k


def test_discover_progress_bar_and_numpy_k():
    docs, _ = synthetic(n=12)
    found = simulacra.discover(docs, np.int64(2), order=2, restarts=2, progress=True)  # a tqdm bar when installed
    assert found.k == 2 and "Discovery(k=2" in repr(found)


def test_discover_reads_a_corpus_and_reports_errors():
    corpus = simulacra.Corpus.from_texts(*zip(*[(d, "x") for d in synthetic(n=12)[0]]))
    found = simulacra.discover(corpus, 2, order=2, hard=True, restarts=1)
    assert set(np.unique(found.responsibilities)) <= {0.0, 1.0}
    with pytest.raises(ValueError, match="k must be"):
        simulacra.discover(["a", "b"], 5)
    with pytest.raises(ValueError, match="beta"):
        simulacra.discover(["a", "b", "c"], 2, beta=-1.0)
    for bad in (0.0, 1.5, float("nan")):
        with pytest.raises(ValueError, match="anneal"):
            simulacra.discover(["a", "b", "c"], 2, anneal=bad)
    with pytest.raises(TypeError, match="one text"):
        simulacra.discover("just one text", 2)
    with pytest.raises(ValueError, match="held-out"):
        simulacra.discover(["a", "b", "c"], [1, 2], heldout_fraction=0.0)


def _blocks(languages, blocks, size, seed):
    """A stream of `blocks` blocks of random words, block b over languages[b % len]; each byte's writer."""
    rng = np.random.default_rng(seed)
    out, truth = [], []
    for b in range(blocks):
        who = b % len(languages)
        part = b""
        while len(part) < size:
            part += bytes(rng.choice(list(languages[who].encode()), size=rng.integers(2, 7))) + b" "
        out.append(part)
        truth += [who] * len(part)
    return b"".join(out), np.array(truth)


def test_discover_segments_finds_who_wrote_each_block():
    stream, truth = _blocks(["abcde", "vwxyz", "klmno"], 12, 400, seed=1)
    found = simulacra.discover_segments(stream, 3, order=2, chunk_bytes=64)
    assert found.weights.shape == (len(stream), 3) and found.path.shape == (len(stream),)
    np.testing.assert_allclose(found.weights.sum(axis=1), 1.0, atol=1e-9)
    match = simulacra.match_personas(found.path, truth)
    assert match.accuracy >= 0.98
    assert simulacra.boundary_f1(simulacra.label_boundaries(found.path), simulacra.label_boundaries(truth),
                                 tolerance=20).f1 >= 0.9
    assert found.mixture.personas == ["mask0", "mask1", "mask2"]
    assert found.mixture.switching == "transition"
    assert max(found.log_likelihood) == pytest.approx(found.mixture.smooth(stream).log_likelihood, rel=1e-9)
    # Fixed share with switch points: chunks start after a space, and so does every switch of the path.
    found = simulacra.discover_segments(stream, 3, order=2, chunk_bytes=40, switching="fixed_share",
                                        switch_after=b" ", names=["a", "b", "c"], seed=4)
    assert all(stream[s - 1:s] == b" " for s in found.chunk_starts[1:])
    switches = np.nonzero(np.diff(found.path))[0] + 1
    assert all(stream[s - 1:s] == b" " for s in switches)
    assert found.mixture.personas == ["a", "b", "c"] and 0.0 < found.mixture.alpha < 1.0  # per switch point


def test_discover_segments_refuses_bad_input():
    with pytest.raises(ValueError, match="empty"):
        simulacra.discover_segments(b"", 2)
    with pytest.raises(ValueError, match="chunks"):
        simulacra.discover_segments(b"abc abc", 5, chunk_bytes=4)
    with pytest.raises(ValueError, match="switching"):
        simulacra.discover_segments(b"abc abc xyz xyz", 2, chunk_bytes=4, switching="sometimes")
    with pytest.raises(ValueError, match="initial_alpha"):
        simulacra.discover_segments(b"abc abc xyz xyz", 2, chunk_bytes=4, initial_alpha=1.5)


def test_describe_masks_lists_the_ngrams_that_mark_each_mask():
    texts = [b"arr matey arr", b"arr the sea arr", b"o moon o moon", b"the moon o"]
    r = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], dtype=float)
    mix = simulacra.Mixture([simulacra.NGramPersona.fit(texts[:2], 2), simulacra.NGramPersona.fit(texts[2:], 2)],
                            ["a", "b"])
    named = simulacra.describe_masks(mix, texts, r, n=3, top=50, min_count=0.0, sample_bytes=20, seed=2)
    assert [d.name for d in named] == ["a", "b"]
    counts = [defaultdict(float), defaultdict(float)]
    for t, row in zip(texts, r):
        for i in range(len(t) - 2):
            for k in range(2):
                counts[k][t[i:i + 3]] += row[k]
    total = sum(sum(c.values()) for c in counts)
    for k, d in enumerate(named):
        mine = sum(counts[k].values())
        for g in d.ngrams:
            both = counts[0][g.ngram] + counts[1][g.ngram]
            assert g.count == pytest.approx(counts[k][g.ngram])
            assert g.lift == pytest.approx(np.log(counts[k][g.ngram] / mine) - np.log(both / total), abs=1e-12)
        assert [g.lift for g in d.ngrams] == sorted((g.lift for g in d.ngrams), reverse=True)
        assert len(d.sample) <= 20
    assert named[0].ngrams[0].ngram in (b"arr", b"rr ", b" ar", b"mat", b"ate", b"tey", b"sea")
    with pytest.raises(ValueError, match="responsibilities"):
        simulacra.describe_masks(mix, texts, r[:3])
    with pytest.raises(ValueError, match="n must be"):
        simulacra.describe_masks(mix, texts, r, n=0)
    found = simulacra.discover(texts, 2, order=2, seed=0, heldout_fraction=0.0)
    assert [d.name for d in found.describe(texts, sample_bytes=0)] == ["mask0", "mask1"]


def test_discovery_beta_is_the_annealing_schedule():
    assert [simulacra.discovery_beta(t, 8, beta=0.5, anneal=0.01) for t in range(1, 9)] == pytest.approx(
        [0.5 * 0.01 ** (1 - (t - 1) / 4) for t in range(1, 5)] + [0.5] * 4, rel=1e-14)
    assert simulacra.discovery_beta(3, 20, anneal=1.0) == 1.0
    with pytest.raises(ValueError, match="iteration"):
        simulacra.discovery_beta(0)
    with pytest.raises(ValueError, match="anneal"):
        simulacra.discovery_beta(1, anneal=0.0)
