#include "flowlab/data/fashion_mnist.h"

#include <torch/torch.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>

#include "flowlab/core/error.h"
#include "flowlab/core/strings.h"

namespace flowlab::data {
namespace {

constexpr uint8_t kUnsignedByteType = 0x08;
constexpr int kMaxRank = 4;
// Bigger than any IDX data set in use; stops a corrupt header from asking for terabytes.
constexpr uint64_t kMaxElements = uint64_t{1} << 32;
// Data is read in chunks, so a header that lies about the size costs at most what the file holds.
constexpr std::size_t kChunkBytes = std::size_t{1} << 24;
// Up to this much of the data is reserved before reading (bounded: a corrupt header may claim more).
constexpr uint64_t kReserveBytes = uint64_t{1} << 26;

struct GzCloser {
  void operator()(gzFile_s* file) const { gzclose(file); }
};
using GzHandle = std::unique_ptr<gzFile_s, GzCloser>;

std::string zlib_message(gzFile file) {
  int code = Z_OK;
  const char* message = gzerror(file, &code);
  return message && *message ? message : "zlib error " + std::to_string(code);
}

// Reads up to `size` bytes; returns how many arrived (fewer only at the end of the data).
std::size_t read_some(gzFile file, const std::string& path, uint8_t* out, std::size_t size) {
  std::size_t done = 0;
  while (done < size) {
    const auto want = static_cast<unsigned>(std::min<std::size_t>(size - done, kChunkBytes));
    const int got = gzread(file, out + done, want);
    if (got < 0) throw Error(path + ": corrupt or truncated gzip data (" + zlib_message(file) + ")");
    if (got == 0) break;
    done += static_cast<std::size_t>(got);
  }
  // A gzip stream cut short can return its last bytes and only then report the error.
  int code = Z_OK;
  gzerror(file, &code);
  if (code != Z_OK && code != Z_STREAM_END) {
    throw Error(path + ": corrupt or truncated gzip data (" + zlib_message(file) + ")");
  }
  return done;
}

void read_exactly(gzFile file, const std::string& path, uint8_t* out, std::size_t size, const std::string& what) {
  const std::size_t got = read_some(file, path, out, size);
  if (got != size) {
    throw Error(path + ": truncated IDX file: " + what + " needs " + std::to_string(size) + " bytes, found only " +
                std::to_string(got));
  }
}

std::string shape_text(torch::IntArrayRef shape) {
  std::vector<std::string> parts;
  for (int64_t s : shape) parts.push_back(std::to_string(s));
  return "[" + join(parts, ", ") + "]";
}

}  // namespace

torch::Tensor read_idx_ubyte(const std::string& path) {
  errno = 0;
  // gzopen also reads uncompressed files, so plain IDX files work too.
  GzHandle file(gzopen(path.c_str(), "rb"));
  if (!file) {
    throw Error("cannot open IDX file '" + path + "': " + (errno ? std::strerror(errno) : "zlib could not open it"));
  }
  uint8_t magic[4];
  read_exactly(file.get(), path, magic, 4, "the magic number");
  if (magic[0] != 0 || magic[1] != 0) throw Error(path + ": not an IDX file (bad magic number)");
  if (magic[2] != kUnsignedByteType) {
    char type[8];
    std::snprintf(type, sizeof type, "0x%02x", magic[2]);
    throw Error(path + ": IDX element type " + type + " is not unsigned byte (0x08)");
  }
  const int rank = magic[3];
  if (rank < 1 || rank > kMaxRank) {
    throw Error(path + ": IDX rank " + std::to_string(rank) + " is outside 1.." + std::to_string(kMaxRank));
  }
  std::vector<int64_t> shape;
  uint64_t elements = 1;
  for (int i = 0; i < rank; ++i) {
    uint8_t be[4];
    read_exactly(file.get(), path, be, 4, "the dimensions");
    const uint64_t size = (uint64_t{be[0]} << 24) | (uint64_t{be[1]} << 16) | (uint64_t{be[2]} << 8) | be[3];
    elements *= size;
    if (elements > kMaxElements) throw Error(path + ": IDX dimensions are implausibly large (corrupt header?)");
    shape.push_back(static_cast<int64_t>(size));
  }
  // Reserved up front (within a bound, as a corrupt header may claim far more than the file holds)
  // so the buffer is not reallocated while it grows; the tensor then takes it over without a copy.
  auto bytes = std::make_unique<std::vector<uint8_t>>();
  bytes->reserve(static_cast<std::size_t>(std::min<uint64_t>(elements, kReserveBytes)));
  for (uint64_t done = 0; done < elements;) {
    const std::size_t chunk = static_cast<std::size_t>(std::min<uint64_t>(elements - done, kChunkBytes));
    bytes->resize(static_cast<std::size_t>(done) + chunk);
    const std::size_t got = read_some(file.get(), path, bytes->data() + done, chunk);
    done += got;
    if (got < chunk) {
      throw Error(path + ": truncated IDX file: shape " + shape_text(shape) + " needs " + std::to_string(elements) +
                  " bytes of data, found only " + std::to_string(done));
    }
  }
  uint8_t extra = 0;
  if (read_some(file.get(), path, &extra, 1) != 0) {
    throw Error(path + ": IDX file holds more data than its header declares (shape " + shape_text(shape) + ")");
  }
  std::vector<uint8_t>* owned = bytes.release();
  return torch::from_blob(
      owned->data(), shape, [owned](void*) { delete owned; }, torch::kUInt8);
}

FashionMnistOptions FashionMnistOptions::read(config::Node& node) {
  FashionMnistOptions o;
  o.dir = node.get<std::string>("dir", o.dir, "folder with the {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz files");
  o.train = node.get_choice("split", "train", {"train", "test"}, "train: 60000 images, test: 10000") == "train";
  o.flat = node.get_choice("shape", "image", {"image", "flat"}, "image: [1, 28, 28], flat: [784]") == "flat";
  o.zero_to_one = read_zero_to_one(node);
  o.classes = read_class_subset(node, FashionMnist::kClasses, "keep only these labels (0..9); [] keeps all");
  o.augment = ImageAugmentOptions::read(node);
  if (node.describing()) return o;
  for (const std::string& file : {o.images_file(), o.labels_file()}) {
    if (!std::ifstream(file)) {
      node.fail("dir", "cannot open '" + file + "': " + std::strerror(errno) +
                           " (install Debian's dataset-fashion-mnist or point dir at the IDX files)");
    }
  }
  return o;
}

std::string FashionMnistOptions::images_file() const {
  return dir + (train ? "/train" : "/t10k") + "-images-idx3-ubyte.gz";
}

std::string FashionMnistOptions::labels_file() const {
  return dir + (train ? "/train" : "/t10k") + "-labels-idx1-ubyte.gz";
}

namespace {

StoredImages read_fashion_mnist(const FashionMnistOptions& options) {
  const std::string images_path = options.images_file(), labels_path = options.labels_file();
  const torch::Tensor images = read_idx_ubyte(images_path);
  if (images.dim() != 3 || images.size(1) != FashionMnist::kSide || images.size(2) != FashionMnist::kSide) {
    throw Error(images_path + ": expected images of shape [N, 28, 28], found " + shape_text(images.sizes()));
  }
  const torch::Tensor labels = read_idx_ubyte(labels_path);
  if (labels.dim() != 1 || labels.size(0) != images.size(0)) {
    throw Error(labels_path + ": expected " + std::to_string(images.size(0)) + " labels (one per image in " +
                images_path + "), found shape " + shape_text(labels.sizes()));
  }
  if (labels.numel() > 0 && labels.max().item<int64_t>() >= FashionMnist::kClasses) {
    throw Error(labels_path + ": label " + std::to_string(labels.max().item<int64_t>()) + " is not in 0..9");
  }
  const StoredImages all{images.unsqueeze(1), labels.to(torch::kInt64)};
  return keep_classes(all, options.classes);
}

}  // namespace

FashionMnist::FashionMnist(const FashionMnistOptions& options)
    : ImageDataset("fashion_mnist " + options.images_file(), ImageLayout{1, kSide, kSide, kClasses, options.flat},
                   [options] { return read_fashion_mnist(options); }, options.zero_to_one, options.augment) {}

}  // namespace flowlab::data
