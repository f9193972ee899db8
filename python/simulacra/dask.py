"""simulacra on a Dask cluster: n-gram counting, persona fitting and scoring spread over workers.

An optional extra (``pip install "simulacra[dask]"``, i.e. ``dask[distributed]``). The same code runs on a
laptop's ``LocalCluster`` and on a SLURM or Kubernetes cluster (dask-jobqueue, dask-kubernetes)::

    from dask.distributed import Client, LocalCluster
    import simulacra, simulacra.dask as sd

    client = Client(LocalCluster(n_workers=2, threads_per_worker=1))
    names, personas, background = sd.fit_personas(client, "pile/*.jsonl", order=5)
    pile = simulacra.Mixture(personas, names)
    bits = sd.score(client, pile, texts).compute()          # == pile.score_batch(texts), bit for bit

What runs where (docs/distributed.md, "Dask"):

* ``count_ngrams`` / ``fit_personas``: each partition of the documents is counted on a worker
  (``NGramCounts`` per persona, filed under one of ``groups`` merge groups by a hash of the persona's name);
  each group's partition counts are merged persona by persona by a tree of tasks (``split_every`` inputs per
  task) on the workers; ``fit_personas`` builds the ``NGramPersona``s on the workers from the merged counts (a
  task per group; the background from the merge of the groups' totals) and gathers them. One task graph per
  job. Counts and personas cross the wire pickled through their compact bytes.
* ``fit_mixture``: ``Mixture.fit`` with its fitter on the cluster: the cells of documents (persona x
  calibration fold x held-out side) counted per partition and merged on the workers, where the merged counts
  stay; every stage's personas and background built there (a task per merge group) and shipped back as persona
  bytes; the held-out fitting (scoring the candidate orders and alphas, the background weights, the
  segmentation and attribution calibration) on the driver, its independent jobs (a candidate order, a
  calibration fold) on ``heldout_threads`` threads side by side (``Mixture.fit(job_map=...)``).
* ``discover``: ``simulacra.discover`` with its E-step and the M-step's counting on the workers. The driver
  reads the documents once (a Bag is computed on the cluster and gathered), counts their n-grams, draws the
  held-out split and runs the k-means++ starts on the TF-IDF profiles (all as the local one does), and cuts the
  documents into ``npartitions`` shards of whole blocks (``DiscoveryShard``: each document's predictive
  n-grams), which become tasks on the workers once. Each EM iteration scatters the personas' (P, K) log
  probabilities of the predictive n-grams to every worker once, maps ``DiscoveryShard.loglik`` over the shards
  (the E-step's log-likelihoods), and maps ``DiscoveryShard.counts`` over them with their rows of the
  responsibilities (the fractional counts of each block of ``block_documents`` documents); the driver adds the
  block counts in block order, as the local M-step does, so the result is the local one bit for bit.
* ``score`` / ``attribute`` / ``trace_summary``: the mixture is scattered to every worker once
  (``client.scatter(mixture, broadcast=True)``), the texts are mapped in partitions through
  ``Mixture.score_batch`` / ``attribute_batch`` / ``trace(t).summary()``, and the result stays on the
  workers as a persisted dask array (or bag) until ``.compute()``.

Documents are ``(persona, text)`` pairs (persona a non-empty str or bytes, text a str or bytes), given as a
``dask.bag.Bag`` of pairs, a list of pairs, a ``simulacra.Corpus``, or files: a list of paths or a glob
string, one file per partition, read on the workers (so the paths must be visible to them) by ``loader``:

* ``"auto"`` (the default): ``*.jsonl`` with ``Corpus.from_jsonl`` (string fields ``text`` and ``persona``),
  a directory with ``Corpus.from_directory`` (``<persona>.<ext>`` files of paragraphs or ``<persona>/``
  directories of documents), any other file with ``Corpus.from_play`` (``Speaker:`` blocks);
* ``"jsonl"``, ``"directory"``, ``"play"``, ``"fortunes"``: that loader for every path;
* a callable ``path -> Corpus`` (shipped to the workers by Dask's pickling, so a function of a module the
  workers import or one cloudpickle can ship by value; ``Corpus.from_jsonl`` and the other loaders of Corpus
  stand for their names).

Every task is pure: a worker lost mid-job (killed, or restarted by its nanny) only costs the recomputation of
its tasks, and the result is the same. A bad document fails the job with an exception naming the partition
and the document's index in it.
"""

from __future__ import annotations

import glob as _glob
import math
import operator
import os
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

try:
    import cloudpickle
    import dask
    import dask.array as da
    import dask.bag as db
    import distributed
except ImportError as error:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        'simulacra.dask needs dask[distributed]: pip install "simulacra[dask]" (or "dask[distributed]")'
    ) from error

import numpy as np

from ._core import Corpus, DiscoveryShard, Mixture, NGramCounts, NGramPersona
from ._core import discover as _discover

__all__ = ["count_ngrams", "fit_personas", "fit_mixture", "score", "attribute", "trace_summary", "discover"]

_Text = Union[str, bytes]
_Pair = Tuple[_Text, _Text]
_Loader = Union[str, Callable[[str], Corpus]]
Documents = Union["db.Bag", Sequence[_Pair], Corpus, str, "os.PathLike[str]", Sequence[Union[str, "os.PathLike[str]"]]]
Texts = Union["db.Bag", Sequence[_Text]]

_LOADERS = ("auto", "jsonl", "directory", "play", "fortunes")


# ------------------------------------------------------------------------------------------------ worker side


def _where(partition: Optional[int], index: Optional[int] = None, path: Optional[str] = None) -> str:
    """'partition 3, document 7' (or 'partition 3 (path)'; 'document 7' of a list read whole), the prefix of
    every error about a document."""
    where = "" if partition is None else f"partition {partition}"
    if path is not None:
        where += f" ({path})"
    if index is not None:
        where += f", document {index}" if where else f"document {index}"
    return where


def _persona_name(persona: Any, partition: int, index: int) -> str:
    if isinstance(persona, bytes):
        try:
            persona = persona.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ValueError(f"{_where(partition, index)}: the persona is not UTF-8 ({error})") from None
    if not isinstance(persona, str):
        raise TypeError(
            f"{_where(partition, index)}: the persona must be a str or bytes, not {type(persona).__name__}"
        )
    if not persona:
        raise ValueError(f"{_where(partition, index)}: the persona is empty")
    return persona


def _group(pairs: Iterable[Any], partition: int) -> Dict[str, List[_Text]]:
    """A partition's (persona, text) pairs as persona -> texts, in order of appearance; every pair checked."""
    groups: Dict[str, List[_Text]] = {}
    for index, pair in enumerate(pairs):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TypeError(
                f"{_where(partition, index)}: expected a (persona, text) pair, got {type(pair).__name__}"
                + (f" of length {len(pair)}" if isinstance(pair, (tuple, list)) else "")
            )
        persona, text = pair
        name = _persona_name(persona, partition, index)
        if not isinstance(text, (str, bytes)):
            raise TypeError(f"{_where(partition, index)}: the text must be a str or bytes, not {type(text).__name__}")
        groups.setdefault(name, []).append(text)
    return groups


def _group_of(name: str, groups: int) -> int:
    """The merge group of a persona: a stable hash of its name (the same on every worker and every run)."""
    return zlib.crc32(name.encode("utf-8")) % groups


def _by_group(counts: Dict[str, NGramCounts], groups: int) -> List[Dict[str, NGramCounts]]:
    out: List[Dict[str, NGramCounts]] = [{} for _ in range(groups)]
    for name, c in counts.items():
        out[_group_of(name, groups)][name] = c
    return out


def _count_pairs(pairs: Iterable[Any], partition: int, order: int, groups: int) -> List[Dict[str, NGramCounts]]:
    """One partition counted: per merge group, persona -> NGramCounts of its documents in the partition."""
    counts = {name: NGramCounts(texts, order) for name, texts in _group(pairs, partition).items()}
    return _by_group(counts, groups)


def _load(path: str, loader: _Loader) -> Corpus:
    if callable(loader):
        return loader(path)
    if loader == "auto":
        if os.path.isdir(path):
            loader = "directory"
        elif path.endswith(".jsonl"):
            loader = "jsonl"
        else:
            loader = "play"
    if loader == "jsonl":
        return Corpus.from_jsonl(path)
    if loader == "directory":
        return Corpus.from_directory(path)
    if loader == "play":
        return Corpus.from_play(path)
    return Corpus.from_fortunes(path)


def _count_file(path: str, partition: int, order: int, loader: _Loader, groups: int) -> List[Dict[str, NGramCounts]]:
    """One file (one partition) read on the worker with its loader and counted, as _count_pairs."""
    try:
        corpus = _load(path, loader)
    except Exception as error:
        try:
            renamed = type(error)(f"{_where(partition, path=path)}: {error}")
        except Exception:  # an exception type that cannot be built from one message: keep it as it is
            raise error
        raise renamed from error
    texts: Dict[str, List[bytes]] = {}
    for document in corpus:
        texts.setdefault(document.persona, []).append(document.raw)
    return _by_group({name: NGramCounts(t, order) for name, t in texts.items()}, groups)


def _merge_groups(*parts: Dict[str, NGramCounts]) -> Dict[str, NGramCounts]:
    """The persona-wise sum of some partitions' counts of one group. The inputs may be read by other tasks, so
    they are never changed: a persona seen twice gets a new object, which later parts are added to in place."""
    total: Dict[str, NGramCounts] = {}
    owned = set()
    for part in parts:
        for name, c in part.items():
            if name not in total:
                total[name] = c
            elif name in owned:
                total[name] += c
            else:
                total[name] = total[name] + c
                owned.add(name)
    return total


def _group_total(counts: Dict[str, NGramCounts], order: int) -> NGramCounts:
    """All the group's personas' counts added (empty counts, the identity, for an empty group)."""
    total = NGramCounts([], order)
    for c in counts.values():
        total += c
    return total


def _merge_counts(*parts: NGramCounts) -> NGramCounts:
    total = parts[0] + parts[1]
    for part in parts[2:]:
        total += part
    return total


def _fit_group(counts: Dict[str, NGramCounts]) -> Dict[str, NGramPersona]:
    return {name: c.to_persona() for name, c in counts.items()}


def _background(counts: NGramCounts) -> Optional[NGramPersona]:
    return counts.to_persona() if counts.num_documents else None


def _check_texts(texts: Sequence[Any], partition: int) -> List[_Text]:
    texts = list(texts)
    for index, text in enumerate(texts):
        if not isinstance(text, (str, bytes)):
            raise TypeError(f"{_where(partition, index)}: the text must be a str or bytes, not {type(text).__name__}")
    return texts


def _score_partition(texts: Sequence[Any], mixture: Mixture, partition: int, steering: Dict[str, Any]) -> np.ndarray:
    return mixture.score_batch(_check_texts(texts, partition), **steering)


def _attribute_partition(texts: Sequence[Any], mixture: Mixture, partition: int, beta: Optional[float]) -> np.ndarray:
    checked = _check_texts(texts, partition)
    if not checked:
        return np.zeros((0, len(mixture.personas)), dtype=np.float64)
    return mixture.attribute_batch(checked, beta=beta)


def _summary_partition(texts: Sequence[Any], mixture: Mixture, partition: int) -> List[Dict[str, Any]]:
    return [mixture.trace(text).summary() for text in _check_texts(texts, partition)]


# ------------------------------------------------------------------------------------------------ client side


def _check_order(order: int) -> int:
    if isinstance(order, bool) or not isinstance(order, int):
        raise TypeError(f"order must be an int, not {type(order).__name__}")
    NGramCounts([], order)  # ValueError naming the order outside 1..1000, before anything is shipped
    return order


def _default_partitions(client: "distributed.Client", n: int) -> int:
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    return max(1, min(n, 4 * workers))


def _is_path(item: Any) -> bool:
    return isinstance(item, (str, os.PathLike))


def _paths(documents: Any) -> Optional[List[str]]:
    """The files of a glob string or a list of paths; None for any other input."""
    if isinstance(documents, (str, os.PathLike)):
        pattern = os.fspath(documents)
        found = sorted(_glob.glob(pattern)) if _glob.has_magic(pattern) else [pattern]
        if not found or not all(os.path.exists(p) for p in found):
            raise FileNotFoundError(f"no file matches {pattern!r}")
        return found
    if isinstance(documents, (list, tuple)) and documents and all(_is_path(d) for d in documents):
        missing = [os.fspath(d) for d in documents if not os.path.exists(d)]
        if missing:
            raise FileNotFoundError(f"no such file: {missing[0]!r}")
        return [os.fspath(d) for d in documents]
    return None


def _check_int(name: str, value: Any, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int >= {least}, not {type(value).__name__}")
    if value < least:
        raise ValueError(f"{name} must be an int >= {least}, not {value}")
    return value


def _check_loader(loader: _Loader) -> _Loader:
    """A loader name, or a callable that pickles (Corpus's own loaders become their names: pybind11 functions
    do not pickle)."""
    if callable(loader):
        for name in _LOADERS[1:]:
            if loader == getattr(Corpus, "from_" + name):
                return name
        try:
            cloudpickle.dumps(loader)
        except Exception as error:
            raise TypeError(
                f"loader {loader!r} cannot be shipped to the workers ({error}): pass a loader name or a function "
                "defined in a module the workers import"
            ) from None
        return loader
    if loader not in _LOADERS:
        raise ValueError(f"loader must be one of {', '.join(_LOADERS)} or a callable path -> Corpus, not {loader!r}")
    return loader


def _partition_counts(
    client: "distributed.Client",
    documents: Documents,
    order: int,
    loader: _Loader,
    npartitions: Optional[int],
    groups: int,
) -> List[Any]:
    """Delayed per-partition counts (per merge group: persona -> NGramCounts), one per partition."""
    loader = _check_loader(loader)
    if isinstance(documents, db.Bag):
        parts = documents.to_delayed(optimize_graph=True)
        return [dask.delayed(_count_pairs, pure=True)(part, i, order, groups) for i, part in enumerate(parts)]
    paths = _paths(documents)
    if paths is not None:
        return [dask.delayed(_count_file, pure=True)(path, i, order, loader, groups) for i, path in enumerate(paths)]
    if isinstance(documents, Corpus):
        documents = [(d.persona, d.raw) for d in documents]
    if not isinstance(documents, (list, tuple)):
        raise TypeError(
            "documents must be a dask.bag.Bag of (persona, text) pairs, a list of pairs, a simulacra.Corpus, "
            f"a glob or a list of paths, not {type(documents).__name__}"
        )
    if not documents:
        return []
    # The pairs travel in the graph (not scattered), so a lost worker's partitions can be recomputed.
    bag = db.from_sequence(documents, npartitions=npartitions or _default_partitions(client, len(documents)))
    return _partition_counts(client, bag, order, loader, None, groups)


def _tree(function: Callable[..., Any], leaves: List[Any], split_every: int) -> Any:
    """A tree of delayed `function` tasks over leaves, split_every inputs per task; its root."""
    level = leaves
    while len(level) > 1:
        level = [
            dask.delayed(function, pure=True)(*level[i : i + split_every]) if len(level) - i > 1 else level[i]
            for i in range(0, len(level), split_every)
        ]
    return level[0]


def _reduced_groups(
    client: "distributed.Client",
    documents: Documents,
    order: int,
    loader: _Loader,
    npartitions: Optional[int],
    split_every: int,
    groups: Optional[int],
) -> Tuple[List[Any], int]:
    """Delayed merged counts of each merge group (persona -> NGramCounts of all its documents), and the order."""
    _check_order(order)
    _check_int("split_every", split_every, 2)
    if groups is None:
        groups = 4 * max(1, len(client.scheduler_info().get("workers", {})))
    _check_int("groups", groups, 1)
    parts = _partition_counts(client, documents, order, loader, npartitions, groups)
    if not parts:
        return [], groups
    pick = dask.delayed(operator.getitem, pure=True)
    return [_tree(_merge_groups, [pick(part, g) for part in parts], split_every) for g in range(groups)], groups


def _computed(client: "distributed.Client", delayed: List[Any], progress: bool) -> List[Any]:
    futures = client.compute(delayed)
    if progress and futures:
        distributed.progress(futures)  # one bar for the job: the futures and every task they depend on
    return client.gather(futures)


def count_ngrams(
    client: "distributed.Client",
    documents: Documents,
    order: int,
    progress: bool = False,
    *,
    loader: _Loader = "auto",
    npartitions: Optional[int] = None,
    split_every: int = 8,
    groups: Optional[int] = None,
) -> Dict[str, NGramCounts]:
    """persona -> the NGramCounts of all its documents (names sorted), counted on the workers.

    Each partition is counted on a worker: one NGramCounts per persona present in it, filed under one of
    ``groups`` merge groups by a hash of the persona's name (default: 4 per worker). Each group's partition
    counts are merged persona by persona by a tree of tasks, ``split_every`` inputs per task, on the workers,
    and the merged counts are gathered (pickled through ``to_bytes``). The counts are exactly
    ``NGramCounts(texts_of(persona), order)``, whatever the partitioning. ``npartitions`` cuts a list of pairs
    (default: 4 per worker); a Bag keeps its partitions and a file is one partition. ``progress=True`` draws
    Dask's progress bar (``distributed.progress``) over the job.
    """
    roots, _ = _reduced_groups(client, documents, order, loader, npartitions, split_every, groups)
    merged: Dict[str, NGramCounts] = {}
    for group in _computed(client, roots, progress):
        merged.update(group)
    return dict(sorted(merged.items()))


def fit_personas(
    client: "distributed.Client",
    documents: Documents,
    order: int,
    background: bool = True,
    progress: bool = False,
    *,
    loader: _Loader = "auto",
    npartitions: Optional[int] = None,
    split_every: int = 8,
    groups: Optional[int] = None,
    route: str = "counts",
) -> Tuple[List[str], List[NGramPersona], Optional[NGramPersona]]:
    """(names, personas, background): one Kneser-Ney persona per persona name (sorted, as Corpus.personas),
    built on the workers from its merged counts (one task per merge group), bit for bit
    ``NGramPersona.fit(texts_of(name), order)``; with ``background=True`` the persona of all the documents (the
    groups' totals merged by a tree of tasks), bit for bit ``NGramPersona.fit`` of all the texts, else None.
    ValueError when there are no documents. The arguments are count_ngrams'. ``route="text"`` routes the
    documents instead of their counts: each partition's texts are split by merge group (1 byte per byte of
    text, where a partition's counts are about 6 at order 5), each group's texts are gathered by one task,
    which counts and fits each of its personas once (c-BTM style); the background then merges the groups'
    counts. The same personas, bit for bit.
    ``simulacra.Mixture(personas, names)`` makes a pile of them.
    """
    if route == "text":
        return _fit_personas_by_text(client, documents, order, background, progress, loader, npartitions, groups)
    if route != "counts":
        raise ValueError(f"route must be 'counts' or 'text', not {route!r}")
    roots, _ = _reduced_groups(client, documents, order, loader, npartitions, split_every, groups)
    jobs = [dask.delayed(_fit_group, pure=True)(root) for root in roots]
    if background and roots:
        totals = [dask.delayed(_group_total, pure=True)(root, order) for root in roots]
        jobs.append(dask.delayed(_background, pure=True)(_tree(_merge_counts, totals, split_every)))
    fitted = _computed(client, jobs, progress)
    personas: Dict[str, NGramPersona] = {}
    for group in fitted[: len(roots)]:
        personas.update(group)
    if not personas:
        raise ValueError("fit_personas: there are no documents")
    names = sorted(personas)
    return names, [personas[n] for n in names], (fitted[-1] if background else None)


def _texts_by_group(pairs: Iterable[Any], partition: int, groups: int) -> List[Dict[str, List[_Text]]]:
    out: List[Dict[str, List[_Text]]] = [{} for _ in range(groups)]
    for name, texts in _group(pairs, partition).items():
        out[_group_of(name, groups)][name] = texts
    return out


def _texts_file(path: str, partition: int, loader: _Loader, groups: int) -> List[Dict[str, List[bytes]]]:
    try:
        corpus = _load(path, loader)
    except Exception as error:
        raise type(error)(f"{_where(partition, path=path)}: {error}") from error
    out: List[Dict[str, List[bytes]]] = [{} for _ in range(groups)]
    for document in corpus:
        out[_group_of(document.persona, groups)].setdefault(document.persona, []).append(document.raw)
    return out


def _fit_text_group(order: int, background: bool, *parts: Dict[str, List[_Text]]):
    """One merge group's personas, each counted once from its texts gathered from every partition; with the
    background, also the group's total counts."""
    texts: Dict[str, List[_Text]] = {}
    for part in parts:
        for name, t in part.items():
            texts.setdefault(name, []).extend(t)
    counts = {name: NGramCounts(t, order) for name, t in texts.items()}
    personas = {name: c.to_persona() for name, c in counts.items()}
    return personas, (_group_total(counts, order) if background else None)


def _fit_personas_by_text(client, documents, order, background, progress, loader, npartitions, groups):
    _check_order(order)
    if groups is None:
        groups = 4 * max(1, len(client.scheduler_info().get("workers", {})))
    _check_int("groups", groups, 1)
    loader = _check_loader(loader)
    paths = _paths(documents)
    if paths is not None:
        parts = [dask.delayed(_texts_file, pure=True)(p, i, loader, groups) for i, p in enumerate(paths)]
    else:
        if isinstance(documents, Corpus):
            documents = [(d.persona, d.raw) for d in documents]
        if isinstance(documents, (list, tuple)):
            n = npartitions or _default_partitions(client, len(documents))
            documents = db.from_sequence(documents, npartitions=n)
        if not isinstance(documents, db.Bag):
            raise TypeError(f"documents: unsupported type {type(documents).__name__}")
        parts = [
            dask.delayed(_texts_by_group, pure=True)(p, i, groups)
            for i, p in enumerate(documents.to_delayed(optimize_graph=True))
        ]
    pick = dask.delayed(operator.getitem, pure=True)
    fits = [
        dask.delayed(_fit_text_group, pure=True)(order, background, *[pick(p, g) for p in parts]) for g in range(groups)
    ]
    jobs = [dask.delayed(operator.getitem, pure=True)(f, 0) for f in fits]
    if background:
        totals = [dask.delayed(operator.getitem, pure=True)(f, 1) for f in fits]
        jobs.append(dask.delayed(_background, pure=True)(_tree(_merge_counts, totals, 8)))
    fitted = _computed(client, jobs, progress)
    personas: Dict[str, NGramPersona] = {}
    for group in fitted[:groups]:
        personas.update(group)
    if not personas:
        raise ValueError("fit_personas: there are no documents")
    names = sorted(personas)
    return names, [personas[n] for n in names], (fitted[-1] if background else None)


def _gathered_corpus(client: "distributed.Client", documents: Documents, loader: _Loader) -> Corpus:
    """The documents in their order as one Corpus on the driver (a Bag computed on the cluster, files read here)."""
    if isinstance(documents, Corpus):
        return documents
    paths = _paths(documents)
    if paths is not None:
        loader = _check_loader(loader)
        corpus = Corpus()
        for i, path in enumerate(paths):
            try:
                part = _load(path, loader)
            except Exception as error:
                raise type(error)(f"{_where(i, path=path)}: {error}") from error
            for document in part:
                corpus.add(document.raw, document.persona)
        return corpus
    if isinstance(documents, db.Bag):
        parts = client.gather(client.compute(documents.to_delayed(optimize_graph=True)))
    elif isinstance(documents, (list, tuple)):
        parts = [documents]
    else:
        raise TypeError(
            "documents must be a dask.bag.Bag of (persona, text) pairs, a list of pairs, a simulacra.Corpus, "
            f"a glob or a list of paths, not {type(documents).__name__}"
        )
    texts: List[_Text] = []
    personas: List[str] = []
    for i, part in enumerate(parts):
        _group(part, i if isinstance(documents, db.Bag) else None)  # checks every pair, naming where it is
        for persona, text in part:
            personas.append(persona.decode("utf-8") if isinstance(persona, bytes) else persona)
            texts.append(text)
    return Corpus.from_texts(texts, personas)


def _count_cells(pairs: Sequence[Tuple[int, _Text]], order: int, groups: int, span: int) -> List[Dict[int, NGramCounts]]:
    """One partition of (cell, text) pairs counted: per merge group (a persona's cells, ``span`` of them, in one
    group), cell -> NGramCounts of its documents in the partition."""
    texts: Dict[int, List[_Text]] = {}
    for cell, text in pairs:
        texts.setdefault(cell, []).append(text)
    out: List[Dict[int, NGramCounts]] = [{} for _ in range(groups)]
    for cell, t in texts.items():
        out[cell // span % groups][cell] = NGramCounts(t, order)
    return out


def _merged_cells(counts: Dict[int, NGramCounts], cells: Sequence[int], order: int) -> NGramCounts:
    total = NGramCounts([], order)
    for c in cells:
        if c in counts:
            total += counts[c]
    return total


def _fit_cell_group(counts: Dict[int, NGramCounts], fits: List[Tuple[List[int], int, bool]], order: int):
    """The personas of a merge group's fits: each the model of its cells' merged counts (Mixture.fit's fitter)."""
    out = []
    for cells, fit_order, blank in fits:
        merged = _merged_cells(counts, cells, order)
        if merged.num_documents == 0 and blank:
            out.append(NGramCounts([""], fit_order).to_persona())
        else:
            out.append(merged.truncated(fit_order).to_persona())
    return out


def _fit_merged(counts: NGramCounts, fit_order: int) -> NGramPersona:
    return counts.truncated(fit_order).to_persona()


def fit_mixture(
    client: "distributed.Client",
    documents: Documents,
    progress: bool = False,
    *,
    loader: _Loader = "auto",
    npartitions: Optional[int] = None,
    split_every: int = 8,
    groups: Optional[int] = None,
    heldout_threads: Optional[int] = None,
    **fit_args: Any,
) -> Union[Mixture, Tuple[Mixture, Any]]:
    """``Mixture.fit`` of the documents with its counting and its model building on the workers: the same pile,
    bit for bit.

    ``Mixture.fit`` makes every model it fits (each candidate order's personas and background on the training
    side, each calibration fold's, the final ones) as the Kneser-Ney model of merged counts of cells of
    documents: one persona's documents in one calibration fold on one side of the held-out split
    (``simulacra.TrainCells``). Here (``Mixture.fit(fitter=...)``) the cells are counted on the workers once
    (each document filed under its cell, the cells of one persona in one of ``groups`` merge groups, default 4
    per worker; each group's partition counts merged by a tree of tasks, ``split_every`` inputs each) and the
    merged counts stay there; each stage's models are built on the workers (one task per merge group for its
    personas; the background from the groups' totals merged by a tree) and shipped back as persona bytes. The
    held-out fitting (scoring the candidate orders and alphas on the held-out stream, the background weights,
    the segmentation and attribution calibration) reads the held-out texts through the personas and runs on the
    driver: the documents are gathered there (a Bag is computed, files are read by ``loader`` on the driver).
    Its independent jobs (one per candidate order, one per calibration fold: ``Mixture.fit(job_map=...)``) run
    on ``heldout_threads`` threads of the driver (default: its cores; 1 runs them one after another), so one
    job's scoring overlaps another's model building on the workers; each thread holds the pile of its job. The
    segmentation fit runs once, after the orders. ``fit_args`` are ``Mixture.fit``'s (``return_report=True`` gives
    ``(Mixture, TrainReport)``); ``progress=True`` draws Dask's progress bar over the counting and each stage's
    model building.
    """
    for own in ("counter", "fitter", "job_map"):
        if own in fit_args:
            raise TypeError(f"fit_mixture: {own} is fit_mixture's own (the models are built on the cluster)")
    _check_int("split_every", split_every, 2)
    if groups is None:
        groups = 4 * max(1, len(client.scheduler_info().get("workers", {})))
    _check_int("groups", groups, 1)
    threads = _check_int("heldout_threads", heldout_threads, 1) if heldout_threads is not None else os.cpu_count() or 1
    corpus = _gathered_corpus(client, documents, loader)
    if len(corpus) == 0:
        raise ValueError("fit_mixture: there are no documents")
    state: Dict[str, Any] = {}
    lock = threading.Lock()  # the held-out jobs call the fitter from several threads

    def fitter(cells: Any, fits: List[Tuple[List[int], int, bool]]) -> List[NGramPersona]:
        with lock:
            _count_once(cells)
        return _fit_stage(cells, fits)

    def _count_once(cells: Any) -> None:
        order, span = cells.order, 2 * cells.folds
        if "groups" not in state:  # the cells counted once, their merged counts kept on the workers
            keyed = [(int(cell), document.raw) for cell, document in zip(cells.cell_of, corpus)]
            n = npartitions or _default_partitions(client, len(keyed))
            parts = db.from_sequence(keyed, npartitions=n).to_delayed(optimize_graph=True)
            counted = [dask.delayed(_count_cells, pure=True)(p, order, groups, span) for p in parts]
            pick = dask.delayed(operator.getitem, pure=True)
            roots = [_tree(_merge_groups, [pick(c, g) for c in counted], split_every) for g in range(groups)]
            state["groups"] = client.compute(roots)
            if progress:
                distributed.progress(state["groups"])

    def _fit_stage(cells: Any, fits: List[Tuple[List[int], int, bool]]) -> List[NGramPersona]:
        order = cells.order
        merged = state["groups"]
        k = len(cells.names)
        per_group: List[List[int]] = [[] for _ in range(groups)]
        for i in range(k):
            per_group[i % groups].append(i)  # persona i's cells are i*span.., in group i % groups
        jobs = [
            client.submit(_fit_cell_group, merged[g], [fits[i] for i in per_group[g]], order, pure=False)
            for g in range(groups)
            if per_group[g]
        ]
        futures = list(jobs)
        if len(fits) > k:  # the background: the groups' totals of its cells merged by a tree
            cells_of_bg, bg_order = fits[k][0], fits[k][1]
            totals = [client.submit(_merged_cells, merged[g], cells_of_bg, order, pure=False) for g in range(groups)]
            level = totals
            while len(level) > 1:
                level = [
                    client.submit(_merge_counts, *level[i : i + split_every], pure=False)
                    if len(level) - i > 1
                    else level[i]
                    for i in range(0, len(level), split_every)
                ]
            futures.append(client.submit(_fit_merged, level[0], bg_order, pure=False))
        if progress:
            distributed.progress(futures)
        done = client.gather(futures)
        models: List[Optional[NGramPersona]] = [None] * len(fits)
        for g, group_models in zip([g for g in range(groups) if per_group[g]], done[: len(jobs)]):
            for i, model in zip(per_group[g], group_models):
                models[i] = model
        if len(fits) > k:
            models[k] = done[-1]
        return models

    def job_map(n: int, run: Callable[[int], None]) -> None:
        if threads == 1 or n == 1:
            for i in range(n):
                run(i)
            return
        with ThreadPoolExecutor(max_workers=min(threads, n), thread_name_prefix="simulacra-heldout") as pool:
            list(pool.map(run, range(n)))  # the first job's exception, once every job has ended

    return Mixture.fit(corpus, fitter=fitter, job_map=job_map, **fit_args)


def _text_parts(
    client: "distributed.Client", texts: Texts, npartitions: Optional[int]
) -> Tuple[List[Any], List[float]]:
    """The texts as delayed partitions and their lengths (nan when unknown, for a Bag)."""
    if isinstance(texts, db.Bag):
        parts = texts.to_delayed(optimize_graph=True)
        return parts, [math.nan] * len(parts)
    if isinstance(texts, (str, bytes)) or not isinstance(texts, Sequence):
        raise TypeError(f"texts must be a dask.bag.Bag or a list of str or bytes, not {type(texts).__name__}")
    texts = list(texts)
    n = npartitions or _default_partitions(client, len(texts))
    n = max(1, min(n, len(texts))) if texts else 1
    bounds = [len(texts) * i // n for i in range(n + 1)]
    chunks = [texts[bounds[i] : bounds[i + 1]] for i in range(n)]
    return [dask.delayed(chunk, traverse=False) for chunk in chunks], [float(len(c)) for c in chunks]


def _scatter(client: "distributed.Client", mixture: Mixture) -> "distributed.Future":
    if not isinstance(mixture, Mixture):
        raise TypeError(f"mixture must be a simulacra.Mixture, not {type(mixture).__name__}")
    return client.scatter(mixture, broadcast=True, hash=True)


def _persisted(client: "distributed.Client", collection: Any, progress: bool) -> Any:
    collection = client.persist(collection)
    if progress:
        distributed.progress(collection)
    return collection


def score(
    client: "distributed.Client",
    mixture: Mixture,
    texts: Texts,
    progress: bool = False,
    *,
    npartitions: Optional[int] = None,
    **steering: Any,
) -> "da.Array":
    """(N,) float64 dask array: ``mixture.score_batch(texts, **steering)``, bit for bit, computed on the workers.

    The mixture is scattered to every worker once; the texts (a list, cut into ``npartitions``, or a Bag, whose
    chunks then have unknown sizes) are scored a partition per task. The array is persisted: it is being
    computed when this returns (``progress=True`` waits with Dask's progress bar); ``.compute()`` gathers it.
    A text that is not a str or bytes fails the job with a TypeError naming its partition and index.
    """
    mix = _scatter(client, mixture)
    parts, sizes = _text_parts(client, texts, npartitions)
    chunks = [
        da.from_delayed(dask.delayed(_score_partition, pure=True)(p, mix, i, steering), shape=(n,), dtype=np.float64)
        for i, (p, n) in enumerate(zip(parts, sizes))
    ]
    return _persisted(client, da.concatenate(chunks), progress)


def attribute(
    client: "distributed.Client",
    mixture: Mixture,
    texts: Texts,
    beta: Optional[float] = None,
    progress: bool = False,
    *,
    npartitions: Optional[int] = None,
) -> "da.Array":
    """(N, K) float64 dask array of natural-log posteriors, columns ``mixture.personas``:
    ``mixture.attribute_batch(texts, beta)``, bit for bit, computed on the workers (as score)."""
    mix = _scatter(client, mixture)
    k = len(mixture.personas)
    parts, sizes = _text_parts(client, texts, npartitions)
    chunks = [
        da.from_delayed(
            dask.delayed(_attribute_partition, pure=True)(p, mix, i, beta), shape=(n, k), dtype=np.float64
        )
        for i, (p, n) in enumerate(zip(parts, sizes))
    ]
    return _persisted(client, da.concatenate(chunks), progress)


def trace_summary(
    client: "distributed.Client",
    mixture: Mixture,
    texts: Texts,
    progress: bool = False,
    *,
    npartitions: Optional[int] = None,
) -> "db.Bag":
    """A bag of one dict per text, in order: ``mixture.trace(text).summary()`` (tokens, total_logprob,
    bits_per_token, leader_changes, lead_share / mean_weight / final_weight per persona), computed on the
    workers (as score)."""
    mix = _scatter(client, mixture)
    parts, _ = _text_parts(client, texts, npartitions)
    summaries = [dask.delayed(_summary_partition, pure=True)(p, mix, i) for i, p in enumerate(parts)]
    return _persisted(client, db.from_delayed(summaries), progress)


# ------------------------------------------------------------------------------------------------ discovery


def _shard_from_bytes(data: bytes) -> DiscoveryShard:
    return DiscoveryShard.from_bytes(data)


def _shard_loglik(shard: DiscoveryShard, log_theta: np.ndarray) -> np.ndarray:
    return shard.loglik(log_theta)


def _shard_counts(shard: DiscoveryShard, responsibilities: np.ndarray) -> bytes:
    return shard.counts(responsibilities)


def _shard_bounds(n: int, block: int, shards: int) -> List[Tuple[int, int]]:
    """The documents [begin, end) of each shard, as discover cuts them (whole blocks, as even as blocks allow)."""
    blocks = -(-n // block)
    s = max(1, min(blocks, shards))
    return [(blocks * i // s * block, min(blocks * (i + 1) // s * block, n)) for i in range(s)]


class _Executor:
    """discover's executor on a Dask cluster (simulacra.discover(executor=...) calls it).

    distribute: every shard becomes a task holding its bytes (so a lost worker's shards are made again);
    loglik: the (P, K) log-probabilities scattered to every worker once, DiscoveryShard.loglik mapped over the
    shards, the (N, K) result stacked in shard order; counts: each shard's rows of the responsibilities
    scattered, DiscoveryShard.counts mapped, the block counts (bytes) gathered."""

    def __init__(self, client: "distributed.Client", shards: int, progress: bool) -> None:
        self.client = client
        self.shards = shards
        self.progress = progress
        self._futures: List["distributed.Future"] = []
        self._bounds: List[Tuple[int, int]] = []

    def _gather(self, futures: List["distributed.Future"]) -> List[Any]:
        if self.progress and futures:
            distributed.progress(futures)
        return self.client.gather(futures)

    def distribute(self, shards: List[DiscoveryShard]) -> None:
        self._bounds = [(s.begin, s.begin + s.size) for s in shards]
        self._futures = [self.client.submit(_shard_from_bytes, s.to_bytes(), pure=True) for s in shards]
        distributed.wait(self._futures)

    def loglik(self, log_theta: np.ndarray) -> np.ndarray:
        theta = self.client.scatter(log_theta, broadcast=True, hash=False)
        futures = [self.client.submit(_shard_loglik, f, theta, pure=False) for f in self._futures]
        return np.vstack(self._gather(futures))

    def counts(self, responsibilities: np.ndarray) -> List[bytes]:
        rows = self.client.scatter([responsibilities[b:e] for b, e in self._bounds], hash=False)
        futures = [self.client.submit(_shard_counts, f, r, pure=False) for f, r in zip(self._futures, rows)]
        return self._gather(futures)


def _discovery_texts(
    client: "distributed.Client", documents: Any, block: int, shards: int
) -> List[_Text]:
    """The documents as one list of texts on the driver, each checked (a bad one named by partition and index:
    a Bag's partitions, or for a list the shard it falls in)."""
    if isinstance(documents, Corpus):
        return [d.raw for d in documents]
    if isinstance(documents, db.Bag):
        parts = client.gather(client.compute(documents.to_delayed(optimize_graph=True)))
        texts: List[_Text] = []
        for i, part in enumerate(parts):
            texts.extend(_check_texts(part, i))
        return texts
    if isinstance(documents, (str, bytes)) or not isinstance(documents, Sequence):
        raise TypeError(
            f"documents must be a dask.bag.Bag of texts, a list of str or bytes or a simulacra.Corpus, "
            f"not {type(documents).__name__}"
        )
    texts = list(documents)
    for i, (b, e) in enumerate(_shard_bounds(len(texts), block, shards)):
        _check_texts(texts[b:e], i)
    return texts


def discover(
    client: "distributed.Client",
    documents: Any,
    k: Any,
    progress: bool = False,
    *,
    npartitions: Optional[int] = None,
    **discover_args: Any,
) -> Any:
    """``simulacra.discover(documents, k, **discover_args)`` with the E-step and the M-step's counting on the
    workers: the same Discovery bit for bit (masks, responsibilities, log-likelihoods, objective, restart scores,
    the chosen k).

    documents: a list of str / bytes, a Corpus (its labels ignored) or a Bag of texts (computed on the cluster
    and gathered to the driver). The driver counts the documents' n-grams, draws the held-out split, runs the
    k-means++ starts on their TF-IDF profiles (the local code: the profiles of the training documents are held
    on the driver, 2^18 buckets each at most, sparse), fits the Dirichlet background, and runs EM's loop; the
    documents are cut into ``npartitions`` shards of whole blocks of ``block_documents`` (default 2 per worker),
    shipped once. Each iteration scatters the personas' log-probabilities of the predictive n-grams ((P, K)
    float64) to every worker, and maps the E-step's log-likelihoods and the M-step's block counts over the
    shards; the driver adds the blocks' counts in block order, as the local M-step does, so nothing depends on
    the sharding. With ``smoothing="expected_kneser_ney"`` the M-step (its personas' fits) runs on the driver;
    the E-step on the workers. ``progress=True`` draws Dask's progress bar over each shipping and each E-step
    and M-step. A text that is not a str or bytes fails with a TypeError naming its partition (of a Bag; of a
    list, the shard it falls in) and its index there.
    """
    if "executor" in discover_args:
        raise TypeError("discover: executor is simulacra.dask.discover's own")
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    shards = _check_int("npartitions", npartitions, 1) if npartitions is not None else 2 * workers
    block = discover_args.get("block_documents", 1024)
    _check_int("block_documents", block, 1)
    texts = _discovery_texts(client, documents, block, shards)
    return _discover(texts, k, executor=_Executor(client, shards, progress), **discover_args)
