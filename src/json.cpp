// simulacra/json.cpp — recursive-descent JSON parser and compact writer.
#include "simulacra/json.hpp"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <iterator>
#include <unordered_set>

namespace simulacra::json {

std::string_view type_name(Type type) {
  switch (type) {
    case Type::Null: return "null";
    case Type::Bool: return "bool";
    case Type::Number: return "number";
    case Type::String: return "string";
    case Type::Array: return "array";
    case Type::Object: return "object";
  }
  assert(false && "unknown json::Type");
  return "?";
}

namespace {

[[noreturn]] void wrong_type(Type expected, Type actual) {
  throw InvalidArgument(fmt::format("json: expected {}, found {}", type_name(expected), type_name(actual)));
}

}  // namespace

bool Value::as_bool() const {
  if (!is_bool()) wrong_type(Type::Bool, type());
  return std::get<bool>(data_);
}

double Value::as_double() const {
  if (!is_number()) wrong_type(Type::Number, type());
  return std::get<detail::Number>(data_).value;
}

std::int64_t Value::as_int64() const {
  if (!is_number()) wrong_type(Type::Number, type());
  const detail::Number& n = std::get<detail::Number>(data_);
  SIMULACRA_CHECK(n.is_integer, InvalidArgument, "json: expected an integer, found the non-integer number {:.17g}",
                  n.value);
  return n.integer;
}

const std::string& Value::as_string() const {
  if (!is_string()) wrong_type(Type::String, type());
  return std::get<std::string>(data_);
}

const Array& Value::as_array() const {
  if (!is_array()) wrong_type(Type::Array, type());
  return std::get<Array>(data_);
}

Array& Value::as_array() {
  if (!is_array()) wrong_type(Type::Array, type());
  return std::get<Array>(data_);
}

const Object& Value::as_object() const {
  if (!is_object()) wrong_type(Type::Object, type());
  return std::get<Object>(data_);
}

Object& Value::as_object() {
  if (!is_object()) wrong_type(Type::Object, type());
  return std::get<Object>(data_);
}

const Value* Value::find(std::string_view key) const {
  for (const auto& [k, v] : as_object())
    if (k == key) return &v;
  return nullptr;
}

const Value& Value::at(std::string_view key) const {
  const Value* v = find(key);
  SIMULACRA_CHECK(v != nullptr, OutOfRange, "json: object has no key \"{}\"", key);
  return *v;
}

// ---- parsing ------------------------------------------------------------------

namespace {

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Value document() {
    skip_whitespace();
    Value v = value(0);
    skip_whitespace();
    if (pos_ != text_.size()) expected("end of input after the value");
    return v;
  }

 private:
  bool at_end() const { return pos_ >= text_.size(); }
  unsigned char peek() const { return static_cast<unsigned char>(text_[pos_]); }

  // "end of input", "'x'" or "byte 0xNN" for the byte at `at`.
  std::string describe(std::size_t at) const {
    if (at >= text_.size()) return "end of input";
    const auto c = static_cast<unsigned char>(text_[at]);
    if (c >= 0x20 && c < 0x7f) return fmt::format("'{}'", static_cast<char>(c));
    return fmt::format("byte 0x{:02x}", c);
  }
  [[noreturn]] void fail_at(std::size_t at, std::string_view message) const {
    throw InvalidArgument(fmt::format("json::parse: byte {}: {}", at, message));
  }
  [[noreturn]] void expected(std::string_view what) const {
    fail_at(pos_, fmt::format("expected {}, found {}", what, describe(pos_)));
  }

  void skip_whitespace() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) ++pos_;
  }

  Value value(int depth) {
    if (at_end()) expected("a value");
    switch (peek()) {
      case '{': return object(depth + 1);
      case '[': return array(depth + 1);
      case '"': return Value(string());
      case 't': literal("true"); return Value(true);
      case 'f': literal("false"); return Value(false);
      case 'n': literal("null"); return Value();
      default:
        if (peek() == '-' || (peek() >= '0' && peek() <= '9')) return number();
        expected("a value");
    }
  }

  void literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) expected(fmt::format("'{}'", word));
    pos_ += word.size();
  }

  void check_depth(int depth) const {
    if (depth > kMaxDepth)
      fail_at(pos_, fmt::format("expected at most {} nested arrays/objects, found deeper nesting", kMaxDepth));
  }

  Value array(int depth) {
    check_depth(depth);
    ++pos_;  // '['
    Array items;
    skip_whitespace();
    if (!at_end() && peek() == ']') {
      ++pos_;
      return Value(std::move(items));
    }
    for (;;) {
      skip_whitespace();
      items.push_back(value(depth));
      skip_whitespace();
      if (!at_end() && peek() == ',') {
        ++pos_;
      } else if (!at_end() && peek() == ']') {
        ++pos_;
        return Value(std::move(items));
      } else {
        expected("',' or ']' after an array element");
      }
    }
  }

  Value object(int depth) {
    check_depth(depth);
    ++pos_;  // '{'
    Object members;
    std::unordered_set<std::string> keys;
    skip_whitespace();
    if (!at_end() && peek() == '}') {
      ++pos_;
      return Value(std::move(members));
    }
    for (;;) {
      skip_whitespace();
      if (at_end() || peek() != '"') expected("'\"' starting an object key");
      const std::size_t key_at = pos_;
      std::string key = string();
      if (!keys.insert(key).second) fail_at(key_at, fmt::format("expected unique object keys, found \"{}\" twice", key));
      skip_whitespace();
      if (at_end() || peek() != ':') expected("':' after an object key");
      ++pos_;
      skip_whitespace();
      Value v = value(depth);
      members.emplace_back(std::move(key), std::move(v));
      skip_whitespace();
      if (!at_end() && peek() == ',') {
        ++pos_;
      } else if (!at_end() && peek() == '}') {
        ++pos_;
        return Value(std::move(members));
      } else {
        expected("',' or '}' after an object member");
      }
    }
  }

  // Four hex digits after "\u"; pos_ is on the first digit.
  unsigned hex4() {
    unsigned cp = 0;
    for (int i = 0; i < 4; ++i) {
      if (at_end()) expected("4 hex digits after \\u");
      const unsigned char c = peek();
      unsigned d;
      if (c >= '0' && c <= '9')
        d = c - '0';
      else if (c >= 'a' && c <= 'f')
        d = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        d = c - 'A' + 10;
      else
        expected("4 hex digits after \\u");
      cp = cp * 16 + d;
      ++pos_;
    }
    return cp;
  }

  static void append_utf8(std::string& out, unsigned cp) {
    assert(cp <= 0x10FFFF);
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  // A string literal; pos_ is on the opening quote.
  std::string string() {
    ++pos_;  // '"'
    std::string out;
    for (;;) {
      if (at_end()) expected("'\"' closing the string");
      const unsigned char c = peek();
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c < 0x20) expected("a string character (control characters must be escaped)");
      if (c != '\\') {
        out.push_back(static_cast<char>(c));
        ++pos_;
        continue;
      }
      const std::size_t escape_at = pos_;
      ++pos_;
      if (at_end()) expected("an escape character after '\\'");
      const unsigned char e = peek();
      ++pos_;
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          unsigned cp = hex4();
          if (cp >= 0xDC00 && cp <= 0xDFFF)
            fail_at(escape_at, fmt::format("expected a code point, found the lone low surrogate \\u{:04X}", cp));
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            const bool pair = text_.substr(pos_, 2) == "\\u";
            unsigned low = 0;
            if (pair) {
              pos_ += 2;
              low = hex4();
            }
            if (!pair || low < 0xDC00 || low > 0xDFFF)
              fail_at(escape_at, fmt::format("expected a low surrogate \\uDC00-\\uDFFF after the high surrogate \\u{:04X}",
                                             cp));
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          append_utf8(out, cp);
          break;
        }
        default:
          pos_ = escape_at + 1;
          expected("one of \" \\ / b f n r t u after '\\'");
      }
    }
  }

  bool digit_here() const { return !at_end() && peek() >= '0' && peek() <= '9'; }

  Value number() {
    const std::size_t start = pos_;
    if (peek() == '-') ++pos_;
    if (!digit_here()) expected("a digit");
    if (peek() == '0') {
      ++pos_;
      if (digit_here()) fail_at(start, "expected a number, found a number with leading zeros");
    } else {
      while (digit_here()) ++pos_;
    }
    bool integer = true;
    if (!at_end() && peek() == '.') {
      integer = false;
      ++pos_;
      if (!digit_here()) expected("a digit after the decimal point");
      while (digit_here()) ++pos_;
    }
    if (!at_end() && (peek() == 'e' || peek() == 'E')) {
      integer = false;
      ++pos_;
      if (!at_end() && (peek() == '+' || peek() == '-')) ++pos_;
      if (!digit_here()) expected("a digit in the exponent");
      while (digit_here()) ++pos_;
    }
    const char* first = text_.data() + start;
    const char* last = text_.data() + pos_;
    if (integer) {
      std::int64_t i = 0;
      const auto r = std::from_chars(first, last, i);
      if (r.ec == std::errc() && r.ptr == last)
        return Value(detail::Number{i == 0 && *first == '-' ? -0.0 : static_cast<double>(i), i, true});
      // Outside the int64 range: a double only.
    }
    double d = 0.0;
    const auto r = std::from_chars(first, last, d);
    if (r.ec == std::errc::result_out_of_range) {
      if (!underflows(std::string_view(first, static_cast<std::size_t>(last - first))))
        fail_at(start, "expected a number within the double range, found one too large");
      d = *first == '-' ? -0.0 : 0.0;
    } else {
      assert(r.ec == std::errc() && r.ptr == last);
    }
    return Value(d);
  }

  // Whether a syntactically valid number literal that does not fit a double
  // is too small (rather than too large): its leading significant digit sits
  // below the decimal point.
  static bool underflows(std::string_view literal) {
    std::int64_t int_digits = 0, leading_zeros = 0, exponent = 0;
    bool in_fraction = false, seen_nonzero = false;
    std::size_t i = 0;
    if (literal[i] == '-') ++i;
    for (; i < literal.size() && literal[i] != 'e' && literal[i] != 'E'; ++i) {
      const char c = literal[i];
      if (c == '.') {
        in_fraction = true;
      } else if (!seen_nonzero && c == '0') {
        if (in_fraction) ++leading_zeros;
      } else {
        seen_nonzero = true;
        if (!in_fraction) ++int_digits;
      }
    }
    if (i < literal.size()) {
      ++i;
      bool negative = false;
      if (literal[i] == '+' || literal[i] == '-') negative = literal[i++] == '-';
      for (; i < literal.size(); ++i) exponent = std::min<std::int64_t>(exponent * 10 + (literal[i] - '0'), 1 << 30);
      if (negative) exponent = -exponent;
    }
    // The leading significant digit is worth 10^magnitude.
    const std::int64_t magnitude = int_digits > 0 ? int_digits - 1 + exponent : -(leading_zeros + 1) + exponent;
    return magnitude < 0;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

Value parse(std::string_view text) { return Parser(text).document(); }

// ---- writing ------------------------------------------------------------------

namespace {

void write_string(std::string& out, const std::string& s) {
  out.push_back('"');
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c < 0x20) {
      fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
    } else {
      out.push_back(ch);
    }
  }
  out.push_back('"');
}

void write(std::string& out, const Value& v) {
  switch (v.type()) {
    case Type::Null: out += "null"; return;
    case Type::Bool: out += v.as_bool() ? "true" : "false"; return;
    case Type::Number: {
      if (v.is_integer()) {
        fmt::format_to(std::back_inserter(out), "{}", v.as_int64());
        return;
      }
      const double d = v.as_double();
      SIMULACRA_CHECK(std::isfinite(d), InvalidArgument,
                      "json::dump: number {} cannot be written as JSON (NaN and infinity are not allowed)", d);
      fmt::format_to(std::back_inserter(out), "{:.17g}", d);
      return;
    }
    case Type::String: write_string(out, v.as_string()); return;
    case Type::Array: {
      out.push_back('[');
      bool first = true;
      for (const Value& item : v.as_array()) {
        if (!first) out.push_back(',');
        first = false;
        write(out, item);
      }
      out.push_back(']');
      return;
    }
    case Type::Object: {
      out.push_back('{');
      bool first = true;
      for (const auto& [key, item] : v.as_object()) {
        if (!first) out.push_back(',');
        first = false;
        write_string(out, key);
        out.push_back(':');
        write(out, item);
      }
      out.push_back('}');
      return;
    }
  }
}

}  // namespace

std::string dump(const Value& value) {
  std::string out;
  write(out, value);
  return out;
}

}  // namespace simulacra::json
