#include "support/helpers.h"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace flowlab::testing {

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "flowlab-test-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

CommandResult run_command(const std::string& command) {
  CommandResult result;
  const std::string wrapped = command + " 2>&1";
  FILE* pipe = ::popen(wrapped.c_str(), "r");
  if (!pipe) throw std::runtime_error("popen failed for: " + command);
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) result.output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

double json_value(const std::string& json, const std::string& key) {
  std::smatch m;
  if (!std::regex_search(json, m, std::regex("\"" + key + "\": ([-0-9.eE+naNIfity]+)"))) {
    ADD_FAILURE() << key << " not in " << json;
    return 0;
  }
  return std::stod(m[1]);
}

std::string run_python(const std::string& script) {
  TempDir dir;
  const std::string file = dir.file("oracle.py");
  {
    std::ofstream out(file);
    out << script;
  }
  CommandResult r = run_command(std::string(FLOWLAB_PYTHON) + " " + file);
  if (r.exit_code != 0) {
    throw std::runtime_error("python oracle failed (exit " + std::to_string(r.exit_code) + "):\n" + r.output);
  }
  return r.output;
}

bool python_has(const std::string& module) {
  return run_command(std::string(FLOWLAB_PYTHON) + " -c 'import " + module + "'").exit_code == 0;
}

std::string flowlab_binary() { return FLOWLAB_BINARY; }
std::string source_dir() { return FLOWLAB_SOURCE_DIR; }

std::string torchrun_binary() { return FLOWLAB_TORCHRUN; }

}  // namespace flowlab::testing
