#include "flowlab/train/checkpoint.h"

#include <torch/serialize/archive.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <cstdio>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <zlib.h>

#include "flowlab/core/error.h"
#include "flowlab/core/log.h"
#include "flowlab/core/strings.h"
#include "flowlab/io/atomic_file.h"

namespace flowlab::train {
namespace {

// 1: network, EMA, optimizer, generator; 2: models hold named fields, path state;
// 3: named modules (with optional EMA), optimizers and generators, task state.
constexpr int64_t kFormatVersion = 3;

torch::Tensor text_to_tensor(const std::string& text) {
  auto t = torch::empty({static_cast<int64_t>(text.size())}, torch::kUInt8);
  std::copy(text.begin(), text.end(), t.data_ptr<uint8_t>());
  return t;
}

std::string tensor_to_text(const torch::Tensor& t) {
  const auto c = t.contiguous();
  const auto* p = c.data_ptr<uint8_t>();
  return std::string(p, p + c.numel());
}

// Named tensors with their names listed in order ("names": one per line).
void write_named_tensors(torch::serialize::OutputArchive& archive, const TaskState& tensors) {
  std::string names;
  for (const auto& [name, tensor] : tensors) {
    names += name + "\n";
    archive.write(name, tensor);
  }
  archive.write("names", text_to_tensor(names));
}

TaskState read_named_tensors(torch::serialize::InputArchive& archive) {
  TaskState out;
  torch::Tensor names;
  archive.read("names", names);
  std::string name;
  for (char c : tensor_to_text(names)) {
    if (c != '\n') {
      name += c;
      continue;
    }
    torch::Tensor tensor;
    archive.read(name, tensor);
    out.emplace_back(name, tensor);
    name.clear();
  }
  return out;
}

// A part that is not in the file: an Error naming the file and the part.
[[noreturn]] void missing(const std::string& file, const std::string& what) {
  throw Error("checkpoint " + file + " holds no " + what + " (a checkpoint of another task or model?)");
}

#if TORCH_VERSION_MAJOR >= 2
// LibTorch 1.x keyed a parameter's saved optimizer state by its TensorImpl printed in hex
// ("0x55..."); 2.x prints it in decimal and reads keys back with std::stoull, which turns every
// hex key into 0, so all states but one are lost and the rest left null. Put each saved state
// back on the parameter at the same position of its group.
template <class State>
void restore_hex_keyed_state(torch::optim::Optimizer& optimizer, torch::serialize::InputArchive& archive) {
  torch::serialize::InputArchive states, groups;
  if (!archive.try_read("state", states) || !archive.try_read("param_groups", groups)) return;
  const std::vector<std::string> keys = states.keys();
  if (std::none_of(keys.begin(), keys.end(), [](const std::string& k) { return k.rfind("0x", 0) == 0; })) return;
  auto& state = optimizer.state();
  for (std::size_t g = 0; g < optimizer.param_groups().size(); ++g) {
    torch::serialize::InputArchive group;
    if (!groups.try_read("param_groups/" + std::to_string(g), group)) continue;
    const std::vector<torch::Tensor>& params = optimizer.param_groups()[g].params();
    for (std::size_t i = 0; i < params.size(); ++i) {
      c10::IValue old_key;
      torch::serialize::InputArchive saved;
      if (!group.try_read("params/" + std::to_string(i), old_key) || !old_key.isString() ||
          !states.try_read(old_key.toStringRef(), saved)) {
        state.erase(params[i].unsafeGetTensorImpl());
        continue;
      }
      auto restored = std::make_unique<State>();
      restored->serialize(saved);
      state[params[i].unsafeGetTensorImpl()] = std::move(restored);
    }
  }
}
#endif

// optimizer->load, and for checkpoints written by LibTorch 1.x and read by 2.x, their state.
void load_optimizer(torch::optim::Optimizer& optimizer, torch::serialize::InputArchive& archive) {
  optimizer.load(archive);
#if TORCH_VERSION_MAJOR >= 2
  if (dynamic_cast<torch::optim::AdamW*>(&optimizer)) {
    restore_hex_keyed_state<torch::optim::AdamWParamState>(optimizer, archive);
  } else if (dynamic_cast<torch::optim::Adam*>(&optimizer)) {
    restore_hex_keyed_state<torch::optim::AdamParamState>(optimizer, archive);
  }
#endif
}

void read_sub(torch::serialize::InputArchive& from, const std::string& key, torch::serialize::InputArchive& to,
              const std::string& file, const std::string& what) {
  if (!from.try_read(key, to)) missing(file, what);
}

// Formats 1 and 2: one model (module "model") with its EMA, one optimizer, one generator.
void load_single_model(torch::serialize::InputArchive& archive, int64_t version, const CheckpointParts& parts,
                       const std::string& file, CheckpointMeta& meta) {
  for (const TrainedModule& m : parts.modules) {
    if (m.name != kModelModule) missing(file, "module '" + m.name + "' (format " + std::to_string(version) + ")");
    const auto load = [&](const char* key, torch::nn::Module& module) {
      torch::serialize::InputArchive sub;
      archive.read(key, sub);
      if (version >= 2) {
        module.load(sub);
        return;
      }
      // Format 1 saved the network itself; models now hold it as their child "network".
      for (const auto& child : module.named_children()) {
        if (child.key() == "network") {
          child.value()->load(sub);
          return;
        }
      }
      module.load(sub);
    };
    if (m.module) load("model", *m.module);
    if (m.ema) load("ema", *m.ema);
  }
  for (const auto& [name, optimizer] : parts.optimizers) {
    if (!optimizer) continue;
    if (name != kMainOptimizer) missing(file, "optimizer '" + name + "'");
    torch::serialize::InputArchive sub;
    archive.read("optimizer", sub);
    load_optimizer(*optimizer, sub);
  }
  for (const auto& [name, gen] : parts.generators) {
    if (!gen) continue;
    if (name != kTrainingGenerator) missing(file, "generator '" + name + "'");
    torch::Tensor state;
    archive.read("generator", state);
    gen->set_state(state);
  }
  if (version >= 2) {
    torch::serialize::InputArchive path_archive;
    archive.read("path", path_archive);
    meta.task_state = read_named_tensors(path_archive);
  }
}

void load_named_parts(torch::serialize::InputArchive& archive, const CheckpointParts& parts, const std::string& file,
                      CheckpointMeta& meta) {
  torch::serialize::InputArchive modules, emas, optimizers, generators, task;
  archive.read("modules", modules);
  archive.read("ema_modules", emas);
  archive.read("optimizers", optimizers);
  archive.read("generators", generators);
  archive.read("task", task);
  for (const TrainedModule& m : parts.modules) {
    if (m.module) {
      torch::serialize::InputArchive sub;
      read_sub(modules, m.name, sub, file, "module '" + m.name + "'");
      m.module->load(sub);
    }
    if (m.ema) {
      torch::serialize::InputArchive ema;
      read_sub(emas, m.name, ema, file, "EMA of module '" + m.name + "'");
      m.ema->load(ema);
    }
  }
  for (const auto& [name, optimizer] : parts.optimizers) {
    if (!optimizer) continue;
    torch::serialize::InputArchive sub;
    read_sub(optimizers, name, sub, file, "optimizer '" + name + "'");
    load_optimizer(*optimizer, sub);
  }
  for (const auto& [name, gen] : parts.generators) {
    if (!gen) continue;
    torch::Tensor state;
    if (!generators.try_read(name, state)) missing(file, "generator '" + name + "'");
    gen->set_state(state);
  }
  meta.task_state = read_named_tensors(task);
}

}  // namespace

namespace {

// After the archive, one line: the tag, the CRC-32 of the archive's bytes as 8 hex digits, and
// their number: "\nflowlab-checkpoint crc32 1a2b3c4d bytes 681234\n".
constexpr const char* kTrailerTag = "\nflowlab-checkpoint crc32 ";

uint32_t crc32_of(const char* data, std::size_t size, uint32_t crc = 0) {
  uLong value = crc;
  while (size > 0) {
    const std::size_t chunk = std::min<std::size_t>(size, 1u << 30);
    value = crc32(value, reinterpret_cast<const Bytef*>(data), static_cast<uInt>(chunk));
    data += chunk;
    size -= chunk;
  }
  return static_cast<uint32_t>(value);
}

std::string checksum_trailer(const std::string& bytes) {
  char trailer[96];
  std::snprintf(trailer, sizeof(trailer), "%s%08x bytes %llu\n", kTrailerTag, crc32_of(bytes.data(), bytes.size()),
                static_cast<unsigned long long>(bytes.size()));
  return trailer;
}

// A checkpoint with a trailer must have the bytes and the CRC-32 it names; one without (written
// before checksums) is left to the archive reader.
void verify_checksum(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error("cannot open checkpoint " + file + ": " + std::strerror(errno));
  in.seekg(0, std::ios::end);
  const auto size = static_cast<uint64_t>(in.tellg());
  const uint64_t tail_size = std::min<uint64_t>(size, 96);
  std::string tail(tail_size, '\0');
  in.seekg(static_cast<std::streamoff>(size - tail_size));
  in.read(tail.data(), static_cast<std::streamsize>(tail_size));
  const auto at = tail.rfind(kTrailerTag);
  if (at == std::string::npos) return;
  unsigned int expected_crc = 0;
  unsigned long long expected_size = 0;
  if (std::sscanf(tail.c_str() + at + std::strlen(kTrailerTag), "%8x bytes %llu", &expected_crc, &expected_size) != 2 ||
      expected_size != size - (tail_size - at)) {
    throw CorruptCheckpoint("checkpoint " + file + " is corrupt: it is " + std::to_string(size) +
                            " bytes long, not what its checksum trailer says");
  }
  in.seekg(0);
  std::vector<char> buffer(1 << 20);
  uint32_t crc = 0;
  for (uint64_t left = expected_size; left > 0;) {
    const auto chunk = static_cast<std::streamsize>(std::min<uint64_t>(left, buffer.size()));
    if (!in.read(buffer.data(), chunk)) throw CorruptCheckpoint("cannot read checkpoint " + file);
    crc = crc32_of(buffer.data(), static_cast<std::size_t>(chunk), crc);
    left -= static_cast<uint64_t>(chunk);
  }
  if (crc != expected_crc) {
    char text[96];
    std::snprintf(text, sizeof(text), " is corrupt: CRC-32 %08x, written as %08x", crc, expected_crc);
    throw CorruptCheckpoint("checkpoint " + file + text);
  }
}

}  // namespace

void save_checkpoint(const std::string& file, const CheckpointMeta& meta, const CheckpointParts& parts) {
  torch::serialize::OutputArchive archive;
  archive.write("format_version", torch::tensor(kFormatVersion));
  archive.write("step", torch::tensor(meta.step));
  archive.write("config", text_to_tensor(meta.config_yaml));
  torch::serialize::OutputArchive modules, emas, optimizers, generators, task;
  for (const TrainedModule& m : parts.modules) {
    TORCH_CHECK(m.module, "checkpoint: module '", m.name, "' is null");
    torch::serialize::OutputArchive sub;
    m.module->save(sub);
    modules.write(m.name, sub);
    if (m.ema) {
      torch::serialize::OutputArchive ema;
      m.ema->save(ema);
      emas.write(m.name, ema);
    }
  }
  for (const auto& [name, optimizer] : parts.optimizers) {
    torch::serialize::OutputArchive sub;
    optimizer->save(sub);
    optimizers.write(name, sub);
  }
  // The generator states are saved so the data stream resumes exactly.
  for (const auto& [name, gen] : parts.generators) generators.write(name, gen->get_state());
  write_named_tensors(task, meta.task_state);
  archive.write("modules", modules);
  archive.write("ema_modules", emas);
  archive.write("optimizers", optimizers);
  archive.write("generators", generators);
  archive.write("task", task);
  // In memory first: PyTorch's file writer aborts the process when a write fails while it closes.
  std::ostringstream serialised;
  archive.save_to(serialised);
  std::string bytes = serialised.str();
  bytes += checksum_trailer(bytes);
  io::write_atomically(file, [&](const std::string& tmp) { io::write_checked(tmp, {bytes}); });
}

CheckpointMeta load_checkpoint(const std::string& file, const CheckpointParts& parts) {
  if (!std::filesystem::is_regular_file(file)) throw Error("checkpoint " + file + " does not exist");
  verify_checksum(file);
  CheckpointMeta meta;
  try {
    torch::serialize::InputArchive archive;
    try {
      archive.load_from(file);
    } catch (const std::exception& e) {
      throw CorruptCheckpoint("checkpoint " + file + " is corrupt, truncated or not a flowlab checkpoint (" +
                              first_line(e.what()) + ")");
    }
    torch::Tensor version, step, config;
    archive.read("format_version", version);
    meta.format_version = version.item<int64_t>();
    if (meta.format_version < 1 || meta.format_version > kFormatVersion) {
      throw Error("checkpoint " + file + " has format version " + std::to_string(meta.format_version) +
                  "; this flowlab reads versions 1 to " + std::to_string(kFormatVersion));
    }
    archive.read("step", step);
    archive.read("config", config);
    meta.step = step.item<int64_t>();
    meta.config_yaml = tensor_to_text(config);
    if (meta.format_version < 3) {
      load_single_model(archive, meta.format_version, parts, file, meta);
    } else {
      load_named_parts(archive, parts, file, meta);
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    std::string reason = e.what();
    reason = reason.substr(0, reason.find('\n'));
    throw Error("cannot read checkpoint " + file + ": corrupt, truncated or not a flowlab checkpoint (" + reason + ")");
  }
  return meta;
}

std::pair<std::string, CheckpointMeta> load_newest_checkpoint(const std::string& dir, const CheckpointParts& parts) {
  const std::vector<std::string> files = list_checkpoints(dir);
  if (files.empty()) throw Error("no checkpoint in " + dir + " (train the run first)");
  std::vector<std::string> skipped;
  for (auto it = files.rbegin(); it != files.rend(); ++it) {
    try {
      CheckpointMeta meta = load_checkpoint(*it, parts);
      if (!skipped.empty()) {
        log_warn(join(skipped, "; ") + "; using " + *it + " (step " + std::to_string(meta.step) + ") instead");
      }
      return {*it, std::move(meta)};
    } catch (const CorruptCheckpoint& e) {
      skipped.push_back(e.what());
    }
  }
  throw Error("no readable checkpoint in " + dir + ": " + join(skipped, "; "));
}

std::string checkpoint_file(const std::string& dir, int64_t step) {
  char name[64];
  std::snprintf(name, sizeof(name), "step_%09lld.pt", static_cast<long long>(step));
  return dir + "/" + name;
}

std::vector<std::string> list_checkpoints(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("step_", 0) == 0 && name.size() > 3 && name.substr(name.size() - 3) == ".pt") {
      files.push_back(entry.path().string());
    }
  }
  std::sort(files.begin(), files.end());  // zero-padded step numbers sort as numbers
  return files;
}

std::string latest_checkpoint(const std::string& dir) {
  const auto files = list_checkpoints(dir);
  if (files.empty()) throw Error("no checkpoint in " + dir + " (train the run first)");
  return files.back();
}

void remove_unfinished_checkpoints(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return;
  std::vector<std::filesystem::path> unfinished;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("step_", 0) == 0 && name.find(".pt.tmp.") != std::string::npos) unfinished.push_back(entry.path());
  }
  for (const auto& path : unfinished) {
    log_warn("removing " + path.string() + ", a checkpoint whose writing was cut short");
    std::filesystem::remove(path, ec);
  }
}

void prune_checkpoints(const std::string& dir, int64_t keep) {
  if (keep <= 0) return;
  auto files = list_checkpoints(dir);
  for (std::size_t i = 0; i + static_cast<std::size_t>(keep) < files.size(); ++i) std::remove(files[i].c_str());
}

}  // namespace flowlab::train
