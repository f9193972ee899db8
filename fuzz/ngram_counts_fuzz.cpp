// fuzz/ngram_counts_fuzz.cpp — NGramCounts::from_bytes on arbitrary bytes.
// Counts it accepts must serialise back to the same bytes, merge with
// themselves, and (when they hold a document) make a model that scores a text.
#include <cstdlib>

#include "fuzzing.hpp"
#include "simulacra/ngram_counts.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace simulacra;
  fuzzing::expect_typed_errors([&] {
    const NGramCounts counts = NGramCounts::from_bytes(fuzzing::as_text(data, size));
    if (NGramCounts::from_bytes(counts.to_bytes()) != counts) std::abort();
    const NGramCounts twice = merge(counts, counts);
    if (twice.num_documents() > 0) twice.to_persona().score_document("Arr, the ");
  });
  return 0;
}
