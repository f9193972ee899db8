// simulacra/safetensors.hpp — named tensors in the safetensors file format.
//
// The format (Hugging Face safetensors), all integers little-endian:
//
//   bytes [0, 8)        N, a uint64: the length of the header
//   bytes [8, 8 + N)    the header, a JSON object:
//                         {"__metadata__": {"key": "value", ...},       (optional)
//                          "<name>": {"dtype": "F32", "shape": [2, 3],
//                                     "data_offsets": [begin, end]}, ...}
//   bytes [8 + N, EOF)  the data buffer; each tensor's row-major elements
//                       sit at [begin, end) relative to its start
//
// Tensors exactly tile the data buffer: no gaps, no overlap. A TensorFile
// holds the tensors in memory; the same bytes go to a file or to a string:
//
//   simulacra::TensorFile f;
//   f.metadata["format"] = "simulacra";
//   std::vector<float> w = {1, 2, 3, 4, 5, 6};
//   f.put("persona.0.weights", {2, 3}, w.data());
//   simulacra::write_safetensors("model.safetensors", f);
//
//   auto g = simulacra::read_safetensors("model.safetensors");
//   std::vector<std::int64_t> shape;
//   std::vector<float> back = g.get_as<float>("persona.0.weights", &shape);  // shape {2, 3}
//
//   std::string bytes = simulacra::serialize_safetensors(f);   // the file's bytes, in memory
//   auto h = simulacra::parse_safetensors(bytes, "pickled model");
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "simulacra/error.hpp"

namespace simulacra {

// ---- element types ----------------------------------------------------------

// The element types this library reads and writes (a subset of safetensors;
// files holding others, e.g. BF16, are rejected on read).
enum class DType { F32, F64, I32, I64, U32, U16, U8 };

// Bytes per element: 4, 8, 4, 8, 4, 2, 1.
std::size_t dtype_size(DType dtype);

// The name in the header: "F32", "F64", "I32", "I64", "U32", "U16", "U8".
std::string_view dtype_name(DType dtype);

namespace detail {
// The DType of the C++ element type T (only the seven types above).
template <class T>
struct DTypeOf;
template <> struct DTypeOf<float> { static constexpr DType value = DType::F32; };
template <> struct DTypeOf<double> { static constexpr DType value = DType::F64; };
template <> struct DTypeOf<std::int32_t> { static constexpr DType value = DType::I32; };
template <> struct DTypeOf<std::int64_t> { static constexpr DType value = DType::I64; };
template <> struct DTypeOf<std::uint32_t> { static constexpr DType value = DType::U32; };
template <> struct DTypeOf<std::uint16_t> { static constexpr DType value = DType::U16; };
template <> struct DTypeOf<std::uint8_t> { static constexpr DType value = DType::U8; };
}  // namespace detail

// ---- tensors ----------------------------------------------------------------

// One tensor: its element type, its shape, and its elements as raw
// little-endian bytes in row-major order (bytes.size() == numel() * dtype_size).
struct Tensor {
  DType dtype = DType::F32;          // element type
  std::vector<std::int64_t> shape;   // dimensions, each >= 0; {} is a scalar
  std::vector<unsigned char> bytes;  // numel() * dtype_size(dtype) bytes

  // The product of the dimensions (1 for a scalar, 0 if any dimension is 0).
  // Throws InvalidArgument if a dimension is negative or the product of the
  // non-zero dimensions exceeds int64 (never the case for a tensor that
  // TensorFile::put or the reader accepted).
  std::int64_t numel() const;
};

// A set of named tensors plus string metadata: the in-memory side of a file.
class TensorFile {
 public:
  // Free-form string pairs, stored in the header under "__metadata__".
  std::map<std::string, std::string> metadata;

  // Adds tensor `name` of shape `shape` holding numel(shape) elements copied
  // from `data` (which may be null only when numel is 0). T is one of float,
  // double, int32_t, int64_t, uint32_t, uint16_t, uint8_t. Throws
  // InvalidArgument on an empty or duplicate name, the reserved name
  // "__metadata__", a negative dimension, or a size that overflows (the
  // product of the non-zero dimensions and the element size beyond int64,
  // even when another dimension is 0).
  template <class T>
  void put(const std::string& name, std::vector<std::int64_t> shape, const T* data) {
    put_bytes(name, detail::DTypeOf<T>::value, std::move(shape), data);
  }

  // Adds a tensor built elsewhere; same checks as above, plus bytes.size()
  // must equal numel() * dtype_size(dtype).
  void put(const std::string& name, Tensor tensor);

  bool has(const std::string& name) const { return tensors_.count(name) != 0; }

  // The tensor `name`; throws FileError naming it when it is absent (a
  // missing tensor means a file that is not what the caller expects).
  const Tensor& get(const std::string& name) const;

  // The elements of tensor `name` as T, and its shape in *shape if given.
  // Throws FileError when the tensor is absent or its dtype is not exactly
  // the DType of T (no conversions).
  template <class T>
  std::vector<T> get_as(const std::string& name, std::vector<std::int64_t>* shape = nullptr) const {
    const Tensor& t = get_checked(name, detail::DTypeOf<T>::value);
    std::vector<T> out(t.bytes.size() / sizeof(T));
    if (!out.empty()) std::memcpy(out.data(), t.bytes.data(), t.bytes.size());
    if (shape != nullptr) *shape = t.shape;
    return out;
  }

  // The tensor names, sorted.
  std::vector<std::string> names() const;

  // The number of tensors.
  std::size_t size() const { return tensors_.size(); }

 private:
  void put_bytes(const std::string& name, DType dtype, std::vector<std::int64_t> shape, const void* data);
  const Tensor& get_checked(const std::string& name, DType dtype) const;

  std::map<std::string, Tensor> tensors_;
};

// ---- bytes and files ---------------------------------------------------------

// The bytes of `file` in the safetensors format. The header is padded with
// spaces so that the data buffer starts at a multiple of 8 bytes; tensors are
// laid out contiguously in sorted name order.
std::string serialize_safetensors(const TensorFile& file);

// Parses the bytes of a safetensors file. `name` (a path, or a description
// such as "pickled model") starts every error message. Throws FileError
// "<name>: <problem>" when the bytes are shorter than 8, have a header length
// beyond the bytes or above 100 MB, a header that is not a JSON object, an
// unknown dtype, a shape that is not an array of non-negative integers,
// data_offsets that are not two integers with begin <= end, a byte length
// that differs from numel * dtype_size, offsets outside the data buffer,
// tensors that overlap or leave part of the buffer uncovered, an empty tensor
// name, non-string metadata values, or a shape whose size overflows (as
// TensorFile::put). Extra fields in a tensor's header entry are ignored.
TensorFile parse_safetensors(std::string_view bytes, const std::string& name);

// A tensor left in place: its bytes (size of them) at `data`, inside the
// buffer given to parse_safetensors_in_place, which must outlive the view.
struct TensorView {
  DType dtype = DType::F32;
  std::vector<std::int64_t> shape;
  const unsigned char* data = nullptr;
  std::size_t size = 0;  // bytes
};

// parse_safetensors, checked the same way, except that the tensors for which
// in_place(name) is true are not copied: *views (cleared first) describes
// them in place in `bytes` (used to load a mapped file without copying its
// large arrays; model_file.hpp's load_mapped). The returned file holds the
// other tensors.
TensorFile parse_safetensors_in_place(std::string_view bytes, const std::string& name,
                                      const std::function<bool(const std::string&)>& in_place,
                                      std::map<std::string, TensorView>* views);

// Writes serialize_safetensors(file) to `path` with write_file_atomic
// (file_io.hpp): atomically, through symbolic links, keeping the replaced
// file's permissions, refusing a directory, device, FIFO or socket at `path`.
// On any failure `path` is left as it was and FileError names it.
void write_safetensors(const std::string& path, const TensorFile& file);

// Reads a safetensors file: opened as file_io.hpp's InputFile (a regular
// file, checked before opening, so that a FIFO or a device is refused
// without blocking), then parsed as parse_safetensors does, with the path as
// the name. The header is read and checked against the file's size before
// the tensors are read, so a damaged header allocates nothing large.
TensorFile read_safetensors(const std::string& path);

}  // namespace simulacra
