#include "run_overrides.h"

#include <chrono>

#include <cstdio>

#include "flowlab/core/error.h"
#include "flowlab/core/strings.h"

namespace flowlab::cli {

void add_class_overrides(const std::vector<int64_t>& classes, const std::optional<std::string>& mode,
                         const std::optional<double>& guidance, std::vector<std::string>& overrides) {
  if (!classes.empty()) {
    std::vector<std::string> parts;
    for (int64_t k : classes) parts.push_back(std::to_string(k));
    overrides.push_back("sample.class=[" + join(parts, ", ") + "]");
    if (!mode) overrides.push_back("sample.classes=auto");  // the listed classes, whatever the config says
  }
  if (mode) overrides.push_back("sample.classes=" + *mode);
  if (guidance) {
    char text[64];
    std::snprintf(text, sizeof(text), "%.17g", *guidance);
    overrides.push_back(std::string("sample.guidance=") + text);
  }
}

void add_sde_overrides(bool sde, const std::optional<double>& eps, std::vector<std::string>& overrides) {
  if (sde || eps) overrides.push_back("sample.sde.enabled=true");
  if (eps) {
    char text[64];
    std::snprintf(text, sizeof(text), "%.17g", *eps);
    overrides.push_back(std::string("sample.sde.eps=") + text);
  }
}

std::unique_ptr<distributed::ProcessGroup> join_launched_group(const distributed::LaunchEnvironment& launch,
                                                               const train::Experiment& exp) {
  if (!launch.data_parallel()) return nullptr;
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(exp.train.data_parallel.timeout_s * 1000));
  return distributed::connect(launch, exp.device, timeout);
}

}  // namespace flowlab::cli
