// fuzz/json_fuzz.cpp — json::parse on arbitrary bytes. A parsed value must
// dump to text that parses back to an equal value.
#include <cstdlib>

#include "fuzzing.hpp"
#include "simulacra/json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace simulacra;
  fuzzing::expect_typed_errors([&] {
    const json::Value value = json::parse(fuzzing::as_text(data, size));
    if (json::parse(json::dump(value)) != value) std::abort();
  });
  return 0;
}
