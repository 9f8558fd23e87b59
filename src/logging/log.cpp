#include "flowlab/core/log.h"

#include <spdlog/spdlog.h>

#include <cstdarg>
#include <cstdio>
#include <string>
#include <vector>

namespace flowlab {

void log_info(const std::string& message) { spdlog::info("{}", message); }
void log_warn(const std::string& message) { spdlog::warn("{}", message); }
void init_logging() { spdlog::set_pattern("[%H:%M:%S] %v"); }

void set_log_rank(long long rank) {
  if (rank == 0) return;
  spdlog::set_pattern("[%H:%M:%S] [rank " + std::to_string(rank) + "] %v");
  spdlog::set_level(spdlog::level::warn);
}

std::string format(const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  va_list copy;
  va_copy(copy, args);
  const int size = std::vsnprintf(nullptr, 0, fmt, copy);
  va_end(copy);
  std::vector<char> buffer(static_cast<std::size_t>(size > 0 ? size : 0) + 1);
  std::vsnprintf(buffer.data(), buffer.size(), fmt, args);
  va_end(args);
  return std::string(buffer.data(), static_cast<std::size_t>(size > 0 ? size : 0));
}

}  // namespace flowlab
