"""simulacra.dask on a real LocalCluster (2 worker processes with nannies, loopback only): every distributed result
against the local one, bit for bit (counts equal, personas' stored model bytes and log-probabilities equal, scores,
attributions and trace summaries equal), on the embedded corpus and Shakespeare's speakers; file inputs; a worker
killed mid-job; bad documents named by partition and index; Dask's progress bar."""

import json
import os
import pickle
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
cloudpickle = pytest.importorskip("cloudpickle")

import dask.bag as db  # noqa: E402

import simulacra  # noqa: E402
import simulacra.dask as sd  # noqa: E402
from simulacra._core import DiscoveryShard  # noqa: E402

from conftest import SHAKESPEARE  # noqa: E402

# The gates below run on the workers, which cannot import this test module: ship its functions by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def pairs_of(corpus):
    return [(d.persona, d.raw) for d in corpus]


@pytest.fixture(scope="module")
def pile(builtin):
    """A pile as Mixture.fit makes one (order-4 personas interpolated with a background, fixed share), built
    by hand so that the module does not wait for the held-out fitting."""
    background = simulacra.NGramPersona.fit([d.raw for d in builtin], 4)
    personas = [
        simulacra.InterpolatedPersona(simulacra.NGramPersona.fit(builtin.texts_of(n), 4), background, 0.6)
        for n in builtin.personas
    ]
    return simulacra.Mixture(personas, builtin.personas, switching="fixed_share", alpha=1e-3)


@pytest.fixture(scope="module")
def speakers():
    """Shakespeare's six most voluble speakers, one speech per document (about 190 KB)."""
    if not SHAKESPEARE.exists():
        pytest.skip(f"{SHAKESPEARE} is missing")
    return simulacra.Corpus.from_play(SHAKESPEARE, top_speakers=6)


def assert_same_persona(distributed_persona, local, probe):
    assert pickle.dumps(distributed_persona) == pickle.dumps(local)  # the stored model, byte for byte
    assert distributed_persona.ngrams_per_order == local.ngrams_per_order
    assert distributed_persona.token_logprobs(probe).tobytes() == local.token_logprobs(probe).tobytes()


def test_count_ngrams_is_the_local_count(client, speakers, builtin):
    for corpus, order, documents in [
        (speakers, 5, pairs_of(speakers)),  # a list of pairs, cut into 4 partitions per worker
        (builtin, 3, db.from_sequence(pairs_of(builtin), npartitions=3)),  # a Bag keeps its partitions
        (builtin, 4, builtin),  # a Corpus
    ]:
        counts = sd.count_ngrams(client, documents, order)
        assert sorted(counts) == corpus.personas
        for name in corpus.personas:
            assert counts[name] == simulacra.NGramCounts(corpus.texts_of(name), order), name


def test_fit_personas_is_ngram_persona_fit_bit_for_bit(client, speakers, builtin):
    probe = SHAKESPEARE.read_text()[-2000:] + " Arr, matey! The hypothesis is falsifiable."
    # Merge trees of 2 inputs per task over 7 partitions; one merge group, and 5 (some of them empty).
    for corpus, order, npartitions, groups in [(speakers, 6, 7, 5), (builtin, 5, 3, 1)]:
        names, personas, background = sd.fit_personas(
            client, pairs_of(corpus), order, npartitions=npartitions, split_every=2, groups=groups
        )
        assert names == corpus.personas
        for name, persona in zip(names, personas):
            assert_same_persona(persona, simulacra.NGramPersona.fit(corpus.texts_of(name), order), probe)
        assert_same_persona(background, simulacra.NGramPersona.fit([d.raw for d in corpus], order), probe)
    names, personas, background = sd.fit_personas(client, builtin, 2, background=False)
    assert background is None and len(personas) == len(names) == len(builtin.personas)


def jsonl_loader(path):
    return simulacra.Corpus.from_jsonl(path)


def test_files_are_read_on_the_workers(client, builtin, speakers, tmp_path):
    # JSON Lines shards, by a glob: each file one partition; a persona's documents spread over the files.
    docs = list(builtin)
    for shard in range(3):
        with open(tmp_path / f"shard{shard}.jsonl", "w") as f:
            for d in docs[shard::3]:
                f.write(json.dumps({"persona": d.persona, "text": d.text}) + "\n")
    counts = sd.count_ngrams(client, str(tmp_path / "shard*.jsonl"), 4)
    local = simulacra.Corpus.from_jsonl(tmp_path / "shard0.jsonl")
    for shard in (1, 2):
        for d in simulacra.Corpus.from_jsonl(tmp_path / f"shard{shard}.jsonl"):
            local.add(d.raw, d.persona)
    assert sorted(counts) == local.personas
    for name in local.personas:
        assert counts[name] == simulacra.NGramCounts(local.texts_of(name), 4)
    shards = sorted(tmp_path.glob("shard*.jsonl"))
    assert sd.count_ngrams(client, shards, 4, loader=jsonl_loader) == counts  # a function, shipped by value
    assert sd.count_ngrams(client, shards, 4, loader=simulacra.Corpus.from_jsonl) == counts  # stands for "jsonl"
    # A play script (loader "auto" for any other file) and a directory of <persona>.txt files, in one list.
    (tmp_path / "dir").mkdir()
    for name in ("pirate", "poet"):
        (tmp_path / "dir" / f"{name}.txt").write_bytes(b"\n\n".join(builtin.texts_of(name)))
    counts = sd.count_ngrams(client, [SHAKESPEARE, tmp_path / "dir"], 3)
    play = simulacra.Corpus.from_play(SHAKESPEARE)
    directory = simulacra.Corpus.from_directory(tmp_path / "dir")
    assert counts["pirate"] == simulacra.NGramCounts(directory.texts_of("pirate"), 3)
    assert counts["MENENIUS"] == simulacra.NGramCounts(play.texts_of("MENENIUS"), 3)
    assert len(counts) == len(play.personas) + 2
    # An explicit loader, and errors naming the file.
    fortunes = tmp_path / "sailor"
    fortunes.write_text("Arr!\n%\nAhoy!\n")
    counts = sd.count_ngrams(client, [fortunes], 2, loader="fortunes")
    assert counts["sailor"] == simulacra.NGramCounts(simulacra.Corpus.from_fortunes(fortunes).texts_of("sailor"), 2)
    assert counts["sailor"].num_documents == 2
    (tmp_path / "bad.jsonl").write_text('{"persona": "a", "text": "x"}\n{"persona": 3}\n')
    with pytest.raises(simulacra.FileError, match=r"partition 1 \(.*bad\.jsonl\).*:2"):
        sd.count_ngrams(client, [tmp_path / "shard0.jsonl", tmp_path / "bad.jsonl"], 2)
    with pytest.raises(FileNotFoundError, match="nothing"):
        sd.count_ngrams(client, str(tmp_path / "nothing*.jsonl"), 2)
    with pytest.raises(ValueError, match="loader"):
        sd.count_ngrams(client, [fortunes], 2, loader="csv")
    with pytest.raises(TypeError, match="cannot be shipped to the workers"):
        sd.count_ngrams(client, [fortunes], 2, loader=simulacra.NGramPersona.fit)  # a pybind11 function


def test_score_attribute_and_summaries_are_the_local_batches(client, pile, builtin, speakers):
    texts = [d.raw for d in builtin][::3] + [d.text for d in list(speakers)[:40]] + [""]
    scores = sd.score(client, pile, texts, npartitions=5)
    assert scores.shape == (len(texts),) and scores.dtype == np.float64
    assert scores.compute().tobytes() == pile.score_batch(texts).tobytes()
    steered = sd.score(client, pile, texts, clamp="pirate", npartitions=3).compute()
    assert steered.tobytes() == pile.score_batch(texts, clamp="pirate").tobytes()
    posteriors = sd.attribute(client, pile, texts, npartitions=4)
    assert posteriors.shape == (len(texts), len(pile.personas))
    assert posteriors.compute().tobytes() == pile.attribute_batch(texts).tobytes()
    tempered = sd.attribute(client, pile, texts, beta=0.5).compute()
    assert tempered.tobytes() == pile.attribute_batch(texts, beta=0.5).tobytes()
    summaries = sd.trace_summary(client, pile, texts[:30], npartitions=4).compute()
    assert summaries == [pile.trace(t).summary() for t in texts[:30]]
    # A Bag of texts: chunks of unknown size, the same numbers.
    bag = db.from_sequence(texts, npartitions=3)
    assert sd.score(client, pile, bag).compute().tobytes() == pile.score_batch(texts).tobytes()
    assert sd.attribute(client, pile, bag).compute().tobytes() == pile.attribute_batch(texts).tobytes()
    assert sd.trace_summary(client, pile, bag).compute() == [pile.trace(t).summary() for t in texts]


def test_bad_documents_name_partition_and_index(client, builtin):
    good = pairs_of(builtin)[:12]
    for bad, error, what in [
        ("just a text", TypeError, "expected a \\(persona, text\\) pair, got str"),
        (("pirate", "Arr", "extra"), TypeError, "expected a \\(persona, text\\) pair, got tuple of length 3"),
        ((7, "Arr"), TypeError, "the persona must be a str or bytes, not int"),
        (("", "Arr"), ValueError, "the persona is empty"),
        (("pirate", 3.5), TypeError, "the text must be a str or bytes, not float"),
    ]:
        documents = good[:7] + [bad] + good[7:]  # 13 documents, 3 partitions of ceil(13 / 3): 0-4, 5-9, 10-12
        with pytest.raises(error, match=f"partition 1, document 2: {what}"):
            sd.count_ngrams(client, documents, 3, npartitions=3)
    tiny = simulacra.Mixture([simulacra.NGramPersona.fit(["ab"], 2)], ["a"])
    with pytest.raises(TypeError, match="partition 1, document 1: the text must be a str or bytes, not int"):
        sd.score(client, tiny, ["x", "y", 5], npartitions=2).compute()  # partitions ["x"] and ["y", 5]
    with pytest.raises(ValueError, match="order"):
        sd.count_ngrams(client, good, 0)
    with pytest.raises(ValueError, match="split_every must be an int >= 2"):
        sd.count_ngrams(client, good, 3, split_every=1)
    with pytest.raises(ValueError, match="groups must be an int >= 1"):
        sd.count_ngrams(client, good, 3, groups=0)
    with pytest.raises(ValueError, match="no documents"):
        sd.fit_personas(client, [], 3)
    with pytest.raises(TypeError, match="documents must be"):
        sd.count_ngrams(client, 42, 3)
    with pytest.raises(TypeError, match="mixture"):
        sd.score(client, "not a mixture", ["x"])


# ------------------------------------------------------------------------------------------------ a worker killed


def gate(part, directory):
    """Marks that this worker process runs a task, then waits until the test opens the gate."""
    part = list(part)
    open(os.path.join(directory, f"started-{os.getpid()}"), "w").close()
    deadline = time.monotonic() + 60
    while not os.path.exists(os.path.join(directory, "go")) and time.monotonic() < deadline:
        time.sleep(0.01)
    return part


def kill_one_mid_job(client, directory):
    """Waits until both workers run a gated task, exits one of them (its nanny starts a new one), opens the gate.
    Returns the killed worker's pid (a process of this test's own cluster)."""
    pids = client.run(os.getpid)
    pid = sorted(pids.values())[0]
    deadline = time.monotonic() + 30
    while not all(os.path.exists(os.path.join(directory, f"started-{p}")) for p in pids.values()):
        assert time.monotonic() < deadline, "the gated tasks never started"
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)  # the worker process dies mid-task; its nanny (same cluster) starts a new one
    while True:  # the dead worker does not answer (on_error="ignore") until the scheduler drops it
        alive = client.run(os.getpid, on_error="ignore").values()
        if pid not in alive and len(alive) == 2:
            break
        assert time.monotonic() < deadline + 30, "the nanny did not restart the worker"
        time.sleep(0.05)
    open(os.path.join(directory, "go"), "w").close()
    return pid


def run_with_a_kill(client, tmp_path, job):
    result = {}

    def run():
        try:
            result["value"] = job()
        except BaseException as error:  # reported to the test below
            result["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    try:
        pid = kill_one_mid_job(client, str(tmp_path))
    finally:
        open(tmp_path / "go", "w").close()
        thread.join(120)
    assert "error" not in result, result.get("error")
    assert pid not in client.run(os.getpid, on_error="ignore").values()
    return result["value"]


def test_a_worker_killed_mid_job_does_not_change_the_result(client, builtin, pile, tmp_path):
    directory = str(tmp_path)
    documents = db.from_sequence(pairs_of(builtin), npartitions=6).map_partitions(gate, directory)
    names, personas, background = run_with_a_kill(client, tmp_path, lambda: sd.fit_personas(client, documents, 4))
    probe = "Arr, matey! The hypothesis is falsifiable. O moon, soft night."
    for name, persona in zip(names, personas):
        assert_same_persona(persona, simulacra.NGramPersona.fit(builtin.texts_of(name), 4), probe)
    assert_same_persona(background, simulacra.NGramPersona.fit([d.raw for d in builtin], 4), probe)

    # Scoring: the restarted worker has no copy of the scattered mixture and fetches it from the other.
    texts = [d.raw for d in builtin][:60]
    for name in os.listdir(directory):
        os.remove(os.path.join(directory, name))
    bag = db.from_sequence(texts, npartitions=6).map_partitions(gate, directory)
    scores = run_with_a_kill(client, tmp_path, lambda: sd.score(client, pile, bag).compute())
    assert scores.tobytes() == pile.score_batch(texts).tobytes()


def test_progress_uses_dasks_progress_bar(client, builtin, capsys):
    counts = sd.count_ngrams(client, builtin, 3, progress=True)
    assert "% Completed" in capsys.readouterr().out
    assert counts["poet"] == simulacra.NGramCounts(builtin.texts_of("poet"), 3)
    texts = [d.raw for d in builtin][:20]
    pile = simulacra.Mixture([simulacra.NGramPersona.fit(builtin.texts_of("poet"), 3)], ["poet"])
    scores = sd.score(client, pile, texts, progress=True)
    assert "% Completed" in capsys.readouterr().out
    assert scores.compute().tobytes() == pile.score_batch(texts).tobytes()


def test_fit_mixture_is_mixture_fit_bit_for_bit(client, speakers, builtin):
    """The whole of Mixture.fit (order search, background weights, alpha, segmentation, calibration) with the
    counting of every cell of documents and the building of every model on the workers: the same model file
    bytes and the same report."""
    # One evidence order beside the chosen one (the default tries four): the evidence's own models built on the
    # workers too, at a fraction of the time.
    quick = dict(order_grid=[2, 4], calibration_lengths=[100, 300], alpha_grid=[1e-3, 1e-2], seed=3,
                 attribution_orders=[3])
    for documents, corpus, args in [
        (db.from_sequence(pairs_of(speakers), npartitions=5), speakers, quick),
        (pairs_of(builtin), builtin, dict(order=3, seed=1)),
        (builtin, builtin, dict(quick, background=False, heldout_fraction=0.2)),
    ]:
        here, here_report = simulacra.Mixture.fit(corpus, return_report=True, **args)
        there, there_report = sd.fit_mixture(client, documents, return_report=True, groups=3, **args)
        assert pickle.dumps(there) == pickle.dumps(here)
        assert there_report.order == here_report.order and there_report.alpha == here_report.alpha
        assert there_report.background_weights == here_report.background_weights
        assert there_report.attribution_beta == here_report.attribution_beta


def test_fit_mixture_held_out_jobs_on_threads_are_the_same(client, speakers, builtin):
    """The held-out jobs (each candidate order, each calibration fold) run side by side on the driver's threads,
    each building its models on the workers: the same model file bytes and report as the local fit, whatever
    the number of threads; and Mixture.fit's own job_map, a thread pool, gives the local result too."""
    quick = dict(order_grid=[2, 3, 4], calibration_lengths=[100, 300], alpha_grid=[1e-3, 1e-2], seed=5,
                 attribution_orders=[2], calibration_folds=4)
    here, here_report = simulacra.Mixture.fit(builtin, return_report=True, **quick)
    for threads in [1, 2, 4]:
        there, there_report = sd.fit_mixture(client, builtin, return_report=True, heldout_threads=threads, **quick)
        assert pickle.dumps(there) == pickle.dumps(here), threads
        assert there_report.order_heldout_bits == here_report.order_heldout_bits
        assert there_report.heldout_bits == here_report.heldout_bits
        assert there_report.attribution_candidate_logloss == here_report.attribution_candidate_logloss
    maps = []

    def pool(n, run):
        maps.append(n)
        with ThreadPoolExecutor(3) as executor:
            list(executor.map(run, reversed(range(n))))

    mapped = simulacra.Mixture.fit(builtin, job_map=pool, **quick)
    assert pickle.dumps(mapped) == pickle.dumps(here)
    assert maps == [3, 4]  # the orders, then the calibration folds

    def skips(n, run):
        for i in range(1, n):
            run(i)

    with pytest.raises(ValueError, match="without running job 0"):
        simulacra.Mixture.fit(builtin, job_map=skips, **quick)
    with pytest.raises(IndexError, match="job 3 of 3"):
        simulacra.Mixture.fit(builtin, job_map=lambda n, run: run(n), **quick)
    with pytest.raises(TypeError, match="job_map"):
        sd.fit_mixture(client, builtin, job_map=pool)
    with pytest.raises(ValueError, match="heldout_threads"):
        sd.fit_mixture(client, builtin, heldout_threads=0)


def test_fit_mixture_errors(client):
    with pytest.raises(TypeError, match="document 1"):
        sd.fit_mixture(client, [("a", "x"), ("b", 3)])
    with pytest.raises(TypeError, match="partition 1, document 0"):
        sd.fit_mixture(client, db.from_sequence([("a", "x"), ("b", None)], npartitions=2))
    with pytest.raises(TypeError, match="counter"):
        sd.fit_mixture(client, [("a", "x")], counter=lambda cells: [])
    with pytest.raises(ValueError, match="no documents"):
        sd.fit_mixture(client, [])


def test_fit_with_a_counter_checks_the_counts(builtin):
    cells_seen = []

    def wrong(cells):
        cells_seen.append(cells)
        return [simulacra.NGramCounts(["zz"], cells.order) for _ in range(cells.size)]

    with pytest.raises(ValueError, match="not those of its"):
        simulacra.Mixture.fit(builtin, order=3, counter=wrong)
    cells = cells_seen[0]
    assert cells.names == builtin.personas and cells.order == 3 and len(cells.cell_of) == len(builtin)
    assert sum(cells.documents) == len(builtin) and cells.size == len(builtin.personas) * cells.folds * 2


# ------------------------------------------------------------------------------------------------ discovery


def assert_same_discovery(found, local):
    """Every part of a Discovery equal, bit for bit."""
    assert found.k == local.k and found.k_values == local.k_values and found.restart == local.restart
    assert found.responsibilities.tobytes() == local.responsibilities.tobytes()
    assert found.assignments.tobytes() == local.assignments.tobytes()
    assert found.heldout.tobytes() == local.heldout.tobytes()
    for name in ["log_likelihoods", "objective", "restart_scores", "heldout_by_k"]:
        assert np.array(getattr(found, name)).tobytes() == np.array(getattr(local, name)).tobytes(), name
    assert found.heldout_log_likelihood == local.heldout_log_likelihood
    assert pickle.dumps(found.mixture) == pickle.dumps(local.mixture)  # the masks' model bytes


def test_discover_is_the_local_discover_bit_for_bit(client, builtin, speakers):
    """The E-step and the M-step's counting on the workers (blocks of 16 or 64 documents spread over 3 to 5
    shards): the same Discovery as simulacra.discover with the same seed, for Dirichlet and expected Kneser-Ney
    masks, hard EM, a range of k, a Bag of texts and a Corpus."""
    texts = [d.raw for d in builtin]
    speeches = [d.raw for d in speakers][:1500]
    cases = [
        (texts, 3, dict(order=3, restarts=2, iterations=6, seed=1, block_documents=16), dict(npartitions=5)),
        (texts, 2, dict(order=2, smoothing="expected_kneser_ney", restarts=1, iterations=4), dict(npartitions=3)),
        (speeches, 4, dict(order=4, restarts=1, iterations=5, hard=True, block_documents=64), {}),
        (speeches, [2, 3], dict(order=3, restarts=1, iterations=4, seed=3, block_documents=64), {}),
    ]
    for docs, k, args, dargs in cases:
        local = simulacra.discover(docs, k, **args)
        assert_same_discovery(sd.discover(client, docs, k, **dargs, **args), local)
    # A Bag of texts (its partitions are not the shards), and a Corpus (its labels ignored).
    args = dict(order=3, restarts=1, iterations=4, seed=2, block_documents=16)
    local = simulacra.discover(texts, 2, **args)
    assert_same_discovery(sd.discover(client, db.from_sequence(texts, npartitions=4), 2, **args), local)
    assert_same_discovery(sd.discover(client, builtin, 2, npartitions=4, **args), local)
    # The block size changes the rounding of the M-step's sums, not the sharding.
    one_block = simulacra.discover(texts, 2, **{**args, "block_documents": 1 << 20})
    np.testing.assert_allclose(one_block.responsibilities, local.responsibilities, rtol=0, atol=1e-9)


def gate_the_e_step(directory):
    """On a worker: DiscoveryShard.loglik (the E-step's task) first waits at the gate (the class of this
    process; a restarted worker runs the plain one)."""
    original = DiscoveryShard.loglik

    def loglik(shard, log_theta):
        gate([], directory)
        return original(shard, log_theta)

    DiscoveryShard.loglik = loglik
    DiscoveryShard._plain_loglik = original


def ungate_the_e_step():
    if hasattr(DiscoveryShard, "_plain_loglik"):
        DiscoveryShard.loglik = DiscoveryShard._plain_loglik
        del DiscoveryShard._plain_loglik


def test_a_worker_killed_mid_discovery_does_not_change_it(client, builtin, tmp_path):
    """One worker exits mid E-step: its shards (tasks holding their bytes) are made again on the worker its
    nanny starts, and the Discovery is the local one bit for bit."""
    texts = [d.raw for d in builtin]
    args = dict(order=3, restarts=1, iterations=4, seed=4, block_documents=16)
    local = simulacra.discover(texts, 2, **args)
    client.run(gate_the_e_step, str(tmp_path))
    try:
        found = run_with_a_kill(client, tmp_path, lambda: sd.discover(client, texts, 2, npartitions=4, **args))
    finally:
        client.run(ungate_the_e_step)
    assert_same_discovery(found, local)


def test_discover_errors_name_partition_and_index(client, builtin):
    texts = [d.raw for d in builtin]
    bad = texts[:40] + [7] + texts[40:]
    with pytest.raises(TypeError, match=r"partition 1, document 8: the text must be a str or bytes, not int"):
        sd.discover(client, bad, 2, order=2, block_documents=16, npartitions=8)
    with pytest.raises(TypeError, match=r"partition 1, document 3: the text must be a str or bytes"):
        sd.discover(client, db.from_sequence(texts[:10] + [None] + texts[10:20], npartitions=3), 2, order=2)
    with pytest.raises(TypeError, match="executor is simulacra.dask.discover's own"):
        sd.discover(client, texts, 2, executor=object())
    with pytest.raises(ValueError, match="block_documents must be an int >= 1"):
        sd.discover(client, texts, 2, block_documents=0)


def test_fit_personas_routing_the_texts_is_the_same(client, speakers, builtin, tmp_path):
    """route="text": the documents' texts go to one task per merge group, which counts each persona once."""
    for documents, corpus in [(pairs_of(speakers), speakers), (db.from_sequence(pairs_of(builtin), 3), builtin)]:
        names, personas, background = sd.fit_personas(client, documents, 4, route="text", groups=3)
        assert names == corpus.personas
        for name, persona in zip(names, personas):
            assert pickle.dumps(persona) == pickle.dumps(simulacra.NGramPersona.fit(corpus.texts_of(name), 4))
        assert pickle.dumps(background) == pickle.dumps(simulacra.NGramPersona.fit([d.raw for d in corpus], 4))
    path = tmp_path / "a.jsonl"
    path.write_text("\n".join(json.dumps({"persona": d.persona, "text": d.text}) for d in builtin) + "\n")
    names, personas, _ = sd.fit_personas(client, [str(path)], 3, background=False, route="text")
    assert [pickle.dumps(p) for p in personas] == [
        pickle.dumps(simulacra.NGramPersona.fit(builtin.texts_of(n), 3)) for n in names
    ]
    with pytest.raises(ValueError, match="route must be"):
        sd.fit_personas(client, documents, 3, route="shuffle")
