#include "flowlab/train/checkpoint.h"

#include <torch/serialize/archive.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "flowlab/core/error.h"
#include "flowlab/io/atomic_file.h"

namespace flowlab::train {
namespace {

constexpr int64_t kFormatVersion = 2;  // 2: models hold named fields; path state

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

}  // namespace

void save_checkpoint(const std::string& file, const CheckpointMeta& meta, torch::nn::Module& model,
                     torch::nn::Module& ema, torch::optim::Optimizer& optimizer, const at::Generator& gen) {
  torch::serialize::OutputArchive archive;
  archive.write("format_version", torch::tensor(kFormatVersion));
  archive.write("step", torch::tensor(meta.step));
  archive.write("config", text_to_tensor(meta.config_yaml));
  torch::serialize::OutputArchive model_archive, ema_archive, optimizer_archive;
  model.save(model_archive);
  ema.save(ema_archive);
  optimizer.save(optimizer_archive);
  archive.write("model", model_archive);
  archive.write("ema", ema_archive);
  archive.write("optimizer", optimizer_archive);
  archive.write("generator", gen.get_state());
  torch::serialize::OutputArchive path_archive;
  std::string names;
  for (const auto& [name, tensor] : meta.path_state) {
    names += name + "\n";
    path_archive.write(name, tensor);
  }
  path_archive.write("names", text_to_tensor(names));
  archive.write("path", path_archive);
  io::write_atomically(file, [&](const std::string& tmp) { archive.save_to(tmp); });
}

CheckpointMeta load_checkpoint(const std::string& file, torch::nn::Module* model, torch::nn::Module* ema,
                               torch::optim::Optimizer* optimizer, at::Generator* gen) {
  if (!std::filesystem::is_regular_file(file)) throw Error("checkpoint " + file + " does not exist");
  CheckpointMeta meta;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(file);
    torch::Tensor version, step, config, state;
    archive.read("format_version", version);
    if (version.item<int64_t>() != kFormatVersion) {
      throw Error("checkpoint " + file + " has format version " + std::to_string(version.item<int64_t>()) +
                  "; this flowlab reads version " + std::to_string(kFormatVersion));
    }
    archive.read("step", step);
    archive.read("config", config);
    meta.step = step.item<int64_t>();
    meta.config_yaml = tensor_to_text(config);
    auto read_module = [&](const char* key, torch::nn::Module* module) {
      if (!module) return;
      torch::serialize::InputArchive sub;
      archive.read(key, sub);
      module->load(sub);
    };
    read_module("model", model);
    read_module("ema", ema);
    if (optimizer) {
      torch::serialize::InputArchive sub;
      archive.read("optimizer", sub);
      optimizer->load(sub);
    }
    if (gen) {
      archive.read("generator", state);
      gen->set_state(state);
    }
    torch::serialize::InputArchive path_archive;
    archive.read("path", path_archive);
    torch::Tensor names;
    path_archive.read("names", names);
    std::string name;
    for (char c : tensor_to_text(names)) {
      if (c != '\n') {
        name += c;
        continue;
      }
      torch::Tensor tensor;
      path_archive.read(name, tensor);
      meta.path_state.emplace_back(name, tensor);
      name.clear();
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
