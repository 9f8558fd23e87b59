#include "run_overrides.h"

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

}  // namespace flowlab::cli
