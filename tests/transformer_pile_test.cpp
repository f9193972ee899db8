// Tests for simulacra/transformer_pile.hpp: piles of transformer personas.
//
// References: the prior is the streams' token counts normalised (written
// out by hand here), and persona k of a pile scores a text exactly as head k
// of its model does (a TransformerPersona built directly).
#include "simulacra/transformer_pile.hpp"

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "simulacra/error.hpp"
#include "simulacra/tokenizer.hpp"

namespace {

using simulacra::InvalidArgument;
using simulacra::MixtureConfig;
using simulacra::TransformerConfig;
using simulacra::TransformerData;
using simulacra::TransformerModel;
using simulacra::TransformerPersona;

using Model = std::shared_ptr<const TransformerModel<float>>;

Model tiny_model(int personas, std::uint64_t seed) {
  TransformerConfig c;
  c.layers = 1;
  c.heads = 2;
  c.width = 8;
  c.context = 8;
  c.personas = personas;
  return std::make_shared<const TransformerModel<float>>(c, seed);
}

// Three streams of 30, 10 and 60 training tokens.
TransformerData three_streams() {
  TransformerData d;
  d.names = {"pirate", "poet", "doctor"};
  d.train = {simulacra::encode(std::string(30, 'a')), simulacra::encode(std::string(10, 'b')),
             simulacra::encode(std::string(60, 'c'))};
  d.heldout = {{}, {}, {}};
  return d;
}

std::vector<double> scores(const simulacra::Persona& p, const std::string& text) {
  return p.token_logprobs(simulacra::encode_document(text));
}

TEST(TransformerPileTest, StreamPriorIsTheShareOfTrainingTokens) {
  const Eigen::VectorXd prior = simulacra::stream_prior(three_streams());
  ASSERT_EQ(prior.size(), 3);
  EXPECT_DOUBLE_EQ(prior[0], 0.3);
  EXPECT_DOUBLE_EQ(prior[1], 0.1);
  EXPECT_DOUBLE_EQ(prior[2], 0.6);
}

TEST(TransformerPileTest, HydraPileHasAHeadPerStream) {
  const TransformerData data = three_streams();
  const Model model = tiny_model(3, 7);
  MixtureConfig mc;
  mc.alpha = 0.01;
  const simulacra::Mixture pile = simulacra::hydra_pile(model, data, mc);
  ASSERT_EQ(pile.size(), 3);
  EXPECT_EQ(pile.names(), data.names);
  EXPECT_DOUBLE_EQ(pile.prior()[0], 0.3);
  EXPECT_DOUBLE_EQ(pile.prior()[2], 0.6);
  EXPECT_DOUBLE_EQ(pile.config().alpha, 0.01);
  for (int k = 0; k < 3; ++k)
    EXPECT_EQ(scores(pile.persona(k), "Arr, ye"), scores(TransformerPersona(model, k), "Arr, ye")) << "head " << k;
}

TEST(TransformerPileTest, IndependentPileHasAModelPerStream) {
  const TransformerData data = three_streams();
  const std::vector<Model> models = {tiny_model(1, 1), tiny_model(1, 2), tiny_model(1, 3)};
  const simulacra::Mixture pile = simulacra::independent_pile(models, data, MixtureConfig{});
  ASSERT_EQ(pile.size(), 3);
  EXPECT_EQ(pile.names(), data.names);
  EXPECT_DOUBLE_EQ(pile.prior()[1], 0.1);
  for (int k = 0; k < 3; ++k)
    EXPECT_EQ(scores(pile.persona(k), "O moon"), scores(TransformerPersona(models[std::size_t(k)], 0), "O moon"))
        << "model " << k;
  EXPECT_NE(scores(pile.persona(0), "O moon"), scores(pile.persona(1), "O moon")) << "each persona its own model";
}

TEST(TransformerPileTest, RejectsMismatchedPiles) {
  const TransformerData data = three_streams();
  EXPECT_THROW(simulacra::hydra_pile(tiny_model(2, 1), data, MixtureConfig{}), InvalidArgument);
  EXPECT_THROW(simulacra::hydra_pile(nullptr, data, MixtureConfig{}), InvalidArgument);
  EXPECT_THROW(simulacra::independent_pile({tiny_model(1, 1), tiny_model(1, 2)}, data, MixtureConfig{}),
               InvalidArgument);
  EXPECT_THROW(simulacra::independent_pile({tiny_model(1, 1), tiny_model(2, 2), tiny_model(1, 3)}, data,
                                           MixtureConfig{}),
               InvalidArgument);
  TransformerData empty = data;
  empty.train = {{}, {}, {}};
  EXPECT_THROW(simulacra::stream_prior(empty), InvalidArgument);
  EXPECT_THROW(simulacra::stream_prior(TransformerData{}), InvalidArgument);
}

}  // namespace
