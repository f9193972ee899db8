// src/cli/model.cpp — reading MODEL (common.hpp: load_model, model_label).
// Linked into `simulacra` only: the light `simulacra-demo` has no model files.
#include <string>

#include "common.hpp"
#include "input.hpp"
#include "simulacra/model_file.hpp"

namespace simulacra::cli {

Mixture load_model(const Args& args) {
  const std::string& path = args.positional.at(0);
  if (path != "-") return load(path);
  const std::size_t limit = args.declares(kMaxInput.name) ? max_input(args) : kDefaultMaxInput;
  return load_from_bytes(read_input("-", limit), "<stdin>");
}

std::string model_label(const Args& args) { return args.positional.at(0) == "-" ? "<stdin>" : args.positional[0]; }

}  // namespace simulacra::cli
