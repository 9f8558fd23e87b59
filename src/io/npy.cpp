#include "flowlab/io/npy.h"

#include <torch/torch.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <utility>
#include <vector>

#include "flowlab/core/error.h"
#include "flowlab/io/atomic_file.h"

// Format reference (facts from the NumPy docs, "NEP 1"/"format.py"):
//   magic "\x93NUMPY", major, minor,
//   header length: uint16 LE (v1.x) or uint32 LE (v2.x, v3.x),
//   header: a Python dict literal {'descr': ..., 'fortran_order': ..., 'shape': (...), }
//           padded with spaces and ended by '\n' (v3 allows UTF-8),
//   then the raw array bytes.

namespace flowlab::io {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicSize = 6;
constexpr std::size_t kHeaderAlignment = 64;  // what numpy itself writes

bool host_is_little_endian() {
  const uint16_t probe = 1;
  uint8_t first = 0;
  std::memcpy(&first, &probe, 1);
  return first == 1;
}

// A dtype flowlab can hold in a torch tensor, by its npy type code.
struct DtypeInfo {
  char kind;  // 'f', 'i', 'u', 'b'
  int size;   // bytes per element
  torch::ScalarType scalar_type;
};

const std::vector<DtypeInfo>& supported_dtypes() {
  static const std::vector<DtypeInfo> dtypes = {
      {'f', 2, torch::kFloat16}, {'f', 4, torch::kFloat32}, {'f', 8, torch::kFloat64},
      {'i', 1, torch::kInt8},    {'i', 2, torch::kInt16},   {'i', 4, torch::kInt32},
      {'i', 8, torch::kInt64},   {'u', 1, torch::kUInt8},   {'b', 1, torch::kBool},
  };
  return dtypes;
}

// ---------------------------------------------------------------- header parsing

// A parsed header value: a string, a boolean or a tuple of integers.
struct HeaderValue {
  enum class Kind { kString, kBool, kTuple } kind = Kind::kString;
  std::string text;
  bool flag = false;
  std::vector<int64_t> numbers;
};

// Parses the Python dict literal numpy writes. Only what .npy headers contain is
// accepted; anything else is reported as a malformed header.
class HeaderParser {
 public:
  HeaderParser(std::string text, std::string file) : text_(std::move(text)), file_(std::move(file)) {}

  std::map<std::string, HeaderValue> parse_dict() {
    std::map<std::string, HeaderValue> dict;
    expect_char('{');
    skip_space();
    while (peek() != '}') {
      const std::string key = parse_string();
      expect_char(':');
      if (dict.count(key)) fail("key '" + key + "' appears twice");
      dict[key] = parse_value(key);
      skip_space();
      if (peek() == ',') {
        ++pos_;
        skip_space();
      } else if (peek() != '}') {
        fail("expected ',' or '}' at offset " + std::to_string(pos_));
      }
    }
    ++pos_;  // '}'
    skip_space();
    if (pos_ != text_.size()) fail("unexpected text after the dictionary");
    return dict;
  }

 private:
  [[noreturn]] void fail(const std::string& problem) const {
    throw Error(file_ + ": malformed .npy header (" + problem + "): " + text_);
  }
  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  char peek() const {
    if (pos_ >= text_.size()) fail("unexpected end");
    return text_[pos_];
  }
  void expect_char(char c) {
    skip_space();
    if (peek() != c) fail(std::string("expected '") + c + "' at offset " + std::to_string(pos_));
    ++pos_;
  }

  std::string parse_string() {
    skip_space();
    const char quote = peek();
    if (quote != '\'' && quote != '"') fail("expected a quoted string at offset " + std::to_string(pos_));
    const std::size_t end = text_.find(quote, pos_ + 1);
    if (end == std::string::npos) fail("unterminated string");
    std::string out = text_.substr(pos_ + 1, end - pos_ - 1);
    pos_ = end + 1;
    return out;
  }

  int64_t parse_integer() {
    skip_space();
    const std::size_t start = pos_;
    while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    if (start == pos_) fail("expected a non-negative integer at offset " + std::to_string(start));
    // Python 2 era writers may add an 'L' suffix to longs.
    const std::string digits = text_.substr(start, pos_ - start);
    if (pos_ < text_.size() && text_[pos_] == 'L') ++pos_;
    errno = 0;
    const unsigned long long value = std::strtoull(digits.c_str(), nullptr, 10);
    if (errno == ERANGE || value > static_cast<unsigned long long>(std::numeric_limits<int64_t>::max())) {
      fail("dimension " + digits + " is too large");
    }
    return static_cast<int64_t>(value);
  }

  HeaderValue parse_value(const std::string& key) {
    skip_space();
    HeaderValue value;
    const char c = peek();
    if (c == '\'' || c == '"') {
      value.kind = HeaderValue::Kind::kString;
      value.text = parse_string();
    } else if (text_.compare(pos_, 4, "True") == 0 || text_.compare(pos_, 5, "False") == 0) {
      value.kind = HeaderValue::Kind::kBool;
      value.flag = text_[pos_] == 'T';
      pos_ += value.flag ? 4 : 5;
    } else if (c == '(') {
      value.kind = HeaderValue::Kind::kTuple;
      ++pos_;
      skip_space();
      while (peek() != ')') {
        value.numbers.push_back(parse_integer());
        skip_space();
        if (peek() == ',') {
          ++pos_;
          skip_space();
        } else if (peek() != ')') {
          fail("expected ',' or ')' in the shape");
        }
      }
      ++pos_;
    } else if (c == '[') {
      // A list descr is a structured dtype: well-formed, but not something we read.
      value.kind = HeaderValue::Kind::kString;
      value.text = "[structured]";
      int depth = 0;
      do {
        if (peek() == '[') ++depth;
        if (peek() == ']') --depth;
        ++pos_;
      } while (depth > 0);
    } else {
      fail("cannot read the value of '" + key + "'");
    }
    return value;
  }

  std::string text_;
  std::string file_;
  std::size_t pos_ = 0;
};

struct NpyHeader {
  DtypeInfo dtype{};
  bool big_endian = false;
  bool fortran_order = false;
  std::vector<int64_t> shape;
};

NpyHeader interpret_header(const std::string& text, const std::string& file) {
  auto dict = HeaderParser(text, file).parse_dict();
  auto require = [&](const char* key, HeaderValue::Kind kind, const char* what) -> const HeaderValue& {
    auto it = dict.find(key);
    if (it == dict.end()) {
      throw Error(file + ": malformed .npy header (missing '" + key + "'): " + text);
    }
    if (it->second.kind != kind) {
      throw Error(file + ": malformed .npy header ('" + key + "' must be " + what + "): " + text);
    }
    return it->second;
  };
  const std::string descr = require("descr", HeaderValue::Kind::kString, "a string").text;
  NpyHeader header;
  header.fortran_order = require("fortran_order", HeaderValue::Kind::kBool, "True or False").flag;
  header.shape = require("shape", HeaderValue::Kind::kTuple, "a tuple of integers").numbers;
  if (dict.size() != 3) throw Error(file + ": malformed .npy header (unexpected keys): " + text);

  auto unsupported = [&]() -> Error {
    return Error(file + ": unsupported .npy dtype '" + descr +
                 "' (supported: float16/32/64, int8/16/32/64, uint8, bool)");
  };
  if (descr.size() < 3) throw unsupported();
  const char order = descr[0];
  const char kind = descr[1];
  const std::string size_text = descr.substr(2);
  if (std::string("<>|=").find(order) == std::string::npos) throw unsupported();
  const auto is_digit = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; };
  if (size_text.size() > 2 || !std::all_of(size_text.begin(), size_text.end(), is_digit)) throw unsupported();
  const int size = std::stoi(size_text);
  const auto& dtypes = supported_dtypes();
  auto it = std::find_if(dtypes.begin(), dtypes.end(),
                         [&](const DtypeInfo& d) { return d.kind == kind && d.size == size; });
  if (it == dtypes.end()) throw unsupported();
  header.dtype = *it;
  header.big_endian = order == '>' || (order == '=' && !host_is_little_endian());
  return header;
}

// Reverses the byte order of every `item_size`-byte element in place.
void swap_bytes(uint8_t* data, int64_t count, int item_size) {
  if (item_size == 1) return;
  for (int64_t i = 0; i < count; ++i) std::reverse(data + i * item_size, data + (i + 1) * item_size);
}

uint32_t read_little_endian(const uint8_t* bytes, int n) {
  uint32_t value = 0;
  for (int i = n - 1; i >= 0; --i) value = (value << 8) | bytes[i];
  return value;
}

std::string shape_tuple(torch::IntArrayRef sizes) {
  std::string out = "(";
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(sizes[i]);
  }
  if (sizes.size() == 1) out += ",";  // Python's one-element tuple
  return out + ")";
}

}  // namespace

torch::Tensor read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read " + path + ": " + std::strerror(errno));

  uint8_t preamble[kMagicSize + 2];
  in.read(reinterpret_cast<char*>(preamble), sizeof(preamble));
  if (in.gcount() != static_cast<std::streamsize>(sizeof(preamble)) ||
      std::memcmp(preamble, kMagic, kMagicSize) != 0) {
    throw Error(path + ": not a .npy file (bad magic string)");
  }
  const int major = preamble[kMagicSize];
  if (major < 1 || major > 3) {
    throw Error(path + ": unsupported .npy format version " + std::to_string(major) + "." +
                std::to_string(preamble[kMagicSize + 1]));
  }
  const int length_bytes = major == 1 ? 2 : 4;
  uint8_t length_field[4] = {0, 0, 0, 0};
  in.read(reinterpret_cast<char*>(length_field), length_bytes);
  if (in.gcount() != length_bytes) throw Error(path + ": truncated .npy header");
  const uint32_t header_length = read_little_endian(length_field, length_bytes);

  // Guard the allocation: real headers are a few hundred bytes.
  constexpr uint32_t kMaxHeader = 1u << 24;
  if (header_length > kMaxHeader) {
    throw Error(path + ": malformed .npy header (length " + std::to_string(header_length) + ")");
  }
  std::string header_text(header_length, '\0');
  in.read(header_text.data(), header_length);
  if (in.gcount() != static_cast<std::streamsize>(header_length)) throw Error(path + ": truncated .npy header");
  const NpyHeader header = interpret_header(header_text, path);

  int64_t count = 1;
  for (int64_t dim : header.shape) {
    if (dim != 0 && count > std::numeric_limits<int64_t>::max() / header.dtype.size / dim) {
      throw Error(path + ": malformed .npy header (shape " + shape_tuple(header.shape) + " is too large)");
    }
    count *= dim;
  }

  // Compare with the file size before allocating, so a corrupt shape cannot ask
  // for terabytes.
  const int64_t byte_count = count * header.dtype.size;
  const int64_t data_offset = static_cast<int64_t>(in.tellg());
  std::error_code size_error;
  const auto file_size = static_cast<int64_t>(std::filesystem::file_size(path, size_error));
  if (!size_error && file_size - data_offset < byte_count) {
    throw Error(path + ": truncated .npy data (expected " + std::to_string(byte_count) + " bytes for shape " +
                shape_tuple(header.shape) + ", found " + std::to_string(file_size - data_offset) + ")");
  }

  // Fortran order: the bytes are the C-order array of the reversed shape.
  std::vector<int64_t> storage_shape = header.shape;
  if (header.fortran_order) std::reverse(storage_shape.begin(), storage_shape.end());
  torch::Tensor tensor = torch::empty(storage_shape, torch::TensorOptions().dtype(header.dtype.scalar_type));
  auto* data = static_cast<uint8_t*>(tensor.data_ptr());
  in.read(reinterpret_cast<char*>(data), byte_count);
  if (in.gcount() != byte_count) {
    throw Error(path + ": truncated .npy data (expected " + std::to_string(byte_count) + " bytes for shape " +
                shape_tuple(header.shape) + ", found " + std::to_string(in.gcount()) + ")");
  }

  if (header.big_endian == host_is_little_endian()) swap_bytes(data, count, header.dtype.size);
  if (header.dtype.scalar_type == torch::kBool) {
    // A bool tensor must hold exactly 0 or 1 in every byte.
    for (int64_t i = 0; i < count; ++i) data[i] = data[i] != 0;
  }
  if (header.fortran_order && tensor.dim() > 1) {
    std::vector<int64_t> reversed(tensor.dim());
    for (int64_t i = 0; i < tensor.dim(); ++i) reversed[i] = tensor.dim() - 1 - i;
    tensor = tensor.permute(reversed).contiguous();
  }
  return tensor;
}

void write_npy(const std::string& path, const torch::Tensor& tensor) {
  TORCH_CHECK(tensor.defined(), "write_npy(", path, "): undefined tensor");
  const auto& dtypes = supported_dtypes();
  auto it = std::find_if(dtypes.begin(), dtypes.end(),
                         [&](const DtypeInfo& d) { return d.scalar_type == tensor.scalar_type(); });
  if (it == dtypes.end()) {
    throw Error("cannot write " + path + ": dtype " + std::string(c10::toString(tensor.scalar_type())) +
                " has no .npy equivalent flowlab writes (float16/32/64, int8/16/32/64, uint8, bool)");
  }
  const DtypeInfo dtype = *it;
  const torch::Tensor data = tensor.detach().to(torch::kCPU).contiguous();

  const char order = dtype.size == 1 ? '|' : '<';
  std::string dict = std::string("{'descr': '") + order + dtype.kind + std::to_string(dtype.size) +
                     "', 'fortran_order': False, 'shape': " + shape_tuple(data.sizes()) + ", }";
  // Pads so the data starts on a 64-byte boundary. Version 1.0 stores the header
  // length in 16 bits; a longer header (only for very many dimensions) needs 2.0.
  auto padded_length = [&](bool version2) {
    const std::size_t unpadded = kMagicSize + 2 + (version2 ? 4 : 2) + dict.size() + 1;  // + '\n'
    return dict.size() + (kHeaderAlignment - unpadded % kHeaderAlignment) % kHeaderAlignment + 1;
  };
  const bool version2 = padded_length(false) > 65535;
  dict.resize(padded_length(version2) - 1, ' ');
  dict += '\n';

  std::string preamble(kMagic, kMagicSize);
  preamble += static_cast<char>(version2 ? 2 : 1);
  preamble += static_cast<char>(0);
  const uint32_t header_length = static_cast<uint32_t>(dict.size());
  for (int i = 0; i < (version2 ? 4 : 2); ++i) preamble += static_cast<char>((header_length >> (8 * i)) & 0xff);

  std::vector<uint8_t> swapped;
  const auto* bytes = static_cast<const uint8_t*>(data.data_ptr());
  const int64_t byte_count = data.numel() * dtype.size;
  if (!host_is_little_endian() && dtype.size > 1) {
    swapped.assign(bytes, bytes + byte_count);
    swap_bytes(swapped.data(), data.numel(), dtype.size);
    bytes = swapped.data();
  }

  write_atomically(path, [&](const std::string& tmp) {
    write_checked(tmp, {preamble, dict, std::string_view(reinterpret_cast<const char*>(bytes), byte_count)});
  });
}

}  // namespace flowlab::io
