// bench_analysis: each analysis of issue 4 on a 100 KB text with K = 8
// order-6 personas, one thread, beside the mixture's own trace of the same
// text (the reference: reading the text once). Target: each under 2 s.
//
// Personas: eight consecutive 110 KB slices of tinyshakespeare; the text is
// the 100 KB after them. Best of 3 runs (this machine's timings vary).
//
// Usage: bench_analysis [path/to/tinyshakespeare.txt]
#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include <simulacra/simulacra.hpp>

#include "bench_util.hpp"

using namespace simulacra;
using simulacra::bench::seconds_best_of;

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : std::string(SIMULACRA_SHARED_DATA) + "/tinyshakespeare.txt";
  const std::string data = bench::read_file(path);
  const int K = 8;
  const std::size_t slice = 110000, text_bytes = 100000;
  SIMULACRA_CHECK(data.size() >= K * slice + text_bytes, InvalidArgument, "{} is too short", path);
  std::vector<std::shared_ptr<const Persona>> personas;
  std::vector<std::string> names;
  for (int k = 0; k < K; ++k) {
    personas.push_back(std::make_shared<NGramPersona>(NGramPersona::fit({data.substr(std::size_t(k) * slice, slice)}, 6)));
    names.push_back(fmt::format("part{}", k));
  }
  MixtureConfig mc;
  mc.switching = Switching::kFixedShare;
  mc.alpha = 1e-3;
  const Mixture mix(personas, names, Eigen::VectorXd::Ones(K), mc);
  const std::string text = data.substr(K * slice, text_bytes);
  const std::vector<Token> tokens = encode(text);
  const std::string half_a = text.substr(0, text_bytes / 2), half_b = text.substr(text_bytes / 2);

  fmt::print("bench_analysis: {} KB text, K = {} order-6 personas, one thread, best of 3\n\n", text_bytes / 1000, K);
  fmt::print("{:<36} {:>9} {:>14}   (target < 2 s)\n", "analysis", "seconds", "x mixture trace");
  double sink = 0.0;
  const double t_trace = seconds_best_of(3, [&] { sink += mix.trace(tokens).total_logprob(); });
  auto row = [&](const char* name, const std::function<void()>& f) {
    const double t = seconds_best_of(3, f);
    fmt::print("{:<36} {:>9.3f} {:>14.2f}\n", name, t, t / t_trace);
  };
  fmt::print("{:<36} {:>9.3f} {:>14.2f}\n", "mixture trace (the reference)", t_trace, 1.0);
  row("Viterbi attribution", [&] { sink += attribute_spans(mix, tokens).log_joint; });
  row("divergence matrix", [&] { sink += divergence_matrix(mix, text).sum(); });
  row("characteristic tokens (n = 10)", [&] { sink += double(characteristic_tokens(mix, text, 10).size()); });
  row("switch asymmetry (50 KB + 50 KB)", [&] { sink += double(switch_asymmetry(mix, 0, 1, half_a, half_b).first.weight_b.size()); });
  row("vote (prompt 100 KB, 4 options)", [&] { sink += vote(mix, text, {" the", " and", " my", " O"}).mixture_choice[0]; });
  row("raw view (context 100 KB, top 10)", [&] { sink += raw_view(mix, text, 10).weights[0]; });
  Steering product;
  product.product = {0, 1, 1.0};
  row("product-steered trace (DExperts)", [&] { sink += mix.trace(tokens, product).total_logprob(); });
  // The steered log-probabilities of the text by a reader, two ways in 3
  // pairs alternating which runs first: MixtureState::step (the personas'
  // next_probs mixed and tilted in probability space), and the log path it
  // replaced, written out (each persona's next_logprobs, then
  // steered_distribution: the mixture by K kVocab exps, the tilt; the filter
  // stepped unsteered, as product steering leaves it alone).
  const auto linear_path = [&] {
    MixtureState reader = mix.begin(product);
    double total = 0.0;
    for (Token t : tokens) total += reader.step(t);
    return total;
  };
  const auto log_path = [&] {
    MixtureState reader = mix.begin();
    Eigen::MatrixXd rows(K, kVocab);
    Eigen::VectorXd row(kVocab);
    double total = 0.0;
    for (Token t : tokens) {
      for (int k = 0; k < K; ++k) {
        reader.persona_state(k).next_logprobs(row);
        rows.row(k) = row.transpose();
      }
      total += steered_distribution(product.product, reader.log_weights(), rows)[t];
      reader.step(t);
    }
    return total;
  };
  std::vector<double> ratios;
  double t_new = 1e30, t_old = 1e30, diff = 0.0;
  for (int rep = 0; rep < 3; ++rep) {
    double a = 0.0, b = 0.0, la = 0.0, lb = 0.0;
    for (int side = 0; side < 2; ++side) {
      if ((side == 0) == (rep % 2 == 0))
        a = seconds_best_of(1, [&] { la = linear_path(); });
      else
        b = seconds_best_of(1, [&] { lb = log_path(); });
    }
    diff = std::max(diff, std::abs(la - lb));
    t_new = std::min(t_new, a);
    t_old = std::min(t_old, b);
    ratios.push_back(b / a);
  }
  std::sort(ratios.begin(), ratios.end());
  fmt::print("{:<36} {:>9.3f} {:>14.2f}\n", "steered reader, probability space", t_new, t_new / t_trace);
  fmt::print("{:<36} {:>9.3f} {:>14.2f}   (the log path: {:.2f}x the time, range {:.2f}-{:.2f}; |total diff| {:.1e})\n",
             "steered reader, log path", t_old, t_old / t_trace, ratios[1], ratios.front(), ratios.back(), diff);
  fmt::print("\n(checksum {:.3f})\n", sink);
  return 0;
}
