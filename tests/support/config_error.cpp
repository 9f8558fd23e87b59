#include "support/config_error.h"

#include <gtest/gtest.h>

#include "flowlab/core/error.h"

namespace flowlab::testing {
namespace {

template <class E>
std::string message_of(const std::function<void()>& action, const char* expected) {
  try {
    action();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a " << expected;
  return "";
}

void expect_words(const std::string& message, const std::vector<std::string>& words) {
  if (message.empty()) return;  // already a failure
  for (const auto& word : words) {
    EXPECT_NE(message.find(word), std::string::npos) << "\"" << word << "\" is not in: " << message;
  }
}

}  // namespace

std::string error_of(const std::function<void()>& action) { return message_of<Error>(action, "flowlab::Error"); }

void expect_error(const std::function<void()>& action, const std::vector<std::string>& words) {
  expect_words(error_of(action), words);
}

std::string config_error_of(const std::function<void()>& action) {
  return message_of<ConfigError>(action, "ConfigError");
}

void expect_config_error(const std::function<void()>& action, const std::vector<std::string>& words) {
  expect_words(config_error_of(action), words);
}

}  // namespace flowlab::testing
