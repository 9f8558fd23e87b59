#pragma once
// Logging to stderr. Implemented over spdlog in a translation unit that sees no
// torch headers, because PyTorch 2.x ships its own fmt, which must not meet the
// system fmt that spdlog is built against.
#include <string>

namespace flowlab {

void log_info(const std::string& message);
void log_warn(const std::string& message);
/// Short "[HH:MM:SS] message" lines; call once from main().
void init_logging();
/// In a data-parallel run: rank 0 logs as usual, other ranks only warnings, marked "[rank N]".
void set_log_rank(long long rank);

/// printf-style formatting into a std::string.
std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

}  // namespace flowlab
