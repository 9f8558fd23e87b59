#include "flowlab/data/cifar10.h"

#include <torch/torch.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "flowlab/core/error.h"

namespace flowlab::data {
namespace {

constexpr int kTrainBatches = 5;

StoredImages read_cifar10_files(const std::vector<std::string>& files) {
  std::vector<torch::Tensor> pixels, labels;
  for (const std::string& file : files) {
    StoredImages part = read_cifar10_file(file);
    pixels.push_back(part.pixels);
    labels.push_back(part.labels);
  }
  return StoredImages{torch::cat(pixels), torch::cat(labels)};
}

}  // namespace

StoredImages read_cifar10_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open CIFAR-10 file '" + path + "': " + std::strerror(errno));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw Error("cannot read CIFAR-10 file '" + path + "': " + std::strerror(errno));
  const auto size = static_cast<int64_t>(bytes.size());
  if (size % Cifar10::kRecordBytes != 0) {
    throw Error(path + ": " + std::to_string(size) + " bytes is not a whole number of CIFAR-10 records (" +
                std::to_string(Cifar10::kRecordBytes) + " bytes each: a label, then 32x32 red, green, blue)");
  }
  const int64_t n = size / Cifar10::kRecordBytes;
  const torch::Tensor records = torch::from_blob(bytes.data(), {n, Cifar10::kRecordBytes}, torch::kUInt8);
  const torch::Tensor labels = records.select(1, 0).to(torch::kInt64);
  if (n > 0) {
    const int64_t worst = labels.max().item<int64_t>();
    if (worst >= Cifar10::kClasses) {
      const int64_t record = labels.argmax().item<int64_t>();
      throw Error(path + ": record " + std::to_string(record) + " has label " + std::to_string(worst) +
                  ", not in 0..9 (is this the binary version of CIFAR-10?)");
    }
  }
  // The planes are stored R, G, B, each row-major: exactly [3, 32, 32] per record.
  const torch::Tensor pixels =
      records.slice(1, 1).reshape({n, Cifar10::kChannels, Cifar10::kSide, Cifar10::kSide}).clone();
  return StoredImages{pixels, labels};
}

Cifar10Options Cifar10Options::read(config::Node& node) {
  Cifar10Options o;
  o.dir = node.require<std::string>("dir", "folder with data_batch_1.bin .. data_batch_5.bin and test_batch.bin");
  o.train = node.get_choice("split", "train", {"train", "test"}, "train: data_batch_1..5.bin, test: test_batch.bin") ==
            "train";
  o.zero_to_one = read_zero_to_one(node);
  o.classes = read_class_subset(node, Cifar10::kClasses, "keep only these labels (0..9); [] keeps all");
  o.augment = ImageAugmentOptions::read(node);
  if (node.describing()) return o;
  for (const std::string& file : o.files()) {
    if (!std::ifstream(file, std::ios::binary)) {
      node.fail("dir", "cannot open '" + file + "': " + std::strerror(errno) +
                           " (point dir at the cifar-10-batches-bin folder of the binary version)");
    }
  }
  return o;
}

std::vector<std::string> Cifar10Options::files() const {
  if (!train) return {dir + "/test_batch.bin"};
  std::vector<std::string> out;
  for (int i = 1; i <= kTrainBatches; ++i) out.push_back(dir + "/data_batch_" + std::to_string(i) + ".bin");
  return out;
}

Cifar10::Cifar10(const Cifar10Options& options)
    : ImageDataset("cifar10 in " + options.dir + (options.train ? " (train)" : " (test)"),
                   ImageLayout{kChannels, kSide, kSide, kClasses},
                   [options] { return keep_classes(read_cifar10_files(options.files()), options.classes); },
                   options.zero_to_one, options.augment) {}

}  // namespace flowlab::data
