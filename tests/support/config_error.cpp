#include "support/config_error.h"

#include <gtest/gtest.h>

#include "flowlab/core/error.h"

namespace flowlab::testing {

std::string config_error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a ConfigError";
  return "";
}

void expect_config_error(const std::function<void()>& action, const std::vector<std::string>& words) {
  const std::string message = config_error_of(action);
  if (message.empty()) return;  // already a failure
  for (const auto& word : words) {
    EXPECT_NE(message.find(word), std::string::npos) << "\"" << word << "\" is not in: " << message;
  }
}

}  // namespace flowlab::testing
