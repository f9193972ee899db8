// The light core used header-only (SIMULACRA_HEADER_ONLY, set by the CMake
// target simulacra::header_only): fit two n-gram masks from strings, ask the
// pile who wrote a line, follow the weights token by token, generate under a
// steering, and stop a fit through the interrupt check. Nothing of the
// compiled library is linked. Exits 1 if an answer is wrong.
#include <cmath>
#include <cstdio>
#include <vector>

#include <simulacra/interrupt.hpp>
#include <simulacra/mixture.hpp>
#include <simulacra/ngram.hpp>
#include <simulacra/sampling.hpp>
#include <simulacra/tokenizer.hpp>

#include "pile.hpp"

#ifndef SIMULACRA_HEADER_ONLY
#error "this example is built header-only: link simulacra::header_only"
#endif

namespace {

int failures = 0;

void expect(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "header_only: FAILED: %s\n", what);
    ++failures;
  }
}

}  // namespace

int main() {
  using namespace simulacra;
  const Mixture pile = pirate_and_poet();

  // Who wrote it? The posterior over the two masks given a whole line.
  const Eigen::VectorXd pirate_line = pile.attribute("Arr, ye scurvy dog, hoist the rum!").array().exp();
  const Eigen::VectorXd poet_line = pile.attribute("Thou art lovely as a summer's cloud.").array().exp();
  fmt::print("P(pirate | pirate line) = {:.4f}, P(poet | poet line) = {:.4f}\n", pirate_line[0], poet_line[1]);
  expect(pirate_line[0] > 0.99, "the pirate line is attributed to the pirate");
  expect(poet_line[1] > 0.99, "the poet line is attributed to the poet");

  // The trace's total is the document's score, and with beta = 1 and no
  // switching it is the Bayesian marginal of the two masks.
  const std::string text = "Ahoy, thou lonely cloud!";
  const std::vector<Token> doc = encode_document(text);
  const Trace tr = pile.trace(doc);
  double log_p[2] = {0.0, 0.0};  // each mask's log-probability of the document
  for (int k = 0; k < 2; ++k)
    for (double lp : pile.persona(k).token_logprobs(doc)) log_p[k] += lp;
  const double marginal = std::log(0.5 * std::exp(log_p[0]) + 0.5 * std::exp(log_p[1]));
  fmt::print("log p(\"{}\") = {:.6f} (marginal {:.6f})\n", text, tr.total_logprob(), marginal);
  expect(std::abs(tr.total_logprob() - pile.score(text)) < 1e-12, "the trace sums to the score");
  expect(std::abs(tr.total_logprob() - marginal) < 1e-9, "the score is the Bayesian marginal");

  // Generation clamped to the pirate: seeded, so the same text every run.
  GenerateConfig g;
  g.max_tokens = 60;
  g.sampler.temperature = 0.7;
  g.sampler.seed = 7;
  g.steering.clamp = pile.index_of("pirate");
  const Generation out = generate(pile, "Arr, ", g);
  fmt::print("pirate says: Arr, {}\n", out.text);
  expect(!out.tokens.empty(), "generation produced tokens");
  expect(out.log_weights.rows() == Eigen::Index(out.tokens.size()), "one weight row per generated token");
  expect((out.log_weights.col(0).array() == 0.0).all(), "the clamped pirate has weight 1 throughout");

  // The interrupt check installed here is the one the fit in pile.cpp polls:
  // one check per program, header-only too.
  set_interrupt_check([] { return true; });
  bool stopped = false;
  try {
    pirate_and_poet();
  } catch (const Interrupted&) {
    stopped = true;
  }
  set_interrupt_check(nullptr);
  expect(stopped, "an installed interrupt check stops a fit in another translation unit");

  if (failures == 0) fmt::print("header_only: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
