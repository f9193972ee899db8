// Tests of the byte-level tokenizer (tokenizer.hpp).
//
// The references are independent of the code: a table of hand-written byte
// strings (invalid UTF-8 included) with the token vectors written out by
// hand, and exact identities over random bytes and random tokens
// (decode(encode(s)) == s, encode(decode(t)) == t, encode of a concatenation
// is the concatenation). Token names follow the table in the header
// (printable ASCII as itself, four escapes, "<b>", "\xNN" for the rest).
#include "simulacra/tokenizer.hpp"

#include <cstdint>
#include <ostream>
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

// A byte string and its tokens, both written by hand.
struct EncodeCase {
  const char* name;
  std::string text;
  std::vector<Token> tokens;
};
void PrintTo(const EncodeCase& c, std::ostream* os) { *os << c.name; }

class TokenizerTableTest : public ::testing::TestWithParam<EncodeCase> {};

TEST_P(TokenizerTableTest, EncodesToTheHandWrittenTokens) {
  const EncodeCase& c = GetParam();
  EXPECT_EQ(encode(c.text), c.tokens);
  EXPECT_EQ(decode(c.tokens), c.text);
  std::vector<Token> document = c.tokens;
  document.push_back(256);
  EXPECT_EQ(encode_document(c.text), document);
}

INSTANTIATE_TEST_SUITE_P(
    HandWritten, TokenizerTableTest,
    ::testing::Values(
        EncodeCase{"Empty", "", {}},
        EncodeCase{"Ascii", "Arr, 7!", {65, 114, 114, 44, 32, 55, 33}},
        EncodeCase{"Controls", "\n\t\r", {10, 9, 13}},
        EncodeCase{"EmbeddedNuls", std::string("a\0b\0\0", 5), {97, 0, 98, 0, 0}},
        EncodeCase{"LowAndHighBytes", std::string("\x00\x01\x7f\x80\xff", 5), {0, 1, 127, 128, 255}},
        EncodeCase{"TwoByteUtf8", "\xC3\xA9t\xC3\xA9", {195, 169, 116, 195, 169}},             // "été"
        EncodeCase{"ThreeByteUtf8", "\xE2\x82\xAC", {226, 130, 172}},                           // "€"
        EncodeCase{"FourByteUtf8", "\xF0\x9F\x8E\xAD", {240, 159, 142, 173}},                   // a mask emoji
        EncodeCase{"BadContinuation", "\xC3\x28", {195, 40}},
        EncodeCase{"LoneContinuations", "\xA0\xA1", {160, 161}},
        EncodeCase{"BadSecondOfThree", "\xE2\x28\xA1", {226, 40, 161}},
        EncodeCase{"TruncatedThree", "\xE2\x82", {226, 130}},
        EncodeCase{"BadFourByte", "\xF0\x28\x8C\xBC", {240, 40, 140, 188}},
        EncodeCase{"FiveByteForm", "\xF8\xA1\xA1\xA1\xA1", {248, 161, 161, 161, 161}},
        EncodeCase{"OverlongSlash", "\xC0\xAF", {192, 175}},
        EncodeCase{"EncodedSurrogate", "\xED\xA0\x80", {237, 160, 128}},
        EncodeCase{"NeverValid", "\xFF\xFE\xFD", {255, 254, 253}},
        EncodeCase{"Latin1InAscii", "ok \xE9t\xE9", {111, 107, 32, 233, 116, 233}}),
    [](const ::testing::TestParamInfo<EncodeCase>& info) { return std::string(info.param.name); });

TEST(TokenizerTest, VocabularyConstants) {
  EXPECT_EQ(kBoundary, 256);
  EXPECT_EQ(kVocab, 257);
}

// Token b of the string of every byte value, in order, is b.
TEST(TokenizerTest, AllByteValuesRoundTrip) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  const std::vector<Token> tokens = encode(all);
  ASSERT_EQ(tokens.size(), 256u);
  for (int b = 0; b < 256; ++b) EXPECT_EQ(tokens[std::size_t(b)], b) << "byte " << b;
  EXPECT_EQ(decode(tokens), all);
  for (int b = 0; b < 256; ++b) {
    const std::string one(1, static_cast<char>(b));
    EXPECT_EQ(encode(one), std::vector<Token>{Token(b)}) << "byte " << b;
    EXPECT_EQ(decode(encode(one)), one) << "byte " << b;
  }
}

// Exact identities over random byte strings and random token vectors.
TEST(TokenizerTest, RandomBytesAndTokensRoundTrip) {
  std::mt19937_64 rng(20240611);
  std::uniform_int_distribution<int> byte(0, 255), length(0, 200);
  const auto random_bytes = [&] {
    std::string s(std::size_t(length(rng)), '\0');
    for (char& c : s) c = static_cast<char>(byte(rng));
    return s;
  };
  for (int i = 0; i < 2000; ++i) {
    SCOPED_TRACE(i);
    const std::string a = random_bytes(), b = random_bytes();
    const std::vector<Token> ta = encode(a), tb = encode(b);
    EXPECT_EQ(decode(ta), a);
    EXPECT_EQ(ta.size(), a.size());
    std::vector<Token> joined = ta;
    joined.insert(joined.end(), tb.begin(), tb.end());
    EXPECT_EQ(encode(a + b), joined);
    std::vector<Token> tokens(std::size_t(length(rng)));
    for (Token& t : tokens) t = byte(rng);
    EXPECT_EQ(encode(decode(tokens)), tokens);
  }
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
