// simulacra/sampling.hpp — the sampler chain and generation.
//
// A sampler chain turns a next-token distribution (natural-log probabilities
// over the vocabulary) into one token. Like llama.cpp's default chain, the
// truncations look at the model's own distribution and temperature comes
// last:
//
//   top-k   keep the k most likely tokens (0: off)
//   top-p   keep the smallest set whose probability reaches p (1: off)
//   min-p   keep tokens with p >= min_p * p_max (0: off)
//   temperature  divide the log-probs by T; T = 0 is greedy (argmax)
//
// then draw from what is left with a seeded generator (same seed, same
// output, on every standard library: the draws use their own arithmetic).
//
// The defaults are llama.cpp's (temperature 0.8, top-p 0.95, min-p 0.05;
// top-k stays off: on 257 byte tokens min-p already bounds the set), and
// the same in C++ (SamplerConfig{}), Python (Mixture.generate) and the CLI
// (simulacra generate). The truncations are on by default because a
// Kneser-Ney persona gives every byte some mass through its uniform floor:
// untruncated, a pile trained on ASCII text emits bytes it never saw (in
// bench/bench_sampling_defaults.py, 42 of 50 samples of 200 bytes at
// temperature 1 on Shakespeare speakers, none with the defaults).
// top_p = 1 and min_p = 0 turn them off.
//
// Generation reads a prompt into a MixtureState and then samples token after
// token, feeding each back into the filter, so a mask can take over as the
// text accumulates. Two modes: sample the token from the mixture
// distribution, or first sample a persona from the weights, then the token
// from that persona alone.
//
//   simulacra::GenerateConfig g;
//   g.max_tokens = 200; g.sampler.temperature = 0.8; g.sampler.seed = 7;
//   simulacra::Generation out = simulacra::generate(mix, "Arr, ", g);
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "simulacra/config.hpp"
#include "simulacra/mixture.hpp"

namespace simulacra {

// The sampler chain's settings.
struct SamplerConfig {
  double temperature = 0.8;  // finite, >= 0; 0 means greedy (argmax)
  int top_k = 0;             // >= 0; 0 keeps every token
  double top_p = 0.95;       // in (0, 1]; 1 keeps every token
  double min_p = 0.05;       // in [0, 1]; 0 keeps every token
  std::uint64_t seed = 0;    // seed of the generator
};

// Checks a sampler configuration: InvalidArgument naming the bad field and
// its value for a temperature that is NaN, infinite or < 0, top_k < 0, a
// top_p that is NaN or outside (0, 1], a min_p that is NaN or outside [0, 1].
void check(const SamplerConfig& config);

// A seeded token sampler (the chain above). Deterministic for a seed.
class Sampler {
 public:
  // InvalidArgument (check) for a bad configuration.
  explicit Sampler(const SamplerConfig& config);
  // Draws one token from `logprobs` (natural-log, any size >= 1; need not be
  // normalised; -inf entries are never drawn): a draw from distribution().
  // InvalidArgument if every entry is -inf or any is NaN.
  int sample(const Eigen::Ref<const Eigen::VectorXd>& logprobs);
  // The law sample() draws from, without drawing (the generator is not
  // advanced): (n) probabilities summing to 1, zero outside the set the
  // truncations keep. With p = softmax(logprobs) and tokens sorted by p
  // descending (ties: lower index first), the kept set is the first top_k
  // (all if 0), then of those the shortest prefix whose mass reaches top_p
  // times theirs, then of those the tokens with p >= min_p * max p; the
  // kept tokens get p^(1/temperature), renormalised. Temperature 0: 1 on the
  // most likely token (lowest index on ties). InvalidArgument as sample().
  Eigen::VectorXd distribution(const Eigen::Ref<const Eigen::VectorXd>& logprobs);
  // A uniform double in [0, 1) from the generator (53 random bits).
  double uniform();
  const SamplerConfig& config() const { return config_; }

 private:
  // Fills order_ with the kept tokens and p_ with their unnormalised
  // weights (tempered probabilities; greedy: the argmax alone, weight 1),
  // and returns the sum of p_.
  double truncate(const Eigen::Ref<const Eigen::VectorXd>& logprobs);

  SamplerConfig config_;
  std::uint64_t state_;   // splitmix64 state
  std::vector<int> order_;  // scratch: token indices
  std::vector<double> p_;   // scratch: probabilities
};

enum class GenerateMode { kMixture, kPersona };

// "mixture" / "persona" and back (InvalidArgument for another name).
std::string generate_mode_name(GenerateMode mode);
GenerateMode generate_mode_from_name(const std::string& name);

// One generated token, as a step callback sees it.
struct GenerationStep {
  int index = 0;                 // 0-based index of the generated token
  Token token = 0;               // the token drawn
  int persona = -1;              // persona that spoke it (kPersona mode), else -1
  Eigen::VectorXd log_weights;   // (K) steered weights before the token
  Eigen::VectorXd logprobs;      // (kVocab) the distribution the token was drawn from, before the
                                 // sampler chain: the mixture's, or the speaking persona's (kPersona),
                                 // product steering applied to either
};

struct GenerateConfig {
  int max_tokens = 200;          // tokens to generate at most (>= 0)
  SamplerConfig sampler;         // the sampler chain
  Steering steering;             // clamp / exclude / prior bias / product
  GenerateMode mode = GenerateMode::kMixture;  // where tokens come from
  bool stop_at_boundary = true;  // stop after generating the document boundary
  // Called after each token; return false to stop early (e.g. Ctrl-C).
  std::function<bool(const GenerationStep&)> on_step;
};

// The generated continuation.
struct Generation {
  std::vector<Token> tokens;     // the generated tokens (the prompt excluded)
  std::string text;              // their bytes (the boundary left out)
  Eigen::MatrixXd log_weights;   // (T, K) steered weights before each generated token
  std::vector<int> personas;     // (T) speaking persona (kPersona mode), else -1
};

// Reads `prompt` (a document prefix) and generates up to max_tokens tokens.
// Polls the interrupt check (interrupt.hpp): Interrupted when it trips.
// InvalidArgument for max_tokens < 0 or a bad sampler configuration (check);
// what Mixture::check(Steering) throws for a bad steering. A GenerationStream
// read to its end.
Generation generate(const Mixture& mixture, const std::string& prompt, const GenerateConfig& config);

// Generation one token at a time, for a reader that wants each token as it
// is drawn (Python's Mixture.stream). generate(mixture, prompt, config) is
// exactly: construct, call next() until it returns false, take generation();
// the same seed gives the same tokens either way. The mixture must outlive
// the stream.
//
//   simulacra::GenerationStream s(mix, "Arr, ", g);
//   while (s.next()) std::fputs(simulacra::token_name(s.step().token).c_str(), stdout);
class GenerationStream {
 public:
  // Reads the prompt. Throws what generate() throws for a bad configuration.
  GenerationStream(const Mixture& mixture, const std::string& prompt, const GenerateConfig& config);

  // Draws the next token and feeds it back into the filter (then calls
  // config.on_step, if set); returns false without drawing once the stream
  // is done: max_tokens drawn, the boundary drawn under stop_at_boundary, or
  // on_step returned false. Polls the interrupt check every 16 tokens as
  // generate() does; an Interrupted leaves the stream as it was.
  bool next();
  // Whether next() would return false.
  bool done() const;
  // The token next() drew last (before the first call: a step of index -1).
  const GenerationStep& step() const { return step_; }
  // The tokens drawn so far, as generate() returns them.
  Generation generation() const;

 private:
  const Mixture* mixture_;
  GenerateConfig config_;
  Sampler sampler_;
  MixtureState state_;
  Generation out_;              // tokens, text and personas so far (log_weights left empty)
  std::vector<double> weights_; // (T * K) rows of log weights, grown as tokens come
  GenerationStep step_;
  InterruptPoller poll_{16};    // a token costs K whole distributions
  bool stopped_ = false;        // the boundary under stop_at_boundary, or on_step said stop
};

}  // namespace simulacra

#ifdef SIMULACRA_HEADER_ONLY
#include "simulacra/sampling-inl.hpp"
#endif
