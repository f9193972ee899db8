// Tests for simulacra/json.hpp: parsing, rejection of malformed text, writing.
#include "simulacra/json.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>

namespace json = simulacra::json;
using simulacra::InvalidArgument;
using simulacra::OutOfRange;

namespace {

// The message of the InvalidArgument thrown by parse(text), or "" if none.
std::string parse_error(const std::string& text) {
  try {
    json::parse(text);
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  return "";
}

// Bit-exact equality of doubles (distinguishes -0.0 and 0.0).
bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

}  // namespace

TEST(JsonParseTest, Scalars) {
  EXPECT_TRUE(json::parse("null").is_null());
  EXPECT_TRUE(json::parse("true").as_bool());
  EXPECT_FALSE(json::parse("false").as_bool());
  EXPECT_EQ(json::parse("\"hi\"").as_string(), "hi");
  EXPECT_EQ(json::parse(" \t\r\n 42 \n").as_int64(), 42);
  EXPECT_DOUBLE_EQ(json::parse("3.25").as_double(), 3.25);
  EXPECT_DOUBLE_EQ(json::parse("-1.5e-3").as_double(), -0.0015);
  EXPECT_DOUBLE_EQ(json::parse("2E+2").as_double(), 200.0);
}

TEST(JsonParseTest, IntegerLiteralsKeepExactValues) {
  // 2^53 + 1 is not representable as a double; the int64 must be exact.
  const auto big = json::parse("9007199254740993");
  ASSERT_TRUE(big.is_integer());
  EXPECT_EQ(big.as_int64(), 9007199254740993LL);
  EXPECT_EQ(json::parse("9223372036854775807").as_int64(), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(json::parse("-9223372036854775808").as_int64(), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(json::parse("-0").as_int64(), 0);
  // Outside int64, with a fraction or an exponent: a double only.
  const auto huge = json::parse("9223372036854775808");
  EXPECT_FALSE(huge.is_integer());
  EXPECT_DOUBLE_EQ(huge.as_double(), 9223372036854775808.0);
  EXPECT_FALSE(json::parse("1.0").is_integer());
  EXPECT_FALSE(json::parse("1e3").is_integer());
  EXPECT_THROW(json::parse("1.5").as_int64(), InvalidArgument);
}

TEST(JsonParseTest, UnderflowBecomesZero) {
  EXPECT_TRUE(same_bits(json::parse("1e-400").as_double(), 0.0));
  EXPECT_TRUE(same_bits(json::parse("-1e-400").as_double(), -0.0));
  EXPECT_TRUE(same_bits(json::parse("0.0000001e-320").as_double(), 0.0));
  EXPECT_EQ(json::parse("5e-324").as_double(), std::numeric_limits<double>::denorm_min());
}

TEST(JsonParseTest, Escapes) {
  EXPECT_EQ(json::parse(R"("\"\\\/\b\f\n\r\t")").as_string(), "\"\\/\b\f\n\r\t");
  EXPECT_EQ(json::parse(R"("caf\u00e9")").as_string(), "caf\xC3\xA9");
  EXPECT_EQ(json::parse(R"("\u20AC")").as_string(), "\xE2\x82\xAC");
  EXPECT_EQ(json::parse(R"("\ud83d\ude00")").as_string(), "\xF0\x9F\x98\x80");  // U+1F600
  EXPECT_EQ(json::parse(R"("\uDBFF\uDFFF")").as_string(), "\xF4\x8F\xBF\xBF");  // U+10FFFF
  EXPECT_EQ(json::parse(R"("a\u0000b")").as_string(), std::string("a\0b", 3));
  // Raw non-ASCII bytes pass through.
  EXPECT_EQ(json::parse("\"\xC3\xA9\xFF\"").as_string(), "\xC3\xA9\xFF");
}

TEST(JsonParseTest, ContainersKeepOrder) {
  const auto v = json::parse(R"({"z": [1, "two", null, {"k": false}], "a": {}, "m": []})");
  ASSERT_TRUE(v.is_object());
  const auto& members = v.as_object();
  ASSERT_EQ(members.size(), 3u);
  EXPECT_EQ(members[0].first, "z");
  EXPECT_EQ(members[1].first, "a");
  EXPECT_EQ(members[2].first, "m");
  const auto& z = v.at("z").as_array();
  ASSERT_EQ(z.size(), 4u);
  EXPECT_EQ(z[0].as_int64(), 1);
  EXPECT_EQ(z[1].as_string(), "two");
  EXPECT_TRUE(z[2].is_null());
  EXPECT_FALSE(z[3].at("k").as_bool());
  EXPECT_TRUE(v.at("a").as_object().empty());
  EXPECT_TRUE(v.at("m").as_array().empty());
  EXPECT_EQ(v.find("nope"), nullptr);
  EXPECT_NE(v.find("m"), nullptr);
}

TEST(JsonValueTest, AccessorsNameBothTypes) {
  try {
    json::parse("12").as_string();
    FAIL() << "no exception";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("expected string"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("found number"), std::string::npos) << e.what();
  }
  EXPECT_THROW(json::Value().as_bool(), InvalidArgument);
  EXPECT_THROW(json::Value("x").as_double(), InvalidArgument);
  EXPECT_THROW(json::Value(1).as_array(), InvalidArgument);
  EXPECT_THROW(json::Value(json::Array{}).as_object(), InvalidArgument);
  EXPECT_THROW(json::Value(json::Array{}).find("k"), InvalidArgument);
  try {
    json::parse(R"({"a": 1})").at("missing");
    FAIL() << "no exception";
  } catch (const OutOfRange& e) {
    EXPECT_NE(std::string(e.what()).find("missing"), std::string::npos) << e.what();
  }
}

TEST(JsonValueTest, ConstructorsAndEquality) {
  EXPECT_TRUE(json::Value().is_null());
  EXPECT_TRUE(json::Value(nullptr).is_null());
  EXPECT_TRUE(json::Value(true).is_bool());
  EXPECT_TRUE(json::Value(7).is_integer());
  EXPECT_TRUE(json::Value(std::int64_t{-7}).is_integer());
  EXPECT_TRUE(json::Value(7u).is_integer());
  EXPECT_FALSE(json::Value(std::numeric_limits<std::uint64_t>::max()).is_integer());
  EXPECT_FALSE(json::Value(7.0).is_integer());
  EXPECT_TRUE(json::Value(2.5f).is_number());
  EXPECT_EQ(json::Value("abc").as_string(), "abc");
  EXPECT_EQ(json::Value(std::string("abc")).type(), json::Type::String);
  EXPECT_EQ(json::Value(std::string_view("abc")).as_string(), "abc");

  const json::Value built(json::Object{{"dtype", "F32"}, {"shape", json::Array{2, 3}}, {"ok", true}});
  EXPECT_EQ(built, json::parse(R"({"dtype":"F32","shape":[2,3],"ok":true})"));
  EXPECT_NE(built, json::parse(R"({"shape":[2,3],"dtype":"F32","ok":true})"));  // order matters
  EXPECT_EQ(json::Value(3), json::Value(3.0));
  EXPECT_NE(json::Value(3), json::Value("3"));
  EXPECT_EQ(json::type_name(json::Type::Object), "object");
}

// ---- rejection --------------------------------------------------------------

struct BadJson {
  const char* text;
  const char* message_part;  // a substring the message must contain
};

class JsonRejectTest : public testing::TestWithParam<BadJson> {};

TEST_P(JsonRejectTest, ThrowsWithOffset) {
  const std::string message = parse_error(GetParam().text);
  ASSERT_FALSE(message.empty()) << "accepted: " << GetParam().text;
  EXPECT_NE(message.find(GetParam().message_part), std::string::npos) << message;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, JsonRejectTest,
    testing::Values(BadJson{"", "byte 0: expected a value, found end of input"},
                    BadJson{"   ", "byte 3: expected a value"},
                    BadJson{"[1,2", "byte 4: expected ',' or ']'"},
                    BadJson{"[1,]", "byte 3: expected a value, found ']'"},
                    BadJson{"[1 2]", "byte 3: expected ',' or ']'"},
                    BadJson{R"({"a":1,})", "byte 7: expected '\"' starting an object key"},
                    BadJson{R"({"a" 1})", "byte 5: expected ':'"},
                    BadJson{"{1:2}", "byte 1: expected '\"'"},
                    BadJson{R"({"a":1 "b":2})", "byte 7: expected ',' or '}'"},
                    BadJson{"01", "byte 0"}, BadJson{"-01", "leading zeros"},
                    BadJson{"[00]", "leading zeros"},
                    BadJson{"1.", "byte 2: expected a digit after the decimal point"},
                    BadJson{".5", "byte 0: expected a value"},
                    BadJson{"1e", "byte 2: expected a digit in the exponent"},
                    BadJson{"1e+", "byte 3"}, BadJson{"+1", "byte 0"}, BadJson{"-", "byte 1: expected a digit"},
                    BadJson{"1e400", "too large"}, BadJson{"-1e400", "too large"},
                    BadJson{"NaN", "byte 0"}, BadJson{"Infinity", "byte 0"},
                    BadJson{"tru", "expected 'true'"}, BadJson{"nul", "expected 'null'"},
                    BadJson{"True", "byte 0"}, BadJson{"'a'", "byte 0"},
                    BadJson{"\"abc", "byte 4: expected '\"' closing the string"},
                    BadJson{"\"a\tb\"", "byte 2: expected a string character"},
                    BadJson{"\"a\nb\"", "control characters"},
                    BadJson{"\"\x1f\"", "byte 0x1f"},
                    BadJson{R"("\x")", "byte 2: expected one of"},
                    BadJson{R"("\u12")", "4 hex digits"}, BadJson{R"("\u12G4")", "4 hex digits"},
                    BadJson{R"("\ud800")", "byte 1: expected a low surrogate"},
                    BadJson{R"("\ud800x")", "low surrogate"},
                    BadJson{R"("\ud800\u0041")", "low surrogate"},
                    BadJson{R"("\ud800\ud800")", "low surrogate"},
                    BadJson{R"("\udc00")", "lone low surrogate"},
                    BadJson{R"(["ok", "\uDFFF"])", "byte 8"},
                    BadJson{"1 2", "byte 2: expected end of input"}, BadJson{"{} x", "byte 3"},
                    BadJson{"[]]", "byte 2"}, BadJson{"null,", "byte 4"},
                    BadJson{R"({"a":1,"a":2})", "byte 7: expected unique object keys"}));

TEST(JsonParseTest, NestingLimit) {
  const auto nested = [](int depth, char open, const std::string& inner, char close) {
    return std::string(static_cast<std::size_t>(depth), open) + inner + std::string(static_cast<std::size_t>(depth), close);
  };
  EXPECT_NO_THROW(json::parse(nested(json::kMaxDepth, '[', "", ']')));
  EXPECT_NE(parse_error(nested(json::kMaxDepth + 1, '[', "", ']')).find("nested"), std::string::npos);
  std::string objects;
  for (int i = 0; i < json::kMaxDepth; ++i) objects += R"({"k":)";
  objects += "1" + std::string(json::kMaxDepth, '}');
  EXPECT_NO_THROW(json::parse(objects));
  EXPECT_FALSE(parse_error("[" + objects + "]").empty());
  EXPECT_FALSE(parse_error(nested(100000, '[', "", ']')).empty());  // no stack overflow
}

// ---- writing ------------------------------------------------------------------

TEST(JsonDumpTest, Compact) {
  const std::string text = R"({"a":[1,-2,3.5,true,false,null],"b":{"c":"d"},"e":[],"f":{}})";
  EXPECT_EQ(json::dump(json::parse(text)), text);
  EXPECT_EQ(json::dump(json::parse(" [ 1 , { \"x\" : [ ] } ] ")), R"([1,{"x":[]}])");
}

TEST(JsonDumpTest, EscapesOnlyWhatJsonRequires) {
  EXPECT_EQ(json::dump(json::Value("q\"b\\s/")), R"("q\"b\\s/")");
  EXPECT_EQ(json::dump(json::Value(std::string("\n\t\x01\x1f\x7f", 5))), "\"\\u000a\\u0009\\u0001\\u001f\x7f\"");
  EXPECT_EQ(json::dump(json::Value(std::string("a\0b", 3))), R"("a\u0000b")");
  EXPECT_EQ(json::dump(json::Value("caf\xC3\xA9 \xFF")), "\"caf\xC3\xA9 \xFF\"");  // bytes unchanged
}

TEST(JsonDumpTest, StringsRoundTrip) {
  std::string all_bytes;
  for (int c = 0; c < 256; ++c) all_bytes.push_back(static_cast<char>(c));
  EXPECT_EQ(json::parse(json::dump(json::Value(all_bytes))).as_string(), all_bytes);
}

TEST(JsonDumpTest, IntegersExact) {
  EXPECT_EQ(json::dump(json::Value(std::numeric_limits<std::int64_t>::min())), "-9223372036854775808");
  EXPECT_EQ(json::dump(json::Value(std::numeric_limits<std::int64_t>::max())), "9223372036854775807");
  EXPECT_EQ(json::dump(json::parse("9007199254740993")), "9007199254740993");
}

TEST(JsonDumpTest, DoublesRoundTripWith17Digits) {
  const double values[] = {0.1, 1.0 / 3.0, -2.5, 1e-300, 5e-324, 2.2250738585072014e-308,
                           std::numeric_limits<double>::max(), 123456.789, -0.0, 1e22, 3.0};
  for (const double d : values) {
    const std::string text = json::dump(json::Value(d));
    char reference[64];
    std::snprintf(reference, sizeof reference, "%.17g", d);
    EXPECT_EQ(text, reference);
    EXPECT_TRUE(same_bits(json::parse(text).as_double(), d)) << text;
  }
}

TEST(JsonDumpTest, RejectsNonFinite) {
  EXPECT_THROW(json::dump(json::Value(std::nan(""))), InvalidArgument);
  EXPECT_THROW(json::dump(json::Value(json::Array{1, std::numeric_limits<double>::infinity()})), InvalidArgument);
  EXPECT_THROW(json::dump(json::Value(-std::numeric_limits<double>::infinity())), InvalidArgument);
}
