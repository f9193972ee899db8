// simulacra/vote.cpp — the superposition vote (vote.hpp).
#include "simulacra/vote.hpp"

#include <cmath>

#include "simulacra/error.hpp"
#include "simulacra/interrupt.hpp"
#include "simulacra/tokenizer.hpp"

namespace simulacra {

Vote vote(const Mixture& mixture, const std::string& prompt, const std::vector<std::string>& options,
          const Steering& steering) {
  SIMULACRA_CHECK(!options.empty(), InvalidArgument, "vote: options is empty");
  for (std::size_t m = 0; m < options.size(); ++m)
    SIMULACRA_CHECK(!options[m].empty(), InvalidArgument, "vote: option {} is the empty string", m);
  mixture.check(steering);

  const int K = mixture.size();
  const auto M = static_cast<Eigen::Index>(options.size());
  MixtureState after_prompt = mixture.begin(steering);
  after_prompt.step(encode(prompt));

  Vote v;
  v.prompt_weights = after_prompt.log_weights().unaryExpr([](double lw) { return std::exp(lw); });  // exp(-inf) = 0 exactly
  v.persona_logprobs.resize(K, M);
  v.mixture_logprobs.resize(M);
  for (Eigen::Index m = 0; m < M; ++m) {
    poll_interrupt();
    const std::vector<Token> tokens = encode(options[std::size_t(m)]);
    MixtureState reader(after_prompt);
    v.mixture_logprobs(m) = reader.step(tokens);
    for (int k = 0; k < K; ++k) {
      auto alone = after_prompt.persona_state(k).clone();
      double lp = 0.0;
      for (Token t : tokens) lp += alone->advance(t);
      v.persona_logprobs(k, m) = lp;
    }
  }

  v.persona_choice.resize(K, M);
  for (int k = 0; k < K; ++k) {
    const Eigen::VectorXd row = v.persona_logprobs.row(k).transpose();
    const double z = log_sum_exp(row.data(), int(M));
    v.persona_choice.row(k) = (row.array() - z).exp().matrix().transpose();
  }
  const double z = log_sum_exp(v.mixture_logprobs.data(), int(M));
  v.mixture_choice = (v.mixture_logprobs.array() - z).exp();

  v.per_byte_logprobs.resize(M);
  for (Eigen::Index m = 0; m < M; ++m)
    v.per_byte_logprobs(m) = v.mixture_logprobs(m) / double(options[std::size_t(m)].size());
  const double z_byte = log_sum_exp(v.per_byte_logprobs.data(), int(M));
  v.per_byte_choice = (v.per_byte_logprobs.array() - z_byte).exp();

  v.plurality = Eigen::VectorXd::Zero(M);
  for (int k = 0; k < K; ++k) {
    Eigen::Index answer = 0;  // the first maximum: the lower m on ties
    for (Eigen::Index m = 1; m < M; ++m)
      if (v.persona_logprobs(k, m) > v.persona_logprobs(k, answer)) answer = m;
    v.persona_answers.push_back(int(answer));
    v.plurality(answer) += v.prompt_weights(k);
  }
  return v;
}

}  // namespace simulacra
