#pragma once
// Bad input must fail as a flowlab::Error whose message says what is wrong (a config mistake as a
// ConfigError that names the key); these helpers check that.
#include <functional>
#include <string>
#include <vector>

namespace flowlab::testing {

/// The message of the flowlab::Error that `action` throws; a test failure (and "") when it throws none.
std::string error_of(const std::function<void()>& action);

/// `action` throws a flowlab::Error whose message contains every one of `words`.
void expect_error(const std::function<void()>& action, const std::vector<std::string>& words);

/// The message of the ConfigError that `action` throws; a test failure (and "") when it throws none.
std::string config_error_of(const std::function<void()>& action);

/// `action` throws a ConfigError whose message contains every one of `words` (a key path, a bound...).
void expect_config_error(const std::function<void()>& action, const std::vector<std::string>& words);

}  // namespace flowlab::testing
