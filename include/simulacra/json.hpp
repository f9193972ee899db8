// simulacra/json.hpp — a small, strict JSON (RFC 8259) value, parser and writer.
//
// Used for file headers (safetensors), corpora in JSON Lines, and model
// metadata. A Value is one of null, bool, number, string, array, object:
//
//   auto v = simulacra::json::parse(R"({"name": "pirate", "weights": [0.5, 2]})");
//   v.at("name").as_string();              // "pirate"
//   v.at("weights").as_array()[1].as_int64();  // 2 (exact: the literal is an integer)
//   simulacra::json::dump(v);              // {"name":"pirate","weights":[0.5,2]}
//
//   json::Value built(json::Object{{"dtype", "F32"}, {"shape", json::Array{2, 3}}});
//
// Numbers are doubles; a number whose literal is an integer in the int64 range
// (or that was built from a C++ integer in that range) also keeps its exact
// int64 value, see is_integer(). Strings are byte strings meant to hold UTF-8:
// parse decodes every escape (\uXXXX surrogate pairs become UTF-8) and takes
// other bytes as they are, dump escapes only what JSON requires, so that
// parse(dump(v)) == v for every string, valid UTF-8 or not.
//
// Objects keep their members in insertion (or file) order; parse rejects
// duplicate keys, so find() and at() are unambiguous on parsed values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "simulacra/error.hpp"

namespace simulacra::json {

class Value;

using Array = std::vector<Value>;                          // JSON array
using Object = std::vector<std::pair<std::string, Value>>;  // JSON object, members in order

enum class Type { Null, Bool, Number, String, Array, Object };

// "null", "bool", "number", "string", "array" or "object".
std::string_view type_name(Type type);

namespace detail {
// A JSON number: always a double, plus the exact value when it is an int64.
struct Number {
  double value = 0.0;
  std::int64_t integer = 0;  // exact value, meaningful only when is_integer
  bool is_integer = false;
  // By the exact integers when both have one, else by the doubles.
  friend bool operator==(const Number& a, const Number& b) {
    return a.is_integer && b.is_integer ? a.integer == b.integer : a.value == b.value;
  }
};
}  // namespace detail

class Value {
 public:
  // ---- construction ---------------------------------------------------------
  Value() = default;  // null
  Value(std::nullptr_t) {}
  Value(bool b) : data_(b) {}
  Value(double d) : data_(detail::Number{d, 0, false}) {}
  Value(float f) : Value(static_cast<double>(f)) {}
  // Any integer type except bool. Values outside the int64 range (large
  // uint64) are kept as doubles only, so is_integer() is false for them.
  template <class T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  Value(T i) : data_(make_integer(i)) {}
  Value(const char* s) : data_(std::string(s)) {}
  Value(std::string_view s) : data_(std::string(s)) {}
  Value(std::string s) : data_(std::move(s)) {}
  Value(Array a) : data_(std::move(a)) {}
  Value(Object o) : data_(std::move(o)) {}
  Value(const void*) = delete;  // no silent pointer-to-bool conversion
  explicit Value(detail::Number n) : data_(n) {}  // for the parser ("-0" is both -0.0 and 0)

  // ---- inspection -----------------------------------------------------------
  Type type() const { return static_cast<Type>(data_.index()); }
  bool is_null() const { return type() == Type::Null; }
  bool is_bool() const { return type() == Type::Bool; }
  bool is_number() const { return type() == Type::Number; }
  bool is_string() const { return type() == Type::String; }
  bool is_array() const { return type() == Type::Array; }
  bool is_object() const { return type() == Type::Object; }
  // A number holding an exact int64: an integer literal ("-12", not "12.0"
  // or "1e3") within the int64 range, or a C++ integer within that range.
  bool is_integer() const { return is_number() && std::get<detail::Number>(data_).is_integer; }

  // ---- access ---------------------------------------------------------------
  // Each throws InvalidArgument naming the expected and the actual type.
  bool as_bool() const;
  double as_double() const;  // any number
  // The exact integer; throws InvalidArgument unless is_integer().
  std::int64_t as_int64() const;
  const std::string& as_string() const;
  const Array& as_array() const;
  Array& as_array();
  const Object& as_object() const;
  Object& as_object();

  // Object lookup (linear in the number of members). find returns nullptr
  // for a missing key; at throws OutOfRange naming the key. Both throw
  // InvalidArgument on a value that is not an object.
  const Value* find(std::string_view key) const;
  const Value& at(std::string_view key) const;

  // Structural equality. Numbers compare by their exact integers when both
  // have one, else by their doubles; objects compare member by member in
  // order, so {"a":1,"b":2} != {"b":2,"a":1}.
  friend bool operator==(const Value& a, const Value& b) { return a.data_ == b.data_; }
  friend bool operator!=(const Value& a, const Value& b) { return !(a == b); }

 private:
  template <class T>
  static detail::Number make_integer(T i) {
    if constexpr (std::is_signed_v<T>) {
      return {static_cast<double>(i), static_cast<std::int64_t>(i), true};
    } else {
      if (static_cast<std::uint64_t>(i) <= static_cast<std::uint64_t>(INT64_MAX))
        return {static_cast<double>(i), static_cast<std::int64_t>(i), true};
      return {static_cast<double>(i), 0, false};
    }
  }
  // Alternatives in the order of Type.
  std::variant<std::nullptr_t, bool, detail::Number, std::string, Array, Object> data_;
};

// The value of the JSON text `text` (any value at the top level, surrounded by
// optional whitespace). Throws InvalidArgument "json::parse: byte <offset>:
// expected <what>, found <what>" on: trailing characters, control characters
// (< 0x20) inside strings, bad or lone-surrogate \u escapes, leading zeros,
// numbers without digits or outside the double range, duplicate object keys,
// and nesting of arrays/objects deeper than kMaxDepth.
Value parse(std::string_view text);

inline constexpr int kMaxDepth = 256;  // deepest accepted array/object nesting

// Compact JSON text of `value` (no whitespace). Strings escape '"', '\' and
// bytes < 0x20 (as \u00XX); other bytes pass through unchanged. Integers are
// printed exactly, other numbers with 17 significant digits so that they
// parse back to the same double. Throws InvalidArgument on NaN or infinity,
// which JSON cannot represent.
std::string dump(const Value& value);

}  // namespace simulacra::json
