// Tests for simulacra/safetensors.hpp: round trips, the exact byte layout,
// damaged files, and atomic writing.
#include "simulacra/safetensors.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "testing.hpp"

namespace fs = std::filesystem;
using simulacra::DType;
using simulacra::FileError;
using simulacra::InvalidArgument;
using simulacra::TensorFile;

namespace {

class SafetensorsTest : public simulacra::testing::TempDirTest {};

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// The 8 little-endian bytes of n.
std::string u64le(std::uint64_t n) {
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  return out;
}

// A file built by hand: length prefix, header text, then `data_size` bytes.
std::string hand_file(const std::string& header, std::size_t data_size) {
  return u64le(header.size()) + header + std::string(data_size, '\x5a');
}

// The FileError message read_safetensors(path) throws, or "" if it does not.
std::string read_error(const std::string& path) {
  try {
    simulacra::read_safetensors(path);
  } catch (const FileError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(DTypeTest, SizesAndNames) {
  EXPECT_EQ(simulacra::dtype_size(DType::F32), 4u);
  EXPECT_EQ(simulacra::dtype_size(DType::F64), 8u);
  EXPECT_EQ(simulacra::dtype_size(DType::I32), 4u);
  EXPECT_EQ(simulacra::dtype_size(DType::I64), 8u);
  EXPECT_EQ(simulacra::dtype_size(DType::U32), 4u);
  EXPECT_EQ(simulacra::dtype_size(DType::U16), 2u);
  EXPECT_EQ(simulacra::dtype_size(DType::U8), 1u);
  EXPECT_EQ(simulacra::dtype_name(DType::F32), "F32");
  EXPECT_EQ(simulacra::dtype_name(DType::I64), "I64");
  EXPECT_EQ(simulacra::dtype_name(DType::U16), "U16");
}

TEST_F(SafetensorsTest, RoundTripEveryDType) {
  const std::vector<float> f32 = {1.5f, -0.0f, std::numeric_limits<float>::infinity(), 3e-38f, 7, 8};
  const std::vector<double> f64 = {0.1, -1e300, std::numeric_limits<double>::denorm_min()};
  const std::vector<std::int32_t> i32 = {std::numeric_limits<std::int32_t>::min(), -1, 0, 2147483647};
  const std::vector<std::int64_t> i64 = {std::numeric_limits<std::int64_t>::min(), 42};
  const std::vector<std::uint32_t> u32 = {0, 4294967295u};
  const std::vector<std::uint16_t> u16 = {65535, 1, 2};
  const std::vector<std::uint8_t> u8 = {0, 255, 7, 9, 11};
  TensorFile f;
  f.metadata["format"] = "simulacra";
  f.metadata["note"] = "quotes \" and \\ and \n newline";
  f.put("f32", {2, 3}, f32.data());
  f.put("f64", {3}, f64.data());
  f.put("i32", {2, 1, 2}, i32.data());
  f.put("i64", {2}, i64.data());
  f.put("u32", {1, 2}, u32.data());
  f.put("u16", {3}, u16.data());
  f.put("u8", {5}, u8.data());
  f.put<float>("empty", {0, 4}, nullptr);
  const double scalar = 2.75;
  f.put("scalar", {}, &scalar);
  simulacra::write_safetensors(path("all.safetensors"), f);
  EXPECT_EQ(listing(), std::vector<std::string>{"all.safetensors"});  // no temporary left

  const TensorFile g = simulacra::read_safetensors(path("all.safetensors"));
  EXPECT_EQ(g.metadata, f.metadata);
  EXPECT_EQ(g.names(), (std::vector<std::string>{"empty", "f32", "f64", "i32", "i64", "scalar", "u16", "u32", "u8"}));
  std::vector<std::int64_t> shape;
  const auto f32_back = g.get_as<float>("f32", &shape);
  EXPECT_EQ(shape, (std::vector<std::int64_t>{2, 3}));
  ASSERT_EQ(f32_back.size(), f32.size());
  for (std::size_t i = 0; i < f32.size(); ++i) EXPECT_EQ(std::memcmp(&f32_back[i], &f32[i], 4), 0) << i;
  EXPECT_EQ(g.get_as<double>("f64"), f64);
  EXPECT_EQ(g.get_as<std::int32_t>("i32", &shape), i32);
  EXPECT_EQ(shape, (std::vector<std::int64_t>{2, 1, 2}));
  EXPECT_EQ(g.get_as<std::int64_t>("i64"), i64);
  EXPECT_EQ(g.get_as<std::uint32_t>("u32"), u32);
  EXPECT_EQ(g.get_as<std::uint16_t>("u16"), u16);
  EXPECT_EQ(g.get_as<std::uint8_t>("u8"), u8);
  EXPECT_TRUE(g.get_as<float>("empty", &shape).empty());
  EXPECT_EQ(shape, (std::vector<std::int64_t>{0, 4}));
  EXPECT_EQ(g.get_as<double>("scalar", &shape), std::vector<double>{2.75});
  EXPECT_TRUE(shape.empty());
  EXPECT_EQ(g.get("scalar").numel(), 1);
  EXPECT_EQ(g.get("u8").dtype, DType::U8);
}

TEST_F(SafetensorsTest, HeaderIsPaddedToMultipleOf8) {
  for (int extra = 0; extra < 16; ++extra) {
    TensorFile f;
    f.metadata["k"] = std::string(static_cast<std::size_t>(extra), 'x');
    const std::uint8_t byte = 1;
    f.put("t", {1}, &byte);
    simulacra::write_safetensors(path("pad.safetensors"), f);
    const std::string bytes = read_bytes(path("pad.safetensors"));
    ASSERT_GE(bytes.size(), 8u);
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
    EXPECT_EQ((8 + n) % 8, 0u) << extra;
    EXPECT_EQ(bytes.size(), 8 + n + 1) << extra;
    EXPECT_EQ(bytes.back(), '\x01');
    EXPECT_EQ(simulacra::read_safetensors(path("pad.safetensors")).metadata.at("k").size(),
              static_cast<std::size_t>(extra));
  }
}

TEST_F(SafetensorsTest, ExactByteLayoutOfWrittenFile) {
  TensorFile f;
  const std::uint16_t b[2] = {0x0102, 0xA0B0};
  const std::uint8_t a[3] = {1, 2, 3};
  f.put("b", {2}, b);  // put out of order: the file sorts by name
  f.put("a", {3, 1}, a);
  simulacra::write_safetensors(path("tiny.safetensors"), f);
  const std::string header = R"({"a":{"dtype":"U8","shape":[3,1],"data_offsets":[0,3]},)"
                             R"("b":{"dtype":"U16","shape":[2],"data_offsets":[3,7]}})";
  ASSERT_EQ(header.size(), 108u);  // padded to 112 so that 8 + 112 = 120
  const std::string expected =
      u64le(112) + header + std::string(4, ' ') + std::string("\x01\x02\x03\x02\x01\xB0\xA0", 7);
  EXPECT_EQ(read_bytes(path("tiny.safetensors")), expected);
}

TEST_F(SafetensorsTest, ReadsHandWrittenFile) {
  // As another writer might produce it: metadata last, tensors not in name
  // order, spaces in the header, and no padding.
  const std::string header =
      R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}, )"
      R"("n": {"dtype": "I64", "shape": [], "data_offsets": [0, 8], "extra": 1}, )"
      R"("__metadata__": {"format": "pt"}})";
  const std::string data = std::string("\xff\xff\xff\xff\xff\xff\xff\xff", 8) +  // I64 -1
                           std::string("\x00\x00\x80\x3f\x00\x00\x00\xc0", 8);   // F32 1.0, -2.0
  write_bytes(path("hand.safetensors"), u64le(header.size()) + header + data);
  const TensorFile f = simulacra::read_safetensors(path("hand.safetensors"));
  EXPECT_EQ(f.metadata.at("format"), "pt");
  EXPECT_EQ(f.get_as<std::int64_t>("n"), std::vector<std::int64_t>{-1});
  EXPECT_EQ(f.get_as<float>("w"), (std::vector<float>{1.0f, -2.0f}));
  EXPECT_EQ(f.get("w").bytes.size(), 8u);
}

TEST_F(SafetensorsTest, OverwritesAtomically) {
  TensorFile f;
  const std::int32_t one = 1, two = 2;
  f.put("x", {1}, &one);
  simulacra::write_safetensors(path("m.safetensors"), f);
  TensorFile g;
  g.put("x", {1}, &two);
  simulacra::write_safetensors(path("m.safetensors"), g);
  EXPECT_EQ(simulacra::read_safetensors(path("m.safetensors")).get_as<std::int32_t>("x"), std::vector<std::int32_t>{2});
  EXPECT_EQ(listing(), std::vector<std::string>{"m.safetensors"});
}

TEST_F(SafetensorsTest, FailedWriteLeavesNothing) {
  TensorFile f;
  const float x = 1;
  f.put("x", {1}, &x);
  // The directory does not exist: the temporary file cannot be created.
  const std::string missing = path("no/such/dir/m.safetensors");
  try {
    simulacra::write_safetensors(missing, f);
    FAIL() << "no exception";
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("No such file"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(listing().empty());
  // The target is a non-empty directory: the final rename fails, and the
  // temporary file written next to it must be removed.
  fs::create_directories(path("taken/inner"));
  EXPECT_THROW(simulacra::write_safetensors(path("taken"), f), FileError);
  EXPECT_EQ(listing(), std::vector<std::string>{"taken"});
  EXPECT_TRUE(fs::is_directory(path("taken/inner")));
}

TEST_F(SafetensorsTest, PutAndGetErrors) {
  TensorFile f;
  const float v[4] = {1, 2, 3, 4};
  f.put("w", {2, 2}, v);
  EXPECT_TRUE(f.has("w"));
  EXPECT_FALSE(f.has("v"));
  EXPECT_EQ(f.size(), 1u);
  EXPECT_THROW(f.put("w", {4}, v), InvalidArgument);
  EXPECT_THROW(f.put("", {4}, v), InvalidArgument);
  EXPECT_THROW(f.put("__metadata__", {4}, v), InvalidArgument);
  EXPECT_THROW(f.put("neg", {-1}, v), InvalidArgument);
  EXPECT_THROW(f.put("huge", {std::int64_t{1} << 62, 4}, v), InvalidArgument);
  EXPECT_THROW(f.put<float>("null", {2}, nullptr), InvalidArgument);
  simulacra::Tensor t;
  t.dtype = DType::U16;
  t.shape = {3};
  t.bytes.resize(5);
  EXPECT_THROW(f.put("bad", t), InvalidArgument);
  try {
    f.get("missing");
    FAIL() << "no exception";
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find("missing"), std::string::npos) << e.what();
  }
  try {
    f.get_as<double>("w");
    FAIL() << "no exception";
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find("F32"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("F64"), std::string::npos) << e.what();
  }
}

TEST_F(SafetensorsTest, TruncatedFiles) {
  TensorFile f;
  const double v[4] = {1, 2, 3, 4};
  f.put("w", {4}, v);
  f.metadata["k"] = "v";
  simulacra::write_safetensors(path("good.safetensors"), f);
  const std::string good = read_bytes(path("good.safetensors"));
  const std::size_t header_end = good.size() - 32;
  for (const std::size_t cut : {std::size_t{0}, std::size_t{4}, std::size_t{7}, std::size_t{8}, std::size_t{20},
                                header_end - 1, header_end, header_end + 8, good.size() - 1}) {
    write_bytes(path("cut.safetensors"), good.substr(0, cut));
    const std::string message = read_error(path("cut.safetensors"));
    EXPECT_FALSE(message.empty()) << "accepted a file cut at " << cut;
    EXPECT_NE(message.find(path("cut.safetensors")), std::string::npos) << message;
  }
  EXPECT_NE(read_error(path("cut.safetensors")).find("outside the 31-byte data buffer"), std::string::npos);
  write_bytes(path("cut.safetensors"), good.substr(0, 5));
  EXPECT_NE(read_error(path("cut.safetensors")).find("shorter than the 8-byte"), std::string::npos);
}

TEST_F(SafetensorsTest, MissingOrNotAFile) {
  EXPECT_NE(read_error(path("absent.safetensors")).find("cannot open"), std::string::npos);
  fs::create_directories(path("d"));
  EXPECT_NE(read_error(path("d")).find("not a regular file"), std::string::npos);
}

TEST_F(SafetensorsTest, HeaderLengthOutOfRange) {
  write_bytes(path("h.safetensors"), u64le(~std::uint64_t{0}) + "{}");
  EXPECT_NE(read_error(path("h.safetensors")).find("100 MB"), std::string::npos);
  write_bytes(path("h.safetensors"), u64le(200u << 20) + "{}");
  EXPECT_NE(read_error(path("h.safetensors")).find("100 MB"), std::string::npos);
  write_bytes(path("h.safetensors"), u64le(3) + "{}");
  EXPECT_NE(read_error(path("h.safetensors")).find("exceeds the 2 bytes"), std::string::npos);
}

// ---- damaged headers ------------------------------------------------------------

struct BadHeader {
  const char* header;
  std::size_t data_size;      // bytes of data after the header
  const char* message_part;  // a substring the FileError message must contain
};

class SafetensorsHeaderTest : public SafetensorsTest, public testing::WithParamInterface<BadHeader> {};

TEST_P(SafetensorsHeaderTest, RaisesFileError) {
  const std::string file = path("bad.safetensors");
  write_bytes(file, hand_file(GetParam().header, GetParam().data_size));
  const std::string message = read_error(file);
  ASSERT_FALSE(message.empty()) << "accepted: " << GetParam().header;
  EXPECT_NE(message.find(file), std::string::npos) << message;
  EXPECT_NE(message.find(GetParam().message_part), std::string::npos) << message;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, SafetensorsHeaderTest,
    testing::Values(
        BadHeader{"", 0, "not valid JSON"}, BadHeader{R"({"a": )", 0, "not valid JSON"},
        BadHeader{"{} x", 0, "not valid JSON"}, BadHeader{"[1, 2]", 0, "expected an object"},
        BadHeader{R"({"a": 3})", 0, "expected an object"},
        BadHeader{R"({"a":{"shape":[1],"data_offsets":[0,4]}})", 4, "\"dtype\""},
        BadHeader{R"({"a":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}})", 2, "unknown dtype \"BF16\""},
        BadHeader{R"({"a":{"dtype":7,"shape":[1],"data_offsets":[0,4]}})", 4, "\"dtype\""},
        BadHeader{R"({"a":{"dtype":"F32","data_offsets":[0,4]}})", 4, "\"shape\""},
        BadHeader{R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4, "non-negative integers"},
        BadHeader{R"({"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})", 4, "non-negative integers"},
        BadHeader{R"({"a":{"dtype":"F32","shape":"1","data_offsets":[0,4]}})", 4, "non-negative integers"},
        BadHeader{R"({"a":{"dtype":"F32","shape":[4611686018427387904,4611686018427387904],)"
                  R"("data_offsets":[0,4]}})", 4, "overflows"},
        // Zero bytes, but numel() would multiply past int64 before reaching the 0.
        BadHeader{R"({"a":{"dtype":"U8","shape":[4611686018427387904,4611686018427387904,0],)"
                  R"("data_offsets":[0,0]}})", 0, "overflows"},
        BadHeader{R"({"a":{"dtype":"F32","shape":[1]}})", 4, "\"data_offsets\""},
        BadHeader{R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", 4, "\"data_offsets\""},
        BadHeader{R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}})", 8, "\"data_offsets\""},
        BadHeader{R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})", 4, "begin <= end"},
        BadHeader{R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}})", 4, "\"data_offsets\""},
        BadHeader{R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4.0]}})", 4, "\"data_offsets\""},
        BadHeader{R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", 4, "needs 8"},
        BadHeader{R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 3, "outside the 3-byte data buffer"},
        BadHeader{R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[9999999999,10000000000]}})", 4, "outside"},
        BadHeader{R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                  R"("b":{"dtype":"U16","shape":[2],"data_offsets":[2,6]}})", 6, "overlap"},
        BadHeader{R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                  R"("b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 4, "overlap"},
        BadHeader{R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                  R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})", 12, "bytes [4, 8)"},
        BadHeader{R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8, "bytes [0, 4)"},
        BadHeader{R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 6, "bytes [4, 6)"},
        BadHeader{R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                  R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8, "unique"},
        BadHeader{R"({"":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 4, "empty name"},
        BadHeader{R"({"__metadata__": [], "a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", 1,
                  "\"__metadata__\" is a JSON array"},
        BadHeader{R"({"__metadata__": {"k": 1}})", 0, "metadata \"k\" is a JSON number"}));

TEST_F(SafetensorsTest, EmptyFileWithOnlyMetadata) {
  TensorFile f;
  f.metadata["only"] = "metadata";
  simulacra::write_safetensors(path("meta.safetensors"), f);
  const TensorFile g = simulacra::read_safetensors(path("meta.safetensors"));
  EXPECT_EQ(g.size(), 0u);
  EXPECT_EQ(g.metadata.at("only"), "metadata");
}

TEST_F(SafetensorsTest, RandomDamageRaisesOnlyFileError) {
  TensorFile f;
  const std::int32_t v[6] = {1, 2, 3, 4, 5, 6};
  f.put("a", {2, 3}, v);
  f.put("b", {2}, v);
  f.metadata["k"] = "v";
  simulacra::write_safetensors(path("good.safetensors"), f);
  const std::string good = read_bytes(path("good.safetensors"));
  std::mt19937 rng(12345);
  int accepted = 0;
  for (int trial = 0; trial < 500; ++trial) {
    std::string bad = good;
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < flips; ++i) {
      // Mostly the length field and the header, where damage matters.
      const std::size_t at = rng() % (good.size() - 32);
      bad[at] = static_cast<char>(rng() % 256);
    }
    write_bytes(path("bad.safetensors"), bad);
    try {
      simulacra::read_safetensors(path("bad.safetensors"));
      ++accepted;  // e.g. a changed metadata character or padding space
    } catch (const FileError&) {
    }
  }
  EXPECT_LT(accepted, 500);
}

TEST(TensorTest, NumelNeverOverflows) {
  simulacra::Tensor t;
  t.shape = {std::int64_t{1} << 62, std::int64_t{1} << 62, 0};
  EXPECT_THROW(t.numel(), InvalidArgument);
  t.shape = {3, -1};
  EXPECT_THROW(t.numel(), InvalidArgument);
  t.shape = {3, 0, 5};
  EXPECT_EQ(t.numel(), 0);
  t.shape = {std::int64_t{1} << 31, std::int64_t{1} << 31};
  EXPECT_EQ(t.numel(), std::int64_t{1} << 62);
  TensorFile f;
  EXPECT_THROW(f.put<std::uint8_t>("zero", {std::int64_t{1} << 62, std::int64_t{1} << 62, 0}, nullptr),
               InvalidArgument);
}

TEST_F(SafetensorsTest, SerializeIsTheFileAndParseReadsIt) {
  TensorFile f;
  f.metadata["format"] = "simulacra";
  const double v[3] = {0.5, -1, 1e300};
  const std::uint16_t u[2] = {7, 65535};
  f.put("v", {3}, v);
  f.put("u", {1, 2}, u);
  simulacra::write_safetensors(path("f.safetensors"), f);
  const std::string bytes = simulacra::serialize_safetensors(f);
  EXPECT_EQ(bytes, read_bytes(path("f.safetensors")));
  const TensorFile g = simulacra::parse_safetensors(bytes, "in memory");
  EXPECT_EQ(g.metadata, f.metadata);
  EXPECT_EQ(g.get_as<double>("v"), std::vector<double>(v, v + 3));
  EXPECT_EQ(g.get_as<std::uint16_t>("u"), std::vector<std::uint16_t>(u, u + 2));
  // The name starts every message, as the path does for files.
  for (const std::size_t cut : {std::size_t{0}, std::size_t{8}, bytes.size() - 1}) {
    try {
      simulacra::parse_safetensors(std::string_view(bytes).substr(0, cut), "in memory");
      ADD_FAILURE() << "accepted bytes cut at " << cut;
    } catch (const FileError& e) {
      EXPECT_EQ(std::string(e.what()).rfind("in memory: ", 0), 0u) << e.what();
    }
  }
  EXPECT_EQ(simulacra::parse_safetensors(simulacra::serialize_safetensors(TensorFile{}), "empty").size(), 0u);
}

// Reading a FIFO used to block in open() before the file was checked.
TEST_F(SafetensorsTest, FifosAreRefusedWithoutBlocking) {
  ASSERT_EQ(::mkfifo(path("fifo").c_str(), 0600), 0);
  auto result = std::async(std::launch::async, [&] { return read_error(path("fifo")); });
  if (result.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
    ADD_FAILURE() << "read_safetensors blocked on a FIFO";
    const int w = ::open(path("fifo").c_str(), O_WRONLY | O_NONBLOCK);  // let it finish
    if (w >= 0) ::close(w);
  }
  EXPECT_NE(result.get().find("is a FIFO, not a regular file"), std::string::npos);
  TensorFile f;
  EXPECT_NE([&] {
    try {
      simulacra::write_safetensors(path("fifo"), f);
    } catch (const FileError& e) {
      return std::string(e.what());
    }
    return std::string();
  }().find("is a FIFO"), std::string::npos);
  EXPECT_TRUE(fs::is_fifo(path("fifo")));
  EXPECT_EQ(listing(), std::vector<std::string>{"fifo"});
}
