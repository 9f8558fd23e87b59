#pragma once
// Shared test helpers: temporary directories and the Python oracle
// (Debian's python3 with numpy, scipy, POT and torch).
#include <string>

namespace flowlab::testing {

/// A fresh directory under the system temp dir, removed when destroyed.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

/// Result of running a command.
struct CommandResult {
  int exit_code = -1;
  std::string output;  ///< stdout and stderr together
};

/// Runs `command` through /bin/sh, capturing stdout and stderr.
CommandResult run_command(const std::string& command);

/// Runs a Python script with the oracle interpreter; throws (failing the test)
/// when it exits non-zero. Returns its stdout and stderr.
std::string run_python(const std::string& script);

/// True when the oracle interpreter can import `module`.
bool python_has(const std::string& module);

/// The whole content of a text file ("" when it cannot be read).
std::string read_file(const std::string& path);

/// The number after "key": in a flat JSON text; a test failure (and 0) when it is missing.
double json_value(const std::string& json, const std::string& key);

/// Path of the built flowlab executable and of the source tree.
std::string flowlab_binary();
/// The executable, to start a command line with: flowlab() + " train ...".
inline std::string flowlab() { return flowlab_binary(); }
std::string source_dir();
/// The torchrun that goes with the LibTorch flowlab links (may not exist).
std::string torchrun_binary();

}  // namespace flowlab::testing
