#pragma once
// What every fuzz target shares: a private scratch folder for the files a reader opens (the
// readers take paths), and the rule for exceptions. An exception the CLI turns into a clear
// message (flowlab::Error and its subclasses, and for the config target c10::Error from a
// TORCH_CHECK) is an expected outcome; any other escaping exception is a finding, reported by
// aborting so libFuzzer saves the input.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <unistd.h>

#include <c10/util/Exception.h>

#include "flowlab/core/error.h"

namespace flowlab::fuzz {

/// A folder of this process's own (under $TMPDIR, /dev/shm when it exists: no disk traffic),
/// removed when the process exits normally. libFuzzer's -fork/-jobs workers each get their own.
inline const std::string& scratch_dir() {
  static const std::string dir = [] {
    std::string base = "/tmp";
    if (const char* t = std::getenv("TMPDIR"); t && *t) {
      base = t;
    } else if (std::filesystem::is_directory("/dev/shm")) {
      base = "/dev/shm";
    }
    std::string pattern = base + "/flowlab-fuzz-XXXXXX";
    if (!mkdtemp(pattern.data())) {
      std::perror("flowlab fuzz: mkdtemp");
      std::abort();
    }
    static const std::string removed_at_exit = pattern;
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(removed_at_exit, ignored);
    });
    return pattern;
  }();
  return dir;
}

/// Writes `size` bytes to `path`, replacing it.
inline void write_bytes(const std::string& path, const uint8_t* data, std::size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) {
    std::fprintf(stderr, "flowlab fuzz: cannot write %s\n", path.c_str());
    std::abort();
  }
}

/// A finding: prints what escaped and aborts (libFuzzer then writes the crash-* input).
[[noreturn]] inline void unexpected(const char* what, const std::exception* e) {
  std::fprintf(stderr, "flowlab fuzz: %s escaped the reader: %s\n", what, e ? e->what() : "(not a std::exception)");
  std::abort();
}

/// Runs `body`; flowlab::Error is expected, c10::Error too when `allow_torch_errors`, anything
/// else aborts.
template <class Body>
void expect_clean(Body&& body, bool allow_torch_errors) {
  try {
    body();
  } catch (const flowlab::Error&) {
  } catch (const c10::Error& e) {
    if (!allow_torch_errors) unexpected("c10::Error", &e);
  } catch (const std::exception& e) {
    unexpected("std::exception", &e);
  } catch (...) {
    unexpected("an exception", nullptr);
  }
}

}  // namespace flowlab::fuzz
