// simulacra/safetensors.cpp — safetensors reading (validated) and atomic writing.
#include "simulacra/safetensors.hpp"

#include <algorithm>
#include <cassert>
#include <functional>
#include <limits>
#include <tuple>

#include <fmt/ranges.h>

#include "simulacra/file_io.hpp"
#include "simulacra/json.hpp"

// Tensor bytes are the host's in-memory representation, which the format
// requires to be little-endian.
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__)
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors I/O assumes a little-endian host");
#endif

namespace simulacra {

namespace {

constexpr DType kAllDTypes[] = {DType::F32, DType::F64, DType::I32, DType::I64, DType::U32, DType::U16, DType::U8};
constexpr std::uint64_t kMaxHeaderBytes = 100u << 20;  // 100 MB

// numel(shape) * elem_size in bytes, or false if a dimension is negative or
// the product of the non-zero dimensions and elem_size overflows int64 (even
// when a zero dimension makes the size 0, so that no accepted shape can
// overflow a product of its dimensions).
bool byte_size(const std::vector<std::int64_t>& shape, std::int64_t elem_size, std::int64_t* bytes) {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  std::int64_t n = elem_size;
  bool empty = false;
  for (const std::int64_t d : shape) {
    if (d < 0) return false;
    if (d == 0) {
      empty = true;
      continue;
    }
    if (n > kMax / d) return false;
    n *= d;
  }
  *bytes = empty ? 0 : n;
  return true;
}

}  // namespace

std::size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::F32: return 4;
    case DType::F64: return 8;
    case DType::I32: return 4;
    case DType::I64: return 8;
    case DType::U32: return 4;
    case DType::U16: return 2;
    case DType::U8: return 1;
  }
  assert(false && "unknown DType");
  return 0;
}

std::string_view dtype_name(DType dtype) {
  switch (dtype) {
    case DType::F32: return "F32";
    case DType::F64: return "F64";
    case DType::I32: return "I32";
    case DType::I64: return "I64";
    case DType::U32: return "U32";
    case DType::U16: return "U16";
    case DType::U8: return "U8";
  }
  assert(false && "unknown DType");
  return "?";
}

std::int64_t Tensor::numel() const {
  std::int64_t bytes = 0;
  SIMULACRA_CHECK(byte_size(shape, 1, &bytes), InvalidArgument,
                  "Tensor::numel: shape [{}] has a negative dimension or a product beyond 64 bits",
                  fmt::join(shape, ", "));
  return bytes;
}

// ---- TensorFile ---------------------------------------------------------------

void TensorFile::put(const std::string& name, Tensor tensor) {
  SIMULACRA_CHECK(!name.empty(), InvalidArgument, "TensorFile::put: name must not be empty");
  SIMULACRA_CHECK(name != "__metadata__", InvalidArgument, "TensorFile::put: name \"__metadata__\" is reserved");
  SIMULACRA_CHECK(!has(name), InvalidArgument, "TensorFile::put: a tensor named \"{}\" already exists", name);
  std::int64_t bytes = 0;
  SIMULACRA_CHECK(byte_size(tensor.shape, static_cast<std::int64_t>(dtype_size(tensor.dtype)), &bytes),
                  InvalidArgument, "TensorFile::put: tensor \"{}\" has shape [{}]: dimensions must be >= 0 and the "
                  "size must fit in 64 bits", name, fmt::join(tensor.shape, ", "));
  SIMULACRA_CHECK(static_cast<std::uint64_t>(bytes) == tensor.bytes.size(), InvalidArgument,
                  "TensorFile::put: tensor \"{}\" of shape [{}] and dtype {} needs {} bytes, got {}", name,
                  fmt::join(tensor.shape, ", "), dtype_name(tensor.dtype), bytes, tensor.bytes.size());
  tensors_.emplace(name, std::move(tensor));
}

void TensorFile::put_bytes(const std::string& name, DType dtype, std::vector<std::int64_t> shape, const void* data) {
  std::int64_t bytes = 0;
  SIMULACRA_CHECK(byte_size(shape, static_cast<std::int64_t>(dtype_size(dtype)), &bytes), InvalidArgument,
                  "TensorFile::put: tensor \"{}\" has shape [{}]: dimensions must be >= 0 and the size must fit in "
                  "64 bits", name, fmt::join(shape, ", "));
  SIMULACRA_CHECK(data != nullptr || bytes == 0, InvalidArgument,
                  "TensorFile::put: tensor \"{}\" of shape [{}] has null data", name, fmt::join(shape, ", "));
  Tensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.bytes.resize(static_cast<std::size_t>(bytes));
  if (bytes > 0) std::memcpy(t.bytes.data(), data, t.bytes.size());
  put(name, std::move(t));
}

const Tensor& TensorFile::get(const std::string& name) const {
  const auto it = tensors_.find(name);
  SIMULACRA_CHECK(it != tensors_.end(), FileError, "TensorFile: no tensor named \"{}\"", name);
  return it->second;
}

const Tensor& TensorFile::get_checked(const std::string& name, DType dtype) const {
  const Tensor& t = get(name);
  SIMULACRA_CHECK(t.dtype == dtype, FileError, "TensorFile: tensor \"{}\" has dtype {}, expected {}", name,
                  dtype_name(t.dtype), dtype_name(dtype));
  return t;
}

std::vector<std::string> TensorFile::names() const {
  std::vector<std::string> out;
  out.reserve(tensors_.size());
  for (const auto& [name, t] : tensors_) out.push_back(name);
  return out;
}

// ---- writing ------------------------------------------------------------------

namespace {

// The 8-byte header length and the header JSON, padded with spaces so that
// the data buffer starts at a multiple of 8.
std::string header_bytes(const TensorFile& file) {
  json::Object header;
  if (!file.metadata.empty()) {
    json::Object meta;
    for (const auto& [k, v] : file.metadata) meta.emplace_back(k, v);
    header.emplace_back("__metadata__", std::move(meta));
  }
  std::int64_t offset = 0;
  for (const std::string& name : file.names()) {
    const Tensor& t = file.get(name);
    const auto end = offset + static_cast<std::int64_t>(t.bytes.size());
    header.emplace_back(name, json::Object{{"dtype", dtype_name(t.dtype)},
                                           {"shape", json::Array(t.shape.begin(), t.shape.end())},
                                           {"data_offsets", json::Array{offset, end}}});
    offset = end;
  }
  std::string text = json::dump(json::Value(std::move(header)));
  text.append((8 - (8 + text.size()) % 8) % 8, ' ');
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[std::size_t(i)] = static_cast<char>(static_cast<std::uint64_t>(text.size()) >> (8 * i));
  return out + text;
}

// The pieces of the file: the header, then each tensor's bytes in name order.
std::vector<std::string_view> file_pieces(const TensorFile& file, const std::string& header) {
  std::vector<std::string_view> pieces = {header};
  for (const std::string& name : file.names()) {
    const Tensor& t = file.get(name);
    pieces.emplace_back(reinterpret_cast<const char*>(t.bytes.data()), t.bytes.size());
  }
  return pieces;
}

}  // namespace

std::string serialize_safetensors(const TensorFile& file) {
  const std::string header = header_bytes(file);
  std::string out;
  for (const std::string_view piece : file_pieces(file, header)) out.append(piece);
  return out;
}

void write_safetensors(const std::string& path, const TensorFile& file) {
  const std::string header = header_bytes(file);
  write_file_atomic(path, file_pieces(file, header));
}

// ---- reading ------------------------------------------------------------------

namespace {

// Reads `size` bytes at `offset` of the source into `out`; throws FileError
// naming `what` when it cannot.
using ReadAt = std::function<void(std::uint64_t offset, void* out, std::size_t size, std::string_view what)>;

// One file (on disk or in memory) being read and validated; every failure is
// a FileError naming it.
class Reader {
 public:
  Reader(std::string name, std::uint64_t size, ReadAt read_at)
      : name_(std::move(name)), size_(size), read_at_(std::move(read_at)) {}
  // Tensors for which in_place(name) holds are not copied but described in
  // *views, pointing into `base` (the whole file's bytes).
  Reader(std::string name, std::string_view base, const std::function<bool(const std::string&)>& in_place,
         std::map<std::string, TensorView>* views)
      : name_(std::move(name)),
        size_(base.size()),
        read_at_([base](std::uint64_t offset, void* out, std::size_t size, std::string_view) {
          if (size > 0) std::memcpy(out, base.data() + offset, size);
        }),
        base_(reinterpret_cast<const unsigned char*>(base.data())),
        in_place_(&in_place),
        views_(views) {}

  TensorFile read() {
    if (size_ < 8) fail(fmt::format("file is {} bytes, shorter than the 8-byte header length", size_));
    unsigned char length[8];
    read_at_(0, length, 8, "header length");
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | length[i];
    if (n > kMaxHeaderBytes)
      fail(fmt::format("not a safetensors file (header length {} exceeds the 100 MB limit)", n));
    if (n > size_ - 8)
      fail(fmt::format("truncated or not a safetensors file (header length {} exceeds the {} bytes after the length field)",
                       n, size_ - 8));
    std::string text(static_cast<std::size_t>(n), '\0');
    read_at_(8, text.data(), text.size(), "header");
    json::Value header;
    try {
      header = json::parse(text);
    } catch (const InvalidArgument& e) {
      fail(fmt::format("header is not valid JSON ({})", e.what()));
    }
    if (!header.is_object())
      fail(fmt::format("header is a JSON {}, expected an object", json::type_name(header.type())));
    return tensors(header.as_object(), 8 + n, size_ - 8 - n);
  }

 private:
  struct Entry {
    std::string name;
    Tensor tensor;
    std::int64_t begin = 0, end = 0;
  };

  [[noreturn]] void fail(const std::string& what) const { throw FileError(fmt::format("{}: {}", name_, what)); }
  // A short JSON rendering of `v` for messages.
  static std::string brief(const json::Value& v) {
    std::string s = json::dump(v);
    if (s.size() > 80) s = s.substr(0, 77) + "...";
    return s;
  }

  static bool non_negative_integer(const json::Value& v) { return v.is_integer() && v.as_int64() >= 0; }

  Entry entry(const std::string& name, const json::Value& info, std::uint64_t buffer_size) const {
    if (name.empty()) fail("tensor with an empty name");
    const auto where = fmt::format("tensor \"{}\"", name);
    if (!info.is_object())
      fail(fmt::format("{}: header entry is a JSON {}, expected an object", where, json::type_name(info.type())));
    Entry e;
    e.name = name;

    const json::Value* dtype = info.find("dtype");
    if (dtype == nullptr || !dtype->is_string()) fail(where + ": missing or non-string \"dtype\"");
    const auto known = std::find_if(std::begin(kAllDTypes), std::end(kAllDTypes),
                                    [&](DType d) { return dtype_name(d) == dtype->as_string(); });
    if (known == std::end(kAllDTypes))
      fail(fmt::format("{}: unknown dtype \"{}\" (supported: F32, F64, I32, I64, U32, U16, U8)", where,
                       dtype->as_string()));
    e.tensor.dtype = *known;

    const json::Value* shape = info.find("shape");
    if (shape == nullptr || !shape->is_array() ||
        !std::all_of(shape->as_array().begin(), shape->as_array().end(), non_negative_integer))
      fail(fmt::format("{}: \"shape\" must be an array of non-negative integers, found {}", where,
                       shape == nullptr ? "nothing" : brief(*shape)));
    for (const json::Value& d : shape->as_array()) e.tensor.shape.push_back(d.as_int64());
    std::int64_t bytes = 0;
    if (!byte_size(e.tensor.shape, static_cast<std::int64_t>(dtype_size(e.tensor.dtype)), &bytes))
      fail(fmt::format("{}: shape {} overflows 64-bit sizes", where, brief(*shape)));

    const json::Value* offsets = info.find("data_offsets");
    if (offsets == nullptr || !offsets->is_array() || offsets->as_array().size() != 2 ||
        !non_negative_integer(offsets->as_array()[0]) || !non_negative_integer(offsets->as_array()[1]) ||
        offsets->as_array()[0].as_int64() > offsets->as_array()[1].as_int64())
      fail(fmt::format("{}: \"data_offsets\" must be two non-negative integers [begin, end] with begin <= end, "
                       "found {}", where, offsets == nullptr ? "nothing" : brief(*offsets)));
    e.begin = offsets->as_array()[0].as_int64();
    e.end = offsets->as_array()[1].as_int64();
    if (e.end - e.begin != bytes)
      fail(fmt::format("{}: data_offsets [{}, {}] span {} bytes, but shape {} of {} needs {}", where, e.begin, e.end,
                       e.end - e.begin, brief(*shape), dtype_name(e.tensor.dtype), bytes));
    if (static_cast<std::uint64_t>(e.end) > buffer_size)
      fail(fmt::format("{}: data_offsets [{}, {}] lie outside the {}-byte data buffer", where, e.begin, e.end,
                       buffer_size));
    return e;
  }

  TensorFile tensors(const json::Object& header, std::uint64_t data_start, std::uint64_t buffer_size) const {
    TensorFile file;
    std::vector<Entry> entries;
    for (const auto& [name, info] : header) {
      if (name == "__metadata__") {
        if (!info.is_object())
          fail(fmt::format("\"__metadata__\" is a JSON {}, expected an object", json::type_name(info.type())));
        for (const auto& [key, value] : info.as_object()) {
          if (!value.is_string())
            fail(fmt::format("metadata \"{}\" is a JSON {}, expected a string", key, json::type_name(value.type())));
          file.metadata[key] = value.as_string();
        }
      } else {
        entries.push_back(entry(name, info, buffer_size));
      }
    }
    // The tensors must tile [0, buffer_size) exactly.
    std::sort(entries.begin(), entries.end(),
              [](const Entry& a, const Entry& b) { return std::tie(a.begin, a.end) < std::tie(b.begin, b.end); });
    std::int64_t covered = 0;
    const Entry* previous = nullptr;
    for (const Entry& e : entries) {
      if (e.begin < covered)
        fail(fmt::format("tensors \"{}\" [{}, {}) and \"{}\" [{}, {}) overlap", previous->name, previous->begin,
                         previous->end, e.name, e.begin, e.end));
      if (e.begin > covered)
        fail(fmt::format("bytes [{}, {}) of the data buffer belong to no tensor", covered, e.begin));
      covered = e.end;
      previous = &e;
    }
    if (static_cast<std::uint64_t>(covered) != buffer_size)
      fail(fmt::format("bytes [{}, {}) of the data buffer belong to no tensor", covered, buffer_size));

    for (Entry& e : entries) {
      if (views_ != nullptr && (*in_place_)(e.name)) {
        (*views_)[e.name] = TensorView{e.tensor.dtype, e.tensor.shape,
                                       base_ + data_start + static_cast<std::uint64_t>(e.begin),
                                       static_cast<std::size_t>(e.end - e.begin)};
        continue;
      }
      e.tensor.bytes.resize(static_cast<std::size_t>(e.end - e.begin));
      read_at_(data_start + static_cast<std::uint64_t>(e.begin), e.tensor.bytes.data(), e.tensor.bytes.size(),
               fmt::format("data of tensor \"{}\"", e.name));
      file.put(e.name, std::move(e.tensor));
    }
    return file;
  }

  std::string name_;
  std::uint64_t size_ = 0;
  ReadAt read_at_;
  const unsigned char* base_ = nullptr;
  const std::function<bool(const std::string&)>* in_place_ = nullptr;
  std::map<std::string, TensorView>* views_ = nullptr;
};

}  // namespace

TensorFile parse_safetensors(std::string_view bytes, const std::string& name) {
  return Reader(name, bytes.size(), [&](std::uint64_t offset, void* out, std::size_t size, std::string_view) {
           if (size > 0) std::memcpy(out, bytes.data() + offset, size);
         }).read();
}

TensorFile parse_safetensors_in_place(std::string_view bytes, const std::string& name,
                                      const std::function<bool(const std::string&)>& in_place,
                                      std::map<std::string, TensorView>* views) {
  views->clear();
  return Reader(name, bytes, in_place, views).read();
}

TensorFile read_safetensors(const std::string& path) {
  const InputFile file(path);
  return Reader(path, file.size(), [&](std::uint64_t offset, void* out, std::size_t size, std::string_view what) {
           file.read_at(offset, out, size, what);
         }).read();
}

}  // namespace simulacra
