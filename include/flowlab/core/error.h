#pragma once
// Exceptions that carry what went wrong to main(), which turns them into exit
// codes. Library code throws; it never exits.
#include <stdexcept>
#include <string>

namespace flowlab {

/// Any failure of flowlab itself (exit code 1).
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Bad configuration or command-line usage (exit code 2).
class ConfigError : public Error {
 public:
  using Error::Error;
};

/// The user interrupted a run (Ctrl-C); state was saved (exit code 130).
class Interrupted : public Error {
 public:
  using Error::Error;
};

/// Process exit codes, one place.
enum ExitCode : int { kExitOk = 0, kExitFailure = 1, kExitUsage = 2, kExitInterrupted = 130 };

}  // namespace flowlab
