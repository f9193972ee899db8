// simulacra/ngram_counts.hpp — mergeable n-gram counts: count shards apart,
// merge them, fit one Kneser-Ney persona.
//
// NGramCounts holds the raw count of every n-gram of orders 1..N of a set of
// documents (with the document convention of ngram.hpp: a document is
// <s> bytes... </b>, the start boundary is context only, no n-gram crosses a
// document), as a trie of sorted arrays. That is all Kneser-Ney needs: the
// adjusted counts are the raw counts at the top order and for n-grams that
// begin with the start boundary, and otherwise the continuation counts
// N1+(. s), the number of distinct stored n-grams x s, which the merged trie
// itself holds; the count-of-counts and discounts follow from those.
//
// Counts merge exactly: merge() is the union of the tries with the counts
// added, so it is associative and commutative, and the model of merged shard
// counts is bit for bit NGramPersona::fit of all their documents at once
// (to_persona() computes the same skeleton and runs the same smoothing code).
// A document is the unit of sharding: it is counted whole in one shard, so no
// n-gram is lost or counted twice at a shard boundary (ngram.hpp's n-grams
// never cross documents). The counts of order N hold those of every lower
// order: truncated(n) gives the counts that counting at order n would give.
//
// to_bytes() / from_bytes() serialise compactly (varints, tokens
// delta-coded within each context; about 2-3 bytes per stored n-gram), for
// shipping counts between processes or machines. from_bytes validates
// everything (sizes against the bytes present before allocating, sorted
// tokens, child ranges, the suffix of every n-gram present) and throws
// FileError naming what is wrong.
//
//   simulacra::NGramCounts a(shard_a_texts, 5), b(shard_b_texts, 5);
//   a.merge(b);                                   // == NGramCounts(all_texts, 5)
//   simulacra::NGramPersona lm = a.to_persona();  // == NGramPersona::fit(all_texts, 5), bit for bit
//   std::string wire = a.to_bytes();
//   auto back = simulacra::NGramCounts::from_bytes(wire);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "simulacra/ngram.hpp"

namespace simulacra {

class NGramCounts {
 public:
  // Counts the n-grams of `documents` (raw bytes, one document each; an
  // empty list gives empty counts, the identity of merge) at `order`.
  // InvalidArgument if the order fails NGramPersona::check_order or the
  // documents exceed 2^32 - 1 tokens (count larger sets in shards and merge).
  NGramCounts(const std::vector<std::string>& documents, int order);

  int order() const { return order_; }
  // Documents counted (the count of the start boundary).
  std::uint64_t num_documents() const { return count_[1][NGramPersona::kStart]; }
  // Tokens predicted: every byte and one end boundary per document.
  std::uint64_t num_tokens() const;
  // Stored n-grams of order n (order 1: the dense table of kVocab + 1
  // entries, the start boundary included), n = 1..order(); and in all.
  std::size_t num_ngrams(int n) const;
  std::size_t num_ngrams() const;

  // The raw count of one n-gram: tokens in 0..kVocab-1, the first may be
  // NGramPersona::kStart (the document start); 0 for an n-gram not counted.
  // InvalidArgument for an empty n-gram, one longer than order(), or a
  // token out of range.
  std::uint64_t count(const std::vector<int>& ngram) const;

  // Adds `other`'s counts (the union of the n-grams, counts summed).
  // InvalidArgument if the orders differ, or a count would overflow.
  NGramCounts& merge(const NGramCounts& other);

  // The counts of order n (1..order()): what counting at order n gives.
  NGramCounts truncated(int order) const;

  // The Kneser-Ney model of these counts: NGramPersona::fit of the counted
  // documents, bit for bit. InvalidArgument if nothing was counted, or if a
  // count or a level exceeds what a model holds (2^32 - 1).
  NGramPersona to_persona() const;

  // The compact serialisation, and its inverse (FileError for damaged or
  // crafted bytes, in memory bounded by the input's size).
  std::string to_bytes() const;
  static NGramCounts from_bytes(std::string_view bytes);

  bool operator==(const NGramCounts& other) const {
    return order_ == other.order_ && token_ == other.token_ && count_ == other.count_ && child_end_ == other.child_end_;
  }
  bool operator!=(const NGramCounts& other) const { return !(*this == other); }

 private:
  NGramCounts() = default;
  // Throws FileError (what: "n-gram counts") unless the trie is consistent.
  void validate() const;
  // The children of level-n node i: [child_begin(n, i), child_end_[n][i]) at level n + 1.
  std::size_t child_begin(int n, std::size_t i) const { return i == 0 ? 0 : child_end_[std::size_t(n)][i - 1]; }
  // For every node of level n + 1, the level-n node of its suffix (kNone where it is missing).
  std::vector<std::vector<std::uint32_t>> suffixes() const;

  int order_ = 0;
  // Levels 1..order (index 0 unused): tokens and raw counts; level 1 is dense
  // (token i at index i). child_end_[n] (n < order): end of each node's children.
  std::vector<std::vector<std::uint16_t>> token_;
  std::vector<std::vector<std::uint64_t>> count_;
  std::vector<std::vector<std::uint64_t>> child_end_;
};

// a merged with b (a new object).
NGramCounts merge(NGramCounts a, const NGramCounts& b);

}  // namespace simulacra
