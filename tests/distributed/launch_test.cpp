// The launcher's environment contract (torchrun's variables) and torchrun's error file.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>

#include "flowlab/core/error.h"
#include "flowlab/distributed/launch.h"
#include "support/helpers.h"

namespace flowlab::distributed {
namespace {

LaunchEnvironment read(const std::map<std::string, std::string>& variables) {
  return read_launch_environment([&](const char* name) -> const char* {
    const auto it = variables.find(name);
    return it == variables.end() ? nullptr : it->second.c_str();
  });
}

TEST(LaunchEnvironment, NoVariablesIsOneProcess) {
  const LaunchEnvironment env = read({});
  EXPECT_FALSE(env.data_parallel());
  EXPECT_EQ(env.rank, 0);
  EXPECT_EQ(env.world_size, 1);
  EXPECT_FALSE(env.agent_store);
  // torchrun --nproc-per-node 1 sets the variables for one process: still no group.
  EXPECT_FALSE(read({{"RANK", "0"}, {"WORLD_SIZE", "1"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"}}).data_parallel());
}

TEST(LaunchEnvironment, ReadsTorchrunsVariables) {
  const LaunchEnvironment env = read({{"RANK", "3"},
                                      {"WORLD_SIZE", "8"},
                                      {"LOCAL_RANK", "1"},
                                      {"MASTER_ADDR", "node0.cluster"},
                                      {"MASTER_PORT", "29400"},
                                      {"TORCHELASTIC_USE_AGENT_STORE", "True"},
                                      {"TORCHELASTIC_RESTART_COUNT", "2"},
                                      {"TORCHELASTIC_ERROR_FILE", "/tmp/err.json"}});
  EXPECT_TRUE(env.data_parallel());
  EXPECT_EQ(env.rank, 3);
  EXPECT_EQ(env.world_size, 8);
  EXPECT_EQ(env.local_rank, 1);
  EXPECT_EQ(env.master_addr, "node0.cluster");
  EXPECT_EQ(env.master_port, 29400);
  EXPECT_TRUE(env.agent_store);
  EXPECT_EQ(env.restart_count, 2);
  EXPECT_EQ(env.error_file, "/tmp/err.json");
  EXPECT_EQ(env.describe(), "rank 3 of 8");
  EXPECT_FALSE(read({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"},
                     {"TORCHELASTIC_USE_AGENT_STORE", "False"}})
                   .agent_store);
}

TEST(LaunchEnvironment, MalformedOrMissingVariablesAreNamed) {
  const auto message = [](const std::map<std::string, std::string>& variables) {
    try {
      read(variables);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::map<std::string, std::string> ok{
      {"RANK", "1"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", "29500"}};
  auto with = [&](const std::string& key, const std::string& value) {
    auto v = ok;
    if (value.empty()) {
      v.erase(key);
    } else {
      v[key] = value;
    }
    return v;
  };
  EXPECT_NE(message(with("RANK", "2")).find("RANK=2"), std::string::npos);        // rank >= world size
  EXPECT_NE(message(with("RANK", "one")).find("RANK=one"), std::string::npos);
  EXPECT_NE(message(with("WORLD_SIZE", "0")).find("WORLD_SIZE=0"), std::string::npos);
  EXPECT_NE(message(with("MASTER_PORT", "70000")).find("MASTER_PORT=70000"), std::string::npos);
  EXPECT_NE(message(with("MASTER_ADDR", "")).find("MASTER_ADDR is missing"), std::string::npos);
  EXPECT_NE(message(with("MASTER_PORT", "")).find("MASTER_PORT is missing"), std::string::npos);
  EXPECT_NE(message(with("RANK", "")).find("without RANK"), std::string::npos);
  EXPECT_NE(message({{"RANK", "1"}}).find("without WORLD_SIZE"), std::string::npos);
  EXPECT_NE(message(with("TORCHELASTIC_USE_AGENT_STORE", "maybe")).find("True or False"), std::string::npos);
  EXPECT_EQ(message(ok), "no error");
}

TEST(LaunchEnvironment, ErrorFileIsJsonThatTorchrunReads) {
  testing::TempDir dir;
  const std::string file = dir.file("error.json");
  write_error_file(file, "flowlab: error: \"quoted\" and\nnewline");
  // torchrun's ProcessFailure reads {"message": str, "timestamp": int}.
  const std::string script = "import json\nd = json.load(open('" + file +
                             "'))\nassert isinstance(d['timestamp'], int) and d['timestamp'] > 1.6e9\n"
                             "print(d['message'])\n";
  EXPECT_EQ(testing::run_python(script), "flowlab: error: \"quoted\" and\nnewline\n");
  write_error_file("", "ignored");                        // no file: nothing
  write_error_file(dir.file("missing/dir/e.json"), "x");  // cannot write: no throw
}

}  // namespace
}  // namespace flowlab::distributed
