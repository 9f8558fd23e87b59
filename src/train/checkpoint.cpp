#include "flowlab/train/checkpoint.h"

#include <torch/serialize/archive.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "flowlab/core/error.h"
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
  io::write_atomically(file, [&](const std::string& tmp) { archive.save_to(tmp); });
}

CheckpointMeta load_checkpoint(const std::string& file, const CheckpointParts& parts) {
  if (!std::filesystem::is_regular_file(file)) throw Error("checkpoint " + file + " does not exist");
  CheckpointMeta meta;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(file);
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

void prune_checkpoints(const std::string& dir, int64_t keep) {
  if (keep <= 0) return;
  auto files = list_checkpoints(dir);
  for (std::size_t i = 0; i + static_cast<std::size_t>(keep) < files.size(); ++i) std::remove(files[i].c_str());
}

}  // namespace flowlab::train
