// simulacra/tokenizer.hpp — byte-level tokens plus one document boundary.
//
// Token ids 0..255 are the bytes of the text, id 256 (kBoundary) marks a
// document boundary. The vocabulary has kVocab = 257 tokens. Every byte string
// round-trips exactly, invalid UTF-8 included: decode(encode(s)) == s.
//
// The boundary follows KenLM's sentence convention, with one token playing
// both roles: at the start of a document it is context only (like <s>, never
// predicted), at the end it is predicted (like </s>). A stream of documents is
// "doc1 <b> doc2 <b> ...": after a boundary is predicted, the next token starts
// a fresh document.
//
//   auto tokens = simulacra::encode("Arr, matey");      // 10 tokens
//   auto doc = simulacra::encode_document("Arr");       // 'A' 'r' 'r' <b>
//   std::string back = simulacra::decode(tokens);        // "Arr, matey"
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "simulacra/error.hpp"

namespace simulacra {

using Token = std::int32_t;

inline constexpr Token kBoundary = 256;  // document boundary token id
inline constexpr int kVocab = 257;       // bytes 0..255 plus the boundary

// The bytes of `text`, one token each (no boundary added).
inline std::vector<Token> encode(std::string_view text) {
  std::vector<Token> out(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) out[i] = static_cast<unsigned char>(text[i]);
  return out;
}

// The bytes of `text` followed by the end-of-document boundary: the token
// sequence whose probability is the probability of the document.
inline std::vector<Token> encode_document(std::string_view text) {
  std::vector<Token> out = encode(text);
  out.push_back(kBoundary);
  return out;
}

// The text of `tokens`. Boundary tokens become `boundary_text` (default: a
// newline); ids outside 0..256 throw OutOfRange.
inline std::string decode(const std::vector<Token>& tokens, std::string_view boundary_text = "\n") {
  std::string out;
  out.reserve(tokens.size());
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const Token t = tokens[i];
    SIMULACRA_CHECK(t >= 0 && t < kVocab, OutOfRange, "decode: token {} at position {} is outside 0..{}", t, i,
                    kVocab - 1);
    if (t == kBoundary)
      out.append(boundary_text);
    else
      out.push_back(static_cast<char>(t));
  }
  return out;
}

// A readable name for one token: printable ASCII as itself, "\n"-style escapes,
// "<b>" for the boundary, "\xNN" for other bytes.
inline std::string token_name(Token t) {
  SIMULACRA_CHECK(t >= 0 && t < kVocab, OutOfRange, "token_name: token {} is outside 0..{}", t, kVocab - 1);
  if (t == kBoundary) return "<b>";
  if (t == '\n') return "\\n";
  if (t == '\t') return "\\t";
  if (t == '\r') return "\\r";
  if (t >= 32 && t < 127) return std::string(1, static_cast<char>(t));
  return fmt::format("\\x{:02x}", t);
}

}  // namespace simulacra
