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
  (``NGramCounts`` per persona per partition); each persona's partition counts are merged by a pairwise tree
  of tasks (``split_every`` at a time) on the workers; ``fit_personas`` builds every ``NGramPersona`` on the
  workers from its merged counts (and the background from the merge of all personas' counts) and gathers
  the personas. Counts and personas cross the wire pickled through their compact bytes.
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
* a callable ``path -> Corpus`` (shipped to the workers by Dask's pickling).

Every task is pure: a worker lost mid-job (killed, or restarted by its nanny) only costs the recomputation of
its tasks, and the result is the same. A bad document fails the job with an exception naming the partition
and the document's index in it.
"""

from __future__ import annotations

import glob as _glob
import math
import os
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

try:
    import dask
    import dask.array as da
    import dask.bag as db
    import distributed
except ImportError as error:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        'simulacra.dask needs dask[distributed]: pip install "simulacra[dask]" (or "dask[distributed]")'
    ) from error

import numpy as np

from ._core import Corpus, Mixture, NGramCounts, NGramPersona

__all__ = ["count_ngrams", "fit_personas", "score", "attribute", "trace_summary"]

_Text = Union[str, bytes]
_Pair = Tuple[_Text, _Text]
_Loader = Union[str, Callable[[str], Corpus]]
Documents = Union["db.Bag", Sequence[_Pair], Corpus, str, "os.PathLike[str]", Sequence[Union[str, "os.PathLike[str]"]]]
Texts = Union["db.Bag", Sequence[_Text]]

_LOADERS = ("auto", "jsonl", "directory", "play", "fortunes")


# ------------------------------------------------------------------------------------------------ worker side


def _where(partition: int, index: Optional[int] = None, path: Optional[str] = None) -> str:
    """'partition 3, document 7' (or 'partition 3 (path)'), the prefix of every error about a document."""
    where = f"partition {partition}"
    if path is not None:
        where += f" ({path})"
    if index is not None:
        where += f", document {index}"
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


def _count_pairs(pairs: Iterable[Any], partition: int, order: int) -> Dict[str, NGramCounts]:
    """One partition counted: persona -> NGramCounts of its documents in the partition."""
    return {name: NGramCounts(texts, order) for name, texts in _group(pairs, partition).items()}


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


def _count_file(path: str, partition: int, order: int, loader: _Loader) -> Dict[str, NGramCounts]:
    """One file (one partition) read on the worker with its loader and counted."""
    try:
        corpus = _load(path, loader)
    except Exception as error:
        try:
            renamed = type(error)(f"{_where(partition, path=path)}: {error}")
        except Exception:  # an exception type that cannot be built from one message: keep it as it is
            raise error
        raise renamed from error
    groups: Dict[str, List[bytes]] = {}
    for document in corpus:
        groups.setdefault(document.persona, []).append(document.raw)
    return {name: NGramCounts(texts, order) for name, texts in groups.items()}


def _names(counts: Dict[str, NGramCounts]) -> List[str]:
    return sorted(counts)


def _pick(counts: Dict[str, NGramCounts], name: str) -> NGramCounts:
    return counts[name]


def _merge(*parts: NGramCounts) -> NGramCounts:
    """The sum of two or more counts, as a new object (the inputs may be read by other tasks: never changed)."""
    total = parts[0] + parts[1]
    for part in parts[2:]:
        total += part
    return total


def _to_persona(counts: NGramCounts) -> NGramPersona:
    return counts.to_persona()


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


def _submit_counts(
    client: "distributed.Client",
    documents: Documents,
    order: int,
    loader: _Loader,
    npartitions: Optional[int],
) -> List["distributed.Future"]:
    """Futures of the per-partition counts (persona -> NGramCounts), one per partition."""
    _check_order(order)
    if not callable(loader) and loader not in _LOADERS:
        raise ValueError(f"loader must be one of {', '.join(_LOADERS)} or a callable path -> Corpus, not {loader!r}")
    if isinstance(documents, db.Bag):
        parts = documents.to_delayed(optimize_graph=True)
        counted = [dask.delayed(_count_pairs, pure=True)(part, i, order) for i, part in enumerate(parts)]
        return client.compute(counted)
    paths = _paths(documents)
    if paths is not None:
        return [
            client.submit(_count_file, path, i, order, loader, pure=True, key=_key("count-file", path, i, order, loader))
            for i, path in enumerate(paths)
        ]
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
    return _submit_counts(client, bag, order, loader, None)


def _key(*parts: Any) -> str:
    return f"simulacra-{parts[0]}-" + dask.base.tokenize(*parts[1:])


def _progress(futures: Sequence[Any], progress: bool) -> None:
    if progress and futures:
        distributed.progress(list(futures))


def _tree(
    client: "distributed.Client", leaves: List["distributed.Future"], split_every: int
) -> "distributed.Future":
    """A pairwise (split_every-wise) tree of merge tasks over leaves, on the workers; the root's future."""
    level = leaves
    while len(level) > 1:
        level = [
            client.submit(_merge, *level[i : i + split_every], pure=True)
            if len(level[i : i + split_every]) > 1
            else level[i]
            for i in range(0, len(level), split_every)
        ]
    return level[0]


def _reduced(
    client: "distributed.Client",
    documents: Documents,
    order: int,
    loader: _Loader,
    npartitions: Optional[int],
    split_every: int,
    progress: bool,
) -> Dict[str, "distributed.Future"]:
    """persona -> the future of its merged counts, reduced on the workers."""
    if isinstance(split_every, bool) or not isinstance(split_every, int) or split_every < 2:
        raise ValueError(f"split_every must be an int >= 2, not {split_every!r}")
    parts = _submit_counts(client, documents, order, loader, npartitions)
    _progress(parts, progress)
    # Which partition holds which persona: a few names per partition, the only thing the client reads.
    names = client.gather(client.map(_names, parts, pure=True))
    roots: Dict[str, distributed.Future] = {}
    for name in sorted({n for ns in names for n in ns}):
        leaves = [client.submit(_pick, part, name, pure=True) for part, ns in zip(parts, names) if name in ns]
        roots[name] = _tree(client, leaves, split_every)
    _progress(list(roots.values()), progress)
    return roots


def count_ngrams(
    client: "distributed.Client",
    documents: Documents,
    order: int,
    progress: bool = False,
    *,
    loader: _Loader = "auto",
    npartitions: Optional[int] = None,
    split_every: int = 8,
) -> Dict[str, NGramCounts]:
    """persona -> the NGramCounts of all its documents, counted on the workers.

    Each partition is counted on a worker (one NGramCounts per persona present in it); each persona's
    partition counts are then merged by its own tree of tasks, ``split_every`` counts per task, on the workers,
    and the merged counts are gathered (pickled through ``to_bytes``). The counts are exactly
    ``NGramCounts(texts_of(persona), order)``, whatever the partitioning. ``npartitions`` cuts a list of pairs
    (default: 4 per worker); a Bag keeps its partitions and a file is one partition. ``progress=True`` draws
    Dask's progress bar (``distributed.progress``) for the counting and for the merges.
    """
    roots = _reduced(client, documents, order, loader, npartitions, split_every, progress)
    names = list(roots)
    return dict(zip(names, client.gather([roots[n] for n in names])))


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
) -> Tuple[List[str], List[NGramPersona], Optional[NGramPersona]]:
    """(names, personas, background): one Kneser-Ney persona per persona name (sorted, as Corpus.personas),
    built on the workers from its merged counts, bit for bit ``NGramPersona.fit(texts_of(name), order)``;
    with ``background=True`` the persona of all the documents (the merge of every persona's counts, by the same
    tree), bit for bit ``NGramPersona.fit`` of all the texts, else None. ValueError when there are no documents.
    The arguments are count_ngrams'. ``simulacra.Mixture(personas, names)`` makes a pile of them.
    """
    roots = _reduced(client, documents, order, loader, npartitions, split_every, progress)
    if not roots:
        raise ValueError("fit_personas: there are no documents")
    names = list(roots)
    jobs = [client.submit(_to_persona, roots[n], pure=True) for n in names]
    if background:
        jobs.append(client.submit(_to_persona, _tree(client, [roots[n] for n in names], split_every), pure=True))
    _progress(jobs, progress)
    fitted = client.gather(jobs)
    return names, fitted[: len(names)], (fitted[len(names)] if background else None)


def _text_parts(client: "distributed.Client", texts: Texts, npartitions: Optional[int]) -> Tuple[List[Any], List[float]]:
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
