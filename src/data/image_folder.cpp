#include "flowlab/data/image_folder.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>

#include "flowlab/core/error.h"

// Static linkage keeps stb's symbols private to this file, so tests and other parts of
// flowlab may compile their own stb_image without duplicate definitions.
// Only the formats documented (PNG, JPEG, BMP): stb_image picks the decoder by the file's
// content, so without these a file named .png could reach its TGA, PSD, GIF, HDR, PIC or PNM code.
#define STB_IMAGE_STATIC
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>
#undef STB_IMAGE_IMPLEMENTATION
#undef STB_IMAGE_STATIC

namespace flowlab::data {
namespace {

namespace fs = std::filesystem;

bool is_hidden(const fs::path& path) {
  const std::string name = path.filename().string();
  return !name.empty() && name[0] == '.';
}

bool has_image_extension(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp";
}

bool is_image_file(const fs::directory_entry& entry) {
  return !is_hidden(entry.path()) && entry.is_regular_file() && has_image_extension(entry.path());
}

// Image files at any depth below `folder`, sorted; hidden files and folders are skipped.
std::vector<std::string> images_below(const fs::path& folder) {
  std::vector<std::string> out;
  for (auto it = fs::recursive_directory_iterator(folder); it != fs::recursive_directory_iterator(); ++it) {
    if (is_hidden(it->path())) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (is_image_file(*it)) out.push_back(it->path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

struct StbFree {
  void operator()(stbi_uc* pixels) const { stbi_image_free(pixels); }
};

// What a file's header may claim before anything is allocated for it. stb_image allocates the
// whole image from the header's width and height before it reads the pixels (and BMP rows
// past the end of a short file read as zeros), so a corrupt or hostile header of a few bytes
// could ask for gigabytes. No format flowlab reads packs more than 8192 pixels into one byte
// (PNG's deflate stops near 1032:1, at 1 bit per pixel at most 8 pixels per byte of raw data;
// JPEG needs at least 2 bits per 8 x 8 block; BMP is uncompressed), nor does a dataset image
// need more than 2^28 pixels (16384 x 16384).
constexpr int64_t kMaxImagePixels = int64_t{1} << 28;
constexpr int64_t kMaxPixelsPerFileByte = 8192;

void check_claimed_size(const std::string& path) {
  int width = 0, height = 0, in_file = 0;
  if (!stbi_info(path.c_str(), &width, &height, &in_file)) {
    throw Error(path + ": cannot decode image (" + stbi_failure_reason() + ")");
  }
  const int64_t pixels = int64_t{width} * height;
  const std::string claimed = std::to_string(width) + " x " + std::to_string(height);
  if (width <= 0 || height <= 0) throw Error(path + ": corrupt image: its header claims " + claimed + " pixels");
  if (pixels > kMaxImagePixels) {
    throw Error(path + ": image of " + claimed + " pixels is larger than flowlab decodes (at most 2^28 pixels)");
  }
  std::error_code error;
  const auto bytes = static_cast<int64_t>(fs::file_size(path, error));
  if (!error && pixels > kMaxPixelsPerFileByte * std::max<int64_t>(bytes, 64)) {
    throw Error(path + ": corrupt image: its header claims " + claimed + " pixels, more than a file of " +
                std::to_string(bytes) + " bytes can hold");
  }
}

// stb_image (Debian's 2.27) does not check that a JPEG Huffman table (DHT segment) lists at
// most 256 codes: the counts of its 16 code lengths, summed, index a 257-entry array, so a
// corrupt table writes past it. Every DHT segment of `bytes` (before the first scan and between
// the scans of a progressive JPEG) is checked here first; a bad one is an Error.
// Where the segments of a JPEG start (after SOI: FF D8, which stb_image accepts after any
// number of FF fill bytes), or 0 when `bytes` is not a JPEG to stb_image.
std::size_t jpeg_segments_start(const std::vector<uint8_t>& bytes) {
  std::size_t at = 0;
  while (at < bytes.size() && bytes[at] == 0xFF) ++at;
  return at >= 1 && at < bytes.size() && bytes[at] == 0xD8 ? at + 1 : 0;
}

void check_jpeg_huffman_tables(const std::string& path, const std::vector<uint8_t>& bytes, std::size_t start) {
  const auto corrupt = [&](const std::string& what) { return Error(path + ": corrupt JPEG (" + what + ")"); };
  std::size_t at = start;
  while (at + 1 < bytes.size()) {
    if (bytes[at] != 0xFF) {
      ++at;  // entropy-coded data of a scan
      continue;
    }
    const uint8_t marker = bytes[at + 1];
    if (marker == 0xFF) {  // fill byte
      ++at;
      continue;
    }
    if (marker == 0x00 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) {  // stuffed byte, RST, TEM
      at += 2;
      continue;
    }
    if (marker == 0xD9) return;  // EOI
    if (at + 3 >= bytes.size()) return;  // truncated: stb_image reports it
    const std::size_t length = (std::size_t{bytes[at + 2]} << 8) | bytes[at + 3];
    if (marker == 0xC4) {
      // As stb_image reads it: tables while the segment's length is not used up, each read on
      // from where the last ended (past the segment's end if the counts say so; past the
      // file's end as zeros); a length not used up exactly is its error, and it stops there.
      const auto byte = [&](std::size_t i) -> std::size_t { return i < bytes.size() ? bytes[i] : 0; };
      std::size_t table = at + 4;
      int64_t left = static_cast<int64_t>(length) - 2;
      while (left > 0) {
        std::size_t codes = 0;
        for (int i = 1; i <= 16; ++i) codes += byte(table + i);
        if (codes > 256) {
          throw corrupt("a Huffman table lists " + std::to_string(codes) + " codes, at most 256 exist");
        }
        table += 17 + codes;
        left -= static_cast<int64_t>(17 + codes);
      }
      if (left != 0) return;
      at = table;
      continue;
    }
    at += 2 + std::max<std::size_t>(length, 2);
  }
}

// uint8 [channels, h, w], as stb_image converts the file to `channels`.
torch::Tensor decode_image_file(const std::string& path, int64_t channels) {
  // The tables first: stb_image reads them already when it looks for the size (stbi_info).
  if (std::ifstream in{path, std::ios::binary}; in && in.peek() == 0xFF) {
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (const std::size_t start = jpeg_segments_start(bytes)) check_jpeg_huffman_tables(path, bytes, start);
  }
  check_claimed_size(path);
  int width = 0, height = 0, in_file = 0;
  std::unique_ptr<stbi_uc, StbFree> pixels(
      stbi_load(path.c_str(), &width, &height, &in_file, static_cast<int>(channels)));
  if (!pixels) throw Error(path + ": cannot decode image (" + stbi_failure_reason() + ")");
  return torch::from_blob(pixels.get(), {height, width, channels}, torch::kUInt8).permute({2, 0, 1}).clone();
}

// Antialiased bilinear resampling of uint8 [C, h, w] to [C, height, width].
torch::Tensor resample(const torch::Tensor& pixels, int64_t height, int64_t width) {
  if (pixels.size(1) == height && pixels.size(2) == width) return pixels;
  namespace F = torch::nn::functional;
  const torch::Tensor resized = F::interpolate(pixels.unsqueeze(0).to(torch::kFloat32),
                                               F::InterpolateFuncOptions()
                                                   .size(std::vector<int64_t>{height, width})
                                                   .mode(torch::kBilinear)
                                                   .align_corners(false)
                                                   .antialias(true));
  return resized.squeeze(0).round().clamp(0, 255).to(torch::kUInt8);
}

// Offset of a centred crop of `crop` out of `length`, rounded half to even like torchvision's round().
int64_t centre_offset(int64_t length, int64_t crop) {
  return static_cast<int64_t>(std::nearbyint(static_cast<double>(length - crop) / 2.0));
}

// `size` is [H, W] or one integer for a square.
void read_image_size(config::Node& node, ImageFolderOptions& o) {
  const std::string doc = "[H, W] of the stored images, or one integer for a square";
  if (node.describing() || !node.has("size")) {
    node.require<std::vector<int64_t>>("size", doc);
    return;
  }
  std::vector<int64_t> hw;
  try {
    hw = {node.require<int64_t>("size", doc)};
  } catch (const ConfigError&) {
    try {
      hw = node.require<std::vector<int64_t>>("size", doc);
    } catch (const ConfigError&) {
      hw.clear();
    }
  }
  const bool positive = std::all_of(hw.begin(), hw.end(), [](int64_t s) { return s > 0; });
  node.expect((hw.size() == 1 || hw.size() == 2) && positive, "size", "[H, W] or one integer, sizes >= 1");
  o.height = hw.front();
  o.width = hw.back();
}

// The listed files of the chosen split and classes, in split order.
ImageFolderListing choose_files(const ImageFolderOptions& o, ImageFolderListing listing) {
  const std::set<int64_t> classes(o.classes.begin(), o.classes.end());
  std::vector<ImageFolderListing::File> chosen;
  for (std::size_t i = 0; i < listing.files.size(); ++i) {
    using Split = ImageFolderOptions::Split;
    const bool test = in_test_split(static_cast<int64_t>(i), o.test_fraction);
    if ((o.split == Split::kTrain && test) || (o.split == Split::kTest && !test)) continue;
    if (!classes.empty() && !classes.count(listing.files[i].label)) continue;
    chosen.push_back(listing.files[i]);
  }
  listing.files = std::move(chosen);
  return listing;
}

StoredImages decode_listing(const ImageFolderOptions& o, const ImageFolderListing& listing) {
  const auto n = static_cast<int64_t>(listing.files.size());
  torch::Tensor pixels = torch::empty({n, o.channels, o.height, o.width}, torch::kUInt8);
  // Decoding dominates start-up; stb_image keeps its error text per thread.
  at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const std::string& file = listing.files[static_cast<std::size_t>(i)].path;
      pixels[i].copy_(fit_image(decode_image_file(file, o.channels), o.height, o.width, o.fit));
    }
  });
  StoredImages stored{pixels, torch::Tensor()};
  if (!listing.class_names.empty()) {
    std::vector<int64_t> labels;
    for (const auto& file : listing.files) labels.push_back(file.label);
    stored.labels = torch::tensor(labels, torch::kInt64);
  }
  return stored;
}

std::vector<std::string> paths_of(const ImageFolderListing& listing) {
  std::vector<std::string> out;
  for (const auto& file : listing.files) out.push_back(file.path);
  return out;
}

}  // namespace

torch::Tensor fit_image(const torch::Tensor& pixels, int64_t height, int64_t width, ImageFit fit) {
  TORCH_CHECK(pixels.dim() == 3 && pixels.scalar_type() == torch::kUInt8, "fit_image: expected uint8 [C, h, w]");
  TORCH_CHECK(height > 0 && width > 0, "fit_image: size must be positive, got ", height, "x", width);
  if (fit == ImageFit::kResize) return resample(pixels, height, width);
  const int64_t h = pixels.size(1), w = pixels.size(2);
  int64_t scaled_h = height, scaled_w = width;
  // The side needing the larger scale is matched exactly; the other is truncated, as torchvision does.
  if (height * w >= width * h) {
    scaled_w = std::max(width, static_cast<int64_t>(static_cast<double>(w) * height / h));
  } else {
    scaled_h = std::max(height, static_cast<int64_t>(static_cast<double>(h) * width / w));
  }
  const torch::Tensor scaled = resample(pixels, scaled_h, scaled_w);
  const int64_t top = centre_offset(scaled_h, height), left = centre_offset(scaled_w, width);
  return scaled.slice(1, top, top + height).slice(2, left, left + width).contiguous();
}

bool in_test_split(int64_t i, double test_fraction) {
  return std::floor(static_cast<double>(i + 1) * test_fraction) > std::floor(static_cast<double>(i) * test_fraction);
}

ImageFolderListing list_image_folder(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw ConfigError("image folder '" + path + "' does not exist");
  if (!fs::is_directory(path, ec)) throw ConfigError("'" + path + "' is not a folder");
  ImageFolderListing listing;
  try {
    std::vector<std::string> loose;
    for (const fs::directory_entry& entry : fs::directory_iterator(path)) {
      if (is_hidden(entry.path())) continue;
      if (entry.is_directory()) {
        listing.class_names.push_back(entry.path().filename().string());
      } else if (is_image_file(entry)) {
        loose.push_back(entry.path().string());
      }
    }
    std::sort(listing.class_names.begin(), listing.class_names.end());
    std::sort(loose.begin(), loose.end());
    if (!listing.class_names.empty() && !loose.empty()) {
      throw ConfigError("'" + path + "' holds both images (" + fs::path(loose.front()).filename().string() +
                        ") and sub-folders (" + listing.class_names.front() +
                        "): put every image in a class folder, or use no folders for unlabelled images");
    }
    if (listing.class_names.empty()) {
      if (loose.empty()) throw ConfigError("'" + path + "' holds no image files (.png, .jpg, .jpeg, .bmp)");
      for (const std::string& file : loose) listing.files.push_back({file, -1});
      return listing;
    }
    for (std::size_t label = 0; label < listing.class_names.size(); ++label) {
      const fs::path folder = fs::path(path) / listing.class_names[label];
      const std::vector<std::string> files = images_below(folder);
      if (files.empty()) {
        throw ConfigError("class folder '" + folder.string() + "' holds no image files (.png, .jpg, .jpeg, .bmp)");
      }
      for (const std::string& file : files) listing.files.push_back({file, static_cast<int64_t>(label)});
    }
  } catch (const fs::filesystem_error& e) {
    throw Error("cannot list image folder '" + path + "': " + e.what());
  }
  return listing;
}

ImageFolderOptions ImageFolderOptions::read(config::Node& node) {
  ImageFolderOptions o;
  o.path = node.require<std::string>("path", "folder of images, or of one sub-folder of images per class");
  ImageFolderListing listing;
  if (!node.describing()) {
    try {
      listing = list_image_folder(o.path);
    } catch (const Error& e) {
      node.fail("path", e.what());
    }
  }
  read_image_size(node, o);
  o.channels = node.get<int64_t>("channels", o.channels, "3: RGB, 1: grey");
  node.expect(o.channels == 1 || o.channels == 3, "channels", "1 (grey) or 3 (RGB)");
  o.fit = node.get_choice("fit", "center_crop", {"center_crop", "resize"},
                          "center_crop: scale to cover size, cut out the centre; resize: stretch to size") == "resize"
              ? ImageFit::kResize
              : ImageFit::kCenterCrop;
  const std::string split = node.get_choice("split", "all", {"all", "train", "test"},
                                            "test: file i when floor((i+1)*test_fraction) > floor(i*test_fraction)");
  o.split = split == "train" ? Split::kTrain : split == "test" ? Split::kTest : Split::kAll;
  o.test_fraction = node.get<double>("test_fraction", o.test_fraction, "share of the files in split test");
  node.expect(o.test_fraction > 0 && o.test_fraction < 1, "test_fraction", "a number strictly between 0 and 1");
  o.zero_to_one = read_zero_to_one(node);
  const std::string classes_doc = "keep only these labels (indices of the sorted sub-folders); [] keeps all";
  const auto labelled_classes = static_cast<int64_t>(listing.class_names.size());
  if (node.describing() || labelled_classes > 0) {
    o.classes = read_class_subset(node, labelled_classes, classes_doc);
  } else {
    o.classes = node.get<std::vector<int64_t>>("classes", {}, classes_doc);
    if (!o.classes.empty()) node.fail("classes", "'" + o.path + "' has no class folders, so no labels to keep");
  }
  o.augment = ImageAugmentOptions::read(node);
  return o;
}

ImageFolder::ImageFolder(const ImageFolderOptions& options)
    : ImageFolder(options, choose_files(options, list_image_folder(options.path))) {}

ImageFolder::ImageFolder(const ImageFolderOptions& options, ImageFolderListing listing)
    : ImageDataset("image_folder " + options.path,
                   ImageLayout{options.channels, options.height, options.width,
                               static_cast<int64_t>(listing.class_names.size())},
                   [options, listing] { return decode_listing(options, listing); }, options.zero_to_one,
                   options.augment),
      class_names_(std::move(listing.class_names)),
      files_(paths_of(listing)) {
  // Known before decoding, so said at once.
  if (files_.empty()) throw Error("image_folder " + options.path + ": no images of the chosen split and classes");
}

}  // namespace flowlab::data
