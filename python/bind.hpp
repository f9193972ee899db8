// bind.hpp — the binding entry points: one bind_<topic>(m) per topic file,
// each registering its classes and functions on the `simulacra._core`
// module, called by module.cpp in the order below (a file that adds methods
// to a class, or returns one, comes after the file that registers it).
#pragma once

#include <pybind11/pybind11.h>

namespace simulacra::python {

void bind_tokenizer(pybind11::module_& m);          // bind_tokenizer.cpp: encode, decode, the vocabulary
void bind_corpus(pybind11::module_& m);             // bind_corpus.cpp: Document, Corpus
void bind_ngram(pybind11::module_& m);              // bind_ngram.cpp: Persona, NGramPersona, Discounts
void bind_ngram_counts(pybind11::module_& m);       // bind_ngram_counts.cpp: NGramCounts
void bind_mixture(pybind11::module_& m);            // bind_mixture.cpp: Mixture, Ablation, attribution
void bind_trace(pybind11::module_& m);              // bind_trace.cpp: Trace, trace and the scores
void bind_state(pybind11::module_& m);              // bind_state.cpp: State, Prediction, begin, predict
void bind_generate(pybind11::module_& m);           // bind_generate.cpp: GenerationStep, Generation, generate
void bind_ngram_train(pybind11::module_& m);        // bind_ngram_train.cpp: TrainProgress, TrainReport, fit
void bind_model_file(pybind11::module_& m);         // bind_model_file.cpp: save, load, pickling
void bind_analysis(pybind11::module_& m);           // bind_analysis.cpp: vote, swaps, spans, raw view, divergence
void bind_smoothing(pybind11::module_& m);          // bind_smoothing.cpp: Smoothed, smooth, the switching fits
void bind_cluster_metrics(pybind11::module_& m);    // bind_cluster_metrics.cpp: NMI, ARI, purity, matching, boundary F1
void bind_discovery(pybind11::module_& m);          // bind_discovery.cpp: fit_weighted, kmeans, Discovery, discover
void bind_segment_discovery(pybind11::module_& m);  // bind_segment_discovery.cpp: SegmentDiscovery, discover_segments
void bind_transformer(pybind11::module_& m);        // bind_transformer.cpp: TransformerModel and its persona
void bind_transformer_train(pybind11::module_& m);  // bind_transformer_train.cpp: the transformer trainer
void bind_report(pybind11::module_& m);             // bind_report.cpp: the trace and vote tables
void bind_batch(pybind11::module_& m);              // bind_batch.cpp: score_batch, attribute_batch
void bind_stream(pybind11::module_& m);             // bind_stream.cpp: Stream, Mixture.stream

// module.cpp: the interrupt check of long calls (see bind_common.hpp).
void install_interrupt_check(pybind11::module_& m);

}  // namespace simulacra::python
