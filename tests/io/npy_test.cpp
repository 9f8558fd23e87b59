#include "flowlab/io/npy.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "flowlab/core/error.h"
#include "support/config_error.h"
#include "support/helpers.h"

namespace flowlab::io {
namespace {

using testing::TempDir;
using testing::run_python;

using testing::expect_error;

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A version 1.0 .npy file with the given header dict (padded as numpy pads).
std::string npy_with_header(std::string dict, const std::string& data) {
  const std::size_t unpadded = 10 + dict.size() + 1;
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(dict.size() & 0xff);
  out += static_cast<char>(dict.size() >> 8);
  return out + dict + data;
}

torch::Tensor sample_values(torch::ScalarType dtype, std::vector<int64_t> shape, at::Generator& gen) {
  if (dtype == torch::kBool) return torch::rand(shape, gen) > 0.5;
  if (isFloatingType(dtype)) return (torch::randn(shape, gen, torch::kFloat64) * 100).to(dtype);
  // Covers negative values and, for wide types, values beyond 32 bits.
  const double scale = elementSize(dtype) >= 8 ? 1e12 : (dtype == torch::kUInt8 ? 255 : 100);
  torch::Tensor values = torch::rand(shape, gen, torch::kFloat64) * scale;
  if (dtype != torch::kUInt8) values = values - scale / 2;
  return values.floor().to(dtype);
}

TEST(Npy, RoundTripsEveryDtypeAndShape) {
  TempDir dir;
  at::Generator gen = at::detail::createCPUGenerator(7);
  const std::vector<torch::ScalarType> dtypes = {torch::kFloat16, torch::kFloat32, torch::kFloat64, torch::kInt8,
                                                 torch::kInt16,   torch::kInt32,   torch::kInt64,   torch::kUInt8,
                                                 torch::kBool};
  const std::vector<std::vector<int64_t>> shapes = {{}, {0}, {5}, {2, 3, 4}, {0, 3}, {3, 1, 2, 1}};
  for (auto dtype : dtypes) {
    for (const auto& shape : shapes) {
      const torch::Tensor original = sample_values(dtype, shape, gen);
      const std::string file = dir.file("a.npy");
      write_npy(file, original);
      const torch::Tensor back = read_npy(file);
      SCOPED_TRACE(std::string(c10::toString(dtype)) + " " + c10::str(original.sizes()));
      EXPECT_EQ(back.scalar_type(), dtype);
      EXPECT_EQ(back.sizes(), original.sizes());
      EXPECT_TRUE(back.is_contiguous());
      EXPECT_TRUE(torch::equal(back, original));
    }
  }
}

TEST(Npy, WritesNonContiguousTensorsInLogicalOrder) {
  TempDir dir;
  const torch::Tensor transposed = torch::arange(12, torch::kInt32).reshape({3, 4}).t();
  write_npy(dir.file("t.npy"), transposed);
  EXPECT_TRUE(torch::equal(read_npy(dir.file("t.npy")), transposed.contiguous()));
}

TEST(Npy, DataStartsOnA64ByteBoundary) {
  TempDir dir;
  write_npy(dir.file("a.npy"), torch::zeros({7, 3}));
  const std::string bytes = read_bytes(dir.file("a.npy"));
  EXPECT_EQ((bytes.size() - 7 * 3 * 4) % 64, 0u);
  EXPECT_EQ(bytes[bytes.size() - 7 * 3 * 4 - 1], '\n');
}

TEST(Npy, NumpyReadsWhatFlowlabWrites) {
  TempDir dir;
  // Values chosen so every element matters to the checksum below.
  write_npy(dir.file("f32.npy"), torch::arange(12, torch::kFloat32).reshape({3, 4}) * 0.5 - 1.0);
  write_npy(dir.file("i64.npy"), torch::tensor(std::vector<int64_t>{-3000000000, 5, 7000000000}));
  write_npy(dir.file("b.npy"), torch::tensor({true, false, true, true}));
  write_npy(dir.file("h.npy"), torch::tensor({1.5, -2.25}, torch::kFloat16));
  write_npy(dir.file("scalar.npy"), torch::tensor(3.25, torch::kFloat64));
  write_npy(dir.file("empty.npy"), torch::zeros({0, 2}, torch::kUInt8));
  const std::string out = run_python(
      "import numpy as np\n"
      "d = '" + dir.path() + "/'\n"
      "def show(name):\n"
      "    a = np.load(d + name)\n"
      "    w = np.arange(1, a.size + 1).reshape(a.shape)\n"
      "    print(name, a.dtype.str, a.shape, repr(float((a.astype(np.float64) * w).sum())))\n"
      "for n in ['f32.npy', 'i64.npy', 'b.npy', 'h.npy', 'scalar.npy', 'empty.npy']: show(n)\n");
  // sum_k (k/2 - 1)(k + 1), k = 0..11 = 208; the rest by hand.
  EXPECT_NE(out.find("f32.npy <f4 (3, 4) 208.0"), std::string::npos) << out;
  EXPECT_NE(out.find("i64.npy <i8 (3,) 18000000010.0"), std::string::npos) << out;
  EXPECT_NE(out.find("b.npy |b1 (4,) 8.0"), std::string::npos) << out;
  EXPECT_NE(out.find("h.npy <f2 (2,) -3.0"), std::string::npos) << out;
  EXPECT_NE(out.find("scalar.npy <f8 () 3.25"), std::string::npos) << out;
  EXPECT_NE(out.find("empty.npy |u1 (0, 2) 0.0"), std::string::npos) << out;
}

TEST(Npy, ReadsWhatNumpyWrites) {
  TempDir dir;
  run_python(
      "import numpy as np\n"
      "d = '" + dir.path() + "/'\n"
      "np.save(d + 'f64.npy', np.arange(12, dtype=np.float64).reshape(3, 4) / 7 - 0.3)\n"
      "np.save(d + 'i64.npy', np.arange(-5, 7, dtype=np.int64).reshape(3, 4) * 1000000007)\n"
      "np.save(d + 'bool.npy', np.arange(10) % 3 == 0)\n"
      "f = np.asfortranarray(np.arange(24, dtype=np.float32).reshape(2, 3, 4))\n"
      "assert f.flags.f_contiguous and not f.flags.c_contiguous\n"
      "np.save(d + 'fortran.npy', f)\n"
      "np.save(d + 'big.npy', (np.arange(6) * 1.5 - 2).reshape(2, 3).astype('>f4'))\n"
      "np.save(d + 'big_i2.npy', np.array([-300, 2, 515], dtype='>i2'))\n"
      "np.save(d + 'scalar.npy', np.float64(2.5))\n"
      "np.save(d + 'empty.npy', np.zeros((0, 3), dtype=np.float32))\n"
      "for v in [(2, 0), (3, 0)]:\n"
      "    with open(d + 'v%d.npy' % v[0], 'wb') as fh:\n"
      "        np.lib.format.write_array(fh, np.arange(5, dtype=np.int16) - 2, version=v)\n");
  // The numpy header really says what the test relies on.
  EXPECT_NE(read_bytes(dir.file("fortran.npy")).find("'fortran_order': True"), std::string::npos);
  EXPECT_NE(read_bytes(dir.file("big.npy")).find("'>f4'"), std::string::npos);
  EXPECT_NE(read_bytes(dir.file("big_i2.npy")).find("'>i2'"), std::string::npos);
  EXPECT_EQ(read_bytes(dir.file("v2.npy"))[6], 2);
  EXPECT_EQ(read_bytes(dir.file("v3.npy"))[6], 3);

  const torch::Tensor f64 = read_npy(dir.file("f64.npy"));
  EXPECT_EQ(f64.scalar_type(), torch::kFloat64);
  EXPECT_TRUE(torch::equal(f64, torch::arange(12, torch::kFloat64).reshape({3, 4}) / 7 - 0.3));

  EXPECT_TRUE(torch::equal(read_npy(dir.file("i64.npy")),
                           torch::arange(-5, 7, torch::kInt64).reshape({3, 4}) * int64_t{1000000007}));
  EXPECT_TRUE(torch::equal(read_npy(dir.file("bool.npy")), torch::arange(10, torch::kInt64).remainder(3) == 0));

  const torch::Tensor fortran = read_npy(dir.file("fortran.npy"));
  EXPECT_TRUE(fortran.is_contiguous());
  EXPECT_TRUE(torch::equal(fortran, torch::arange(24, torch::kFloat32).reshape({2, 3, 4})));

  const torch::Tensor big = read_npy(dir.file("big.npy"));
  EXPECT_EQ(big.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::equal(big, (torch::arange(6, torch::kFloat32) * 1.5 - 2).reshape({2, 3})));
  EXPECT_TRUE(torch::equal(read_npy(dir.file("big_i2.npy")), torch::tensor({-300, 2, 515}, torch::kInt16)));

  const torch::Tensor scalar = read_npy(dir.file("scalar.npy"));
  EXPECT_EQ(scalar.dim(), 0);
  EXPECT_EQ(scalar.item<double>(), 2.5);
  EXPECT_EQ(read_npy(dir.file("empty.npy")).sizes(), (std::vector<int64_t>{0, 3}));

  for (const char* name : {"v2.npy", "v3.npy"}) {
    EXPECT_TRUE(torch::equal(read_npy(dir.file(name)), torch::arange(5, torch::kInt16) - 2)) << name;
  }
}

TEST(Npy, MissingFileNamesTheFile) {
  TempDir dir;
  const std::string file = dir.file("nowhere.npy");
  expect_error([&] { read_npy(file); }, {file, "No such file"});
}

TEST(Npy, BadMagicNamesTheFile) {
  TempDir dir;
  const std::string file = dir.file("text.npy");
  write_bytes(file, "x,y\n1,2\n3,4\n");
  expect_error([&] { read_npy(file); }, {file, "magic"});
  write_bytes(file, "\x93NU");  // shorter than the magic string
  expect_error([&] { read_npy(file); }, {file, "magic"});
}

TEST(Npy, TruncatedDataNamesTheFileAndSizes) {
  TempDir dir;
  const std::string file = dir.file("cut.npy");
  write_npy(file, torch::ones({10, 10}, torch::kFloat64));
  const std::string bytes = read_bytes(file);
  write_bytes(file, bytes.substr(0, bytes.size() - 8));
  expect_error([&] { read_npy(file); }, {file, "truncated", "800 bytes", "(10, 10)"});
  write_bytes(file, bytes.substr(0, 30));  // cut inside the header
  expect_error([&] { read_npy(file); }, {file, "truncated"});
}

TEST(Npy, MalformedHeadersNameTheFileAndProblem) {
  TempDir dir;
  const std::string file = dir.file("bad.npy");
  const std::string data(12, '\0');
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (3, }", "malformed"},
      {"{'descr': '<f4', 'shape': (3,), }", "missing 'fortran_order'"},
      {"{'descr': '<f4', 'fortran_order': 0, 'shape': (3,), }", "'fortran_order'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (-3,), }", "non-negative integer"},
      {"['descr', '<f4']", "malformed"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'extra': 1}", "malformed"},
  };
  for (const auto& [dict, problem] : cases) {
    write_bytes(file, npy_with_header(dict, data));
    SCOPED_TRACE(dict);
    expect_error([&] { read_npy(file); }, {file, problem});
  }
  // A shape far larger than the file is reported before any allocation.
  write_bytes(file, npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }", data));
  expect_error([&] { read_npy(file); }, {file, "truncated"});
}

TEST(Npy, UnsupportedDtypesAreNamed) {
  TempDir dir;
  run_python(
      "import numpy as np\n"
      "d = '" + dir.path() + "/'\n"
      "np.save(d + 'c8.npy', np.zeros(3, dtype=np.complex64))\n"
      "np.save(d + 'u2.npy', np.zeros(3, dtype=np.uint16))\n"
      "np.save(d + 'rec.npy', np.zeros(3, dtype=[('a', '<f4'), ('b', '<i4')]))\n"
      "np.save(d + 'str.npy', np.array(['ab', 'c']))\n");
  for (const char* name : {"c8.npy", "u2.npy", "rec.npy", "str.npy"}) {
    SCOPED_TRACE(name);
    expect_error([&] { read_npy(dir.file(name)); }, {dir.file(name), "unsupported .npy dtype"});
  }
  expect_error([&] { write_npy(dir.file("bf16.npy"), torch::zeros({2}, torch::kBFloat16)); },
                          {dir.file("bf16.npy"), "BFloat16"});
  EXPECT_FALSE(std::filesystem::exists(dir.file("bf16.npy")));
}

TEST(Npy, AtomicWriteLeavesOnlyTheTarget) {
  TempDir dir;
  write_npy(dir.file("x.npy"), torch::ones({4}));
  write_npy(dir.file("x.npy"), torch::zeros({2}));  // overwrite
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    names.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(names, std::vector<std::string>{"x.npy"});
  EXPECT_TRUE(torch::equal(read_npy(dir.file("x.npy")), torch::zeros({2})));

  // A failed write (missing directory) leaves nothing behind and names the file.
  const std::string unreachable = dir.file("no/such/dir/y.npy");
  EXPECT_THROW(write_npy(unreachable, torch::ones({4})), Error);
  EXPECT_FALSE(std::filesystem::exists(dir.file("no")));
}

}  // namespace
}  // namespace flowlab::io
