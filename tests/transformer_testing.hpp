// Helpers shared by the transformer tests: small configurations, random
// parameters and tokens, and an independent log-softmax.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "simulacra/transformer.hpp"

namespace simulacra {

using MatrixD = RowMatrix<double>;
using ModelD = TransformerModel<double>;
using ModelF = TransformerModel<float>;

// 2 layers, 2 heads, width 8, context 6: every code path, in microseconds.
inline TransformerConfig tiny_config(bool bias, bool tie, bool gate, int personas = 2) {
  TransformerConfig c;
  c.layers = 2;
  c.heads = 2;
  c.width = 8;
  c.context = 6;
  c.personas = personas;
  c.bias = bias;
  c.tie_weights = tie;
  c.gate = gate;
  return c;
}

// Parameters far from the GPT-2 initialisation, so that every tensor (biases,
// LayerNorm gains) carries a gradient of order one: N(0, 0.3), LayerNorm gains 1 + N(0, 0.3).
inline std::vector<double> random_parameters(const TransformerConfig& config, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal(0.0, 0.3);
  std::vector<double> p(std::size_t(config.parameter_count()));
  for (const TensorInfo& t : transformer_layout(config)) {
    const bool gain = t.shape.size() == 1 && t.name.size() > 7 && t.name.compare(t.name.size() - 7, 7, ".weight") == 0;
    for (std::size_t i = 0; i < t.size; ++i) p[t.offset + i] = (gain ? 1.0 : 0.0) + normal(rng);
  }
  return p;
}

inline std::vector<Token> random_tokens(std::size_t n, std::uint32_t seed, int vocab = kVocab) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> pick(0, vocab - 1);
  std::vector<Token> t(n);
  for (Token& x : t) x = pick(rng);
  return t;
}

inline MatrixD random_matrix(Eigen::Index rows, Eigen::Index cols, std::mt19937& rng) {
  std::normal_distribution<double> normal(0.0, 1.0);
  MatrixD m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = normal(rng);
  return m;
}

// log-softmax of every row, computed here independently of the library.
inline MatrixD log_softmax_rows(const MatrixD& logits) {
  MatrixD out(logits.rows(), logits.cols());
  for (Eigen::Index i = 0; i < logits.rows(); ++i) {
    const double m = logits.row(i).maxCoeff();
    double s = 0.0;
    for (Eigen::Index j = 0; j < logits.cols(); ++j) s += std::exp(logits(i, j) - m);
    for (Eigen::Index j = 0; j < logits.cols(); ++j) out(i, j) = logits(i, j) - m - std::log(s);
  }
  return out;
}

}  // namespace simulacra
