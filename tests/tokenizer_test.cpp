// Tests of the byte-level tokenizer (tokenizer.hpp).
//
// The reference is the definition itself, written out here: token i of a text
// is its i-th byte as an unsigned value, the boundary is 256, and a token's
// name follows the table in the header (printable ASCII as itself, four
// escapes, "<b>", "\xNN" for the rest).
#include "simulacra/tokenizer.hpp"

#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "simulacra/error.hpp"

namespace {

using simulacra::decode;
using simulacra::encode;
using simulacra::encode_document;
using simulacra::kBoundary;
using simulacra::kVocab;
using simulacra::OutOfRange;
using simulacra::Token;
using simulacra::token_name;

// The tokens of `text` by definition: one per byte, its unsigned value.
std::vector<Token> reference_tokens(const std::string& text) {
  std::vector<Token> out;
  for (char c : text) out.push_back(Token(static_cast<unsigned char>(c)));
  return out;
}

// Checks encode against the definition and that decode(encode(s)) == s.
void expect_round_trip(const std::string& text) {
  const std::vector<Token> tokens = encode(text);
  EXPECT_EQ(tokens, reference_tokens(text));
  EXPECT_EQ(decode(tokens), text);
}

TEST(TokenizerTest, VocabularyConstants) {
  EXPECT_EQ(kBoundary, 256);
  EXPECT_EQ(kVocab, 257);
}

TEST(TokenizerTest, AllByteValuesRoundTrip) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  const std::vector<Token> tokens = encode(all);
  ASSERT_EQ(tokens.size(), 256u);
  for (int b = 0; b < 256; ++b) EXPECT_EQ(tokens[std::size_t(b)], b) << "byte " << b;
  EXPECT_EQ(decode(tokens), all);
  // Each byte alone, too.
  for (int b = 0; b < 256; ++b) expect_round_trip(std::string(1, static_cast<char>(b)));
}

TEST(TokenizerTest, InvalidUtf8RoundTrips) {
  const std::vector<std::string> cases = {
      "\xC3\x28",                  // bad continuation byte
      "\xA0\xA1",                  // lone continuation bytes
      "\xE2\x28\xA1",              // bad second byte of a 3-byte sequence
      "\xE2\x82",                  // truncated 3-byte sequence
      "\xF0\x28\x8C\xBC",          // bad 4-byte sequence
      "\xF8\xA1\xA1\xA1\xA1",      // 5-byte form (not UTF-8)
      "\xC0\xAF",                  // overlong '/'
      "\xED\xA0\x80",              // UTF-16 surrogate encoded
      "\xFF\xFE\xFD",              // bytes never valid in UTF-8
      "ok \xE9t\xE9 ok",           // Latin-1 inside ASCII
  };
  for (const std::string& s : cases) {
    SCOPED_TRACE(testing::PrintToString(s));
    expect_round_trip(s);
  }
}

TEST(TokenizerTest, EmbeddedNulsRoundTrip) {
  const std::string text("a\0b\0\0c\0", 7);
  ASSERT_EQ(text.size(), 7u);
  const std::vector<Token> tokens = encode(text);
  EXPECT_EQ(tokens, (std::vector<Token>{'a', 0, 'b', 0, 0, 'c', 0}));
  EXPECT_EQ(decode(tokens), text);
  EXPECT_EQ(decode(tokens).size(), 7u);
  expect_round_trip(std::string(1, '\0'));
  expect_round_trip(std::string());
}

TEST(TokenizerTest, RandomByteStringsRoundTrip) {
  std::mt19937_64 rng(20240611);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> length(0, 200);
  for (int i = 0; i < 2000; ++i) {
    std::string s(std::size_t(length(rng)), '\0');
    for (char& c : s) c = static_cast<char>(byte(rng));
    SCOPED_TRACE(i);
    expect_round_trip(s);
  }
}

TEST(TokenizerTest, EncodeDocumentAppendsBoundary) {
  for (const std::string& s : {std::string(), std::string("Arr"), std::string("a\0b", 3), std::string("\xFF\n")}) {
    std::vector<Token> expected = reference_tokens(s);
    expected.push_back(256);
    EXPECT_EQ(encode_document(s), expected);
  }
  EXPECT_EQ(encode_document("Arr"), (std::vector<Token>{'A', 'r', 'r', 256}));
  EXPECT_EQ(encode_document(""), (std::vector<Token>{256}));
}

TEST(TokenizerTest, DecodeBoundaryGivesBoundaryText) {
  EXPECT_EQ(decode({kBoundary}), "\n");
  EXPECT_EQ(decode({'a', kBoundary, 'b'}), "a\nb");
  EXPECT_EQ(decode({'a', kBoundary, 'b', kBoundary}, "<|end|>"), "a<|end|>b<|end|>");
  EXPECT_EQ(decode({kBoundary, kBoundary}, ""), "");
  EXPECT_EQ(decode({'x', kBoundary}, std::string_view("\0", 1)), std::string("x\0", 2));
  EXPECT_EQ(decode({}), "");
  // A document decodes to its text plus the boundary text.
  EXPECT_EQ(decode(encode_document("Arr, matey"), "|"), "Arr, matey|");
}

TEST(TokenizerTest, DecodeOutOfRangeThrows) {
  EXPECT_THROW(decode({-1}), OutOfRange);
  EXPECT_THROW(decode({257}), OutOfRange);
  EXPECT_THROW(decode({'a', 'b', 257}), OutOfRange);
  EXPECT_THROW(decode({'a', -1, 'b'}), OutOfRange);
  EXPECT_THROW(decode({INT32_MIN}), OutOfRange);
  EXPECT_THROW(decode({INT32_MAX}), OutOfRange);
  // OutOfRange is a std::out_of_range, with a message.
  try {
    decode({'a', 300});
    ADD_FAILURE() << "decode accepted token 300";
  } catch (const std::out_of_range& e) {
    EXPECT_NE(std::string(e.what()).find("300"), std::string::npos) << e.what();
  }
}

TEST(TokenizerTest, TokenNameOutOfRangeThrows) {
  EXPECT_THROW(token_name(-1), OutOfRange);
  EXPECT_THROW(token_name(257), OutOfRange);
  EXPECT_THROW(token_name(INT32_MIN), OutOfRange);
  EXPECT_THROW(token_name(INT32_MAX), OutOfRange);
}

TEST(TokenizerTest, TokenNameExamples) {
  EXPECT_EQ(token_name('A'), "A");
  EXPECT_EQ(token_name('z'), "z");
  EXPECT_EQ(token_name(' '), " ");
  EXPECT_EQ(token_name('~'), "~");
  EXPECT_EQ(token_name('\\'), "\\");
  EXPECT_EQ(token_name('\n'), "\\n");
  EXPECT_EQ(token_name('\t'), "\\t");
  EXPECT_EQ(token_name('\r'), "\\r");
  EXPECT_EQ(token_name(0x80), "\\x80");
  EXPECT_EQ(token_name(0x00), "\\x00");
  EXPECT_EQ(token_name(0x1f), "\\x1f");
  EXPECT_EQ(token_name(0x7f), "\\x7f");
  EXPECT_EQ(token_name(0xff), "\\xff");
  EXPECT_EQ(token_name(256), "<b>");
}

TEST(TokenizerTest, TokenNameMatchesTableForEveryToken) {
  const char* hex = "0123456789abcdef";
  std::set<std::string> seen;
  for (Token t = 0; t < kVocab; ++t) {
    std::string expected;
    if (t == 256)
      expected = "<b>";
    else if (t == '\n')
      expected = "\\n";
    else if (t == '\t')
      expected = "\\t";
    else if (t == '\r')
      expected = "\\r";
    else if (t >= 0x20 && t <= 0x7e)
      expected = std::string(1, static_cast<char>(t));
    else
      expected = std::string("\\x") + hex[t / 16] + hex[t % 16];
    EXPECT_EQ(token_name(t), expected) << "token " << t;
    seen.insert(token_name(t));
  }
  EXPECT_EQ(seen.size(), std::size_t(kVocab)) << "token names are not distinct";
}

}  // namespace
