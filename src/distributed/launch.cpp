#include "flowlab/distributed/launch.h"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>

#include "flowlab/core/error.h"
#include "flowlab/io/json.h"

namespace flowlab::distributed {
namespace {

int64_t integer_variable(const char* name, const char* text, int64_t min, int64_t max) {
  errno = 0;
  char* end = nullptr;
  const long long value = std::strtoll(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < min || value > max) {
    throw ConfigError(std::string("environment variable ") + name + "=" + text + ": expected an integer in [" +
                      std::to_string(min) + ", " + std::to_string(max) + "]");
  }
  return value;
}

}  // namespace

std::string LaunchEnvironment::describe() const {
  return "rank " + std::to_string(rank) + " of " + std::to_string(world_size);
}

LaunchEnvironment read_launch_environment(const std::function<const char*(const char*)>& lookup) {
  const auto get = [&](const char* name) -> const char* {
    const char* value = lookup ? lookup(name) : std::getenv(name);
    return value && *value ? value : nullptr;
  };
  LaunchEnvironment env;
  const char* world = get("WORLD_SIZE");
  const char* rank = get("RANK");
  if (!world) {
    if (rank && integer_variable("RANK", rank, 0, 1 << 20) != 0) {
      throw ConfigError("environment variable RANK is set without WORLD_SIZE");
    }
    return env;
  }
  env.world_size = integer_variable("WORLD_SIZE", world, 1, 1 << 20);
  if (!rank) throw ConfigError("environment variable WORLD_SIZE=" + std::string(world) + " is set without RANK");
  env.rank = integer_variable("RANK", rank, 0, env.world_size - 1);
  if (const char* local = get("LOCAL_RANK")) env.local_rank = integer_variable("LOCAL_RANK", local, 0, 1 << 20);
  if (const char* addr = get("MASTER_ADDR")) {
    env.master_addr = addr;
  } else if (env.world_size > 1) {
    throw ConfigError("environment variable MASTER_ADDR is missing (the address of rank 0's store), with WORLD_SIZE=" +
                      std::to_string(env.world_size));
  }
  if (const char* port = get("MASTER_PORT")) {
    env.master_port = integer_variable("MASTER_PORT", port, 1, 65535);
  } else if (env.world_size > 1) {
    throw ConfigError("environment variable MASTER_PORT is missing, with WORLD_SIZE=" + std::to_string(env.world_size));
  }
  if (const char* agent = get("TORCHELASTIC_USE_AGENT_STORE")) {
    const std::string text = agent;
    if (text != "True" && text != "False" && text != "true" && text != "false" && text != "1" && text != "0") {
      throw ConfigError("environment variable TORCHELASTIC_USE_AGENT_STORE=" + text + ": expected True or False");
    }
    env.agent_store = text == "True" || text == "true" || text == "1";
  }
  if (const char* restarts = get("TORCHELASTIC_RESTART_COUNT")) {
    env.restart_count = integer_variable("TORCHELASTIC_RESTART_COUNT", restarts, 0, 1 << 30);
  }
  if (const char* file = get("TORCHELASTIC_ERROR_FILE")) env.error_file = file;
  return env;
}

void write_error_file(const std::string& file, const std::string& message) {
  if (file.empty()) return;
  try {
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
    io::JsonObject json;
    json.add("message", message).add("timestamp", static_cast<int64_t>(seconds));
    std::ofstream out(file, std::ios::trunc);
    out << json.str() << "\n";
  } catch (...) {
    // Reporting an error must not raise another.
  }
}

}  // namespace flowlab::distributed
