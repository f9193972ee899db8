"""Switches on real text: filtered vs smoothed swap detection and the Viterbi
boundary, at the compression-optimal and the segmentation-optimal fixed-share
rate, with switches after every byte or only after a newline.

Corpora: the Shakespeare speakers ranked 9-16 by amount of text
(../shared/data/tinyshakespeare.txt) and eight Debian fortune categories
(`apt-get install -y fortunes`). The end of each persona's text (the last 20%
of its documents) is held out; the rest trains the pile. The rates are fitted
on a held-out share (10%) of the training documents by a probe pile trained on
the other 90%:

- alpha_compression: max log p(stream) (Baum-Welch on the unlabelled stream of
  joined documents, and the same optimum by grid in fit_switching_segmentation),
- alpha_segmentation: max log p(persona sequence | stream) on the same stream,
  with parts of one document (docs) or of >= 1000 bytes (1k); ", beta": the
  tempering beta fitted with it (beta_grid), used by the filter and smoothing
  (Viterbi reads beta = 1).

Measured on pairs of held-out parts of two different personas, joined, each
part a run of whole lines of >= the given length:

- ceiling: each part attributed whole (Mixture.attribute), the boundary known;
- swap detection: the dominant mask is right at the end of both parts
  (filtered: the trace's weights after part A and before the last byte;
  smoothed: Mixture.smooth at those bytes);
- the same at the middle of each part (filt mid, sm mid), where smoothing
  has text on both sides;
- Viterbi boundary error (2000 B parts), median bytes: `vit near`, the
  distance from the true boundary to the nearest change of the path (the
  text length if none); `vit cut`, over the pairs whose parts are both
  attributed right whole, the distance to where the path puts the switch
  from A to B (the cut agreeing best with A before it and B after it); and
  the number of spans.

    .venv/bin/python bench/bench_switching.py [--pairs 200] [--order 3]
"""

import argparse
import os
import random
import statistics
import sys

import numpy as np

import simulacra

HERE = os.path.dirname(os.path.abspath(__file__))
PLAY = os.path.join(HERE, "..", "..", "shared", "data", "tinyshakespeare.txt")
FORTUNES = "/usr/share/games/fortunes"
CATEGORIES = ["computers", "songs-poems", "definitions", "science", "politics", "work", "men-women", "law"]


def shakespeare():
    corpus = simulacra.Corpus.from_play(PLAY, top_speakers=16)
    sizes = {}
    for d in corpus:
        sizes[d.persona] = sizes.get(d.persona, 0) + len(d.raw)
    ranked = sorted(sizes, key=lambda p: (-sizes[p], p))[8:16]
    return {p: [d.raw for d in corpus if d.persona == p] for p in ranked}


def fortunes():
    corpus = simulacra.Corpus.from_fortunes([os.path.join(FORTUNES, c) for c in CATEGORIES])
    return {c: [d.raw for d in corpus if d.persona == c] for c in CATEGORIES}


def split(docs, fraction):
    """The documents of each persona in order: (first part, last `fraction`)."""
    train, test = {}, {}
    for p, ds in docs.items():
        n = max(1, int(round(len(ds) * fraction)))
        train[p], test[p] = ds[:-n], ds[-n:]
    return train, test


def corpus_of(docs):
    texts, names = [], []
    for p, ds in docs.items():
        texts += ds
        names += [p] * len(ds)
    return simulacra.Corpus.from_texts(texts, names)


def parts(text, size, rng, count):
    """`count` runs of whole lines of >= size bytes from text, at random line starts."""
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == 10 and i + 1 < len(text)]
    out = []
    for _ in range(count * 4):
        s = rng.choice(starts)
        e = s
        while e < len(text) and e - s < size:
            nl = text.find(b"\n", e)
            e = len(text) if nl < 0 else nl + 1
        if e - s >= size:
            out.append(text[s:e] if text[e - 1 : e] == b"\n" else text[s:e] + b"\n")
        if len(out) == count:
            break
    return out


def pairs(test, size, n, seed):
    rng = random.Random(seed)
    names = sorted(test)
    texts = {p: b"\n".join(ds) + b"\n" for p, ds in test.items()}
    pool = {p: parts(texts[p], size, rng, n) for p in names}
    out = []
    for i in range(n):
        a, b = rng.sample(names, 2)
        if pool[a] and pool[b]:
            out.append((names.index(a), rng.choice(pool[a]), names.index(b), rng.choice(pool[b])))
    return out


def pile(train, order, alpha, switch_after, beta=1.0):
    return simulacra.Mixture.fit(corpus_of(train), order=order, alpha=alpha, beta=beta, switch_after=switch_after)


def fitted_rates(train, order, switch_after, seed):
    """alpha_compression (EM), and alpha_segmentation for document parts and 1 KB parts."""
    fit_part, val_part = split(train, 0.1)
    probe = pile(fit_part, order, 1e-3, switch_after)
    val_docs = list(corpus_of(val_part))
    docs = simulacra.fit_switching_segmentation(probe, val_docs, seed=seed)
    kb = simulacra.fit_switching_segmentation(probe, val_docs, part_bytes=1000, seed=seed)
    betas = [0.1, 0.2, 0.3, 0.5, 0.7, 1.0]
    docs_b = simulacra.fit_switching_segmentation(probe, val_docs, seed=seed, beta_grid=betas)
    kb_b = simulacra.fit_switching_segmentation(probe, val_docs, part_bytes=1000, seed=seed, beta_grid=betas)
    stream = []
    for d in docs_stream(val_docs, seed):
        stream.extend(simulacra.encode_document(d))
    em = simulacra.fit_fixed_share_em(probe, np.array(stream), max_iterations=100, tolerance=1e-9)
    return {"compression (EM)": (em.alpha, 1.0), "compression (grid)": (docs.alpha_compression, 1.0),
            "segmentation docs": (docs.alpha_segmentation, 1.0), "segmentation 1k": (kb.alpha_segmentation, 1.0),
            "seg docs, beta": (docs_b.alpha_segmentation, docs_b.beta_segmentation),
            "seg 1k, beta": (kb_b.alpha_segmentation, kb_b.beta_segmentation)}


def docs_stream(docs, seed):
    rng = random.Random(seed)
    texts = [d.raw for d in docs]
    rng.shuffle(texts)
    return texts


def boundary(path, a, b):
    """Where the path puts the switch from a to b: the cut c that best agrees with
    a on path[:c] and b on path[c:] (the first such cut)."""
    not_a = np.concatenate([[0], np.cumsum(path != a)])
    not_b_after = np.concatenate([np.cumsum((path != b)[::-1])[::-1], [0]])
    return int(np.argmin(not_a + not_b_after))


def measure(mix, pairs_1k, pairs_2k):
    ceil = filt = smooth = filt_mid = smooth_mid = 0
    nats = nbytes = 0.0
    for a, ta, b, tb in pairs_1k:
        names = mix.personas
        wa, wb = mix.attribute(ta), mix.attribute(tb)
        ceil += max(wa, key=wa.get) == names[a] and max(wb, key=wb.get) == names[b]
        text = ta + tb
        tr = mix.trace(text)
        nats -= tr.total_logprob
        nbytes += len(text)
        filt += tr.dominant[len(ta)] == a and tr.dominant[len(text) - 1] == b
        sm = mix.smooth(text)
        smooth += sm.dominant[len(ta) - 1] == a and sm.dominant[len(text) - 1] == b
        mid_a, mid_b = len(ta) // 2, len(ta) + len(tb) // 2
        filt_mid += tr.dominant[mid_a] == a and tr.dominant[mid_b] == b
        smooth_mid += sm.dominant[mid_a] == a and sm.dominant[mid_b] == b
    nearest, cut, spans = [], [], []
    for a, ta, b, tb in pairs_2k:
        text = ta + tb
        at = mix.attribute_spans(text)
        changes = [s[0] for s in at.spans[1:]]
        nearest.append(min((abs(c - len(ta)) for c in changes), default=len(text)))
        wa, wb = mix.attribute(ta), mix.attribute(tb)
        if max(wa, key=wa.get) == mix.personas[a] and max(wb, key=wb.get) == mix.personas[b]:
            cut.append(abs(boundary(np.asarray(at.path), a, b) - len(ta)))
        spans.append(len(at.spans))
    n = len(pairs_1k)
    return dict(bpb=nats / nbytes / np.log(2), ceiling=ceil / n, filtered=filt / n, smoothed=smooth / n, filt_mid=filt_mid / n,
                smooth_mid=smooth_mid / n, nearest=statistics.median(nearest),
                cut=statistics.median(cut) if cut else float("nan"), n_cut=len(cut),
                spans=statistics.median(spans))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=200)
    ap.add_argument("--order", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    for name, load in [("shakespeare 9-16", shakespeare), ("fortunes", fortunes)]:
        docs = load()
        train, test = split(docs, 0.2)
        p1k = pairs(test, 1000, args.pairs, args.seed)
        p2k = pairs(test, 2000, args.pairs, args.seed + 1)
        print(f"\n== {name}: {len(docs)} personas, order {args.order}, {len(p1k)} pairs of 1000 B, "
              f"{len(p2k)} of 2000 B")
        for switch_after in [None, "\n"]:
            rates = fitted_rates(train, args.order, switch_after, args.seed)
            label = "every byte" if switch_after is None else "after '\\n'"
            print(f"-- switch points: {label}; fitted (alpha, beta): "
                  + ", ".join(f"{k} ({a:.3g}, {b:.2g})" for k, (a, b) in rates.items()))
            print(f"   {'alpha':>26} {'ceiling':>8} {'filtered':>9} {'smoothed':>9} {'sm/ceil':>8} "
                  f"{'filt mid':>9} {'sm mid':>7} {'vit near':>9} {'vit cut':>8} {'spans':>6} {'bits/B':>7}")
            for key in ["compression (EM)", "segmentation docs", "segmentation 1k", "seg docs, beta", "seg 1k, beta"]:
                alpha, beta = rates[key]
                mix = pile(train, args.order, alpha, switch_after, beta)
                m = measure(mix, p1k, p2k)
                c = m["ceiling"]
                print(f"   {key:>26} {c:8.3f} {m['filtered']:9.3f} "
                      f"{m['smoothed']:9.3f} {m['smoothed'] / c if c else 0:8.3f} {m['filt_mid']:9.3f} "
                      f"{m['smooth_mid']:7.3f} {m['nearest']:9.0f} {m['cut']:8.0f} {m['spans']:6.0f} {m['bpb']:7.4f}")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
