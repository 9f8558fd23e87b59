#include "flowlab/io/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "flowlab/core/error.h"

namespace flowlab::io {
namespace {

// fsync so that a crash right after the rename cannot leave an empty file.
void sync_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw Error("cannot reopen " + path + ": " + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int saved = errno;
  ::close(fd);
  if (rc != 0) throw Error("cannot write " + path + ": " + std::strerror(saved));
}

// Every byte of `pieces` written, flushed and closed, or an Error with the system's reason.
void write_stream_checked(const std::string& path, const char* mode, std::initializer_list<std::string_view> pieces) {
  std::FILE* out = std::fopen(path.c_str(), mode);
  if (!out) throw Error("cannot open " + path + " for writing: " + std::strerror(errno));
  int error = 0;
  for (std::string_view piece : pieces) {
    // An empty piece may have no storage (the data of an empty tensor): fwrite must not see null.
    if (piece.empty()) continue;
    if (std::fwrite(piece.data(), 1, piece.size(), out) != piece.size()) {
      error = errno != 0 ? errno : EIO;
      break;
    }
  }
  if (std::fflush(out) != 0 && error == 0) error = errno;
  if (std::fclose(out) != 0 && error == 0) error = errno;
  if (error != 0) throw Error("cannot write " + path + ": " + std::strerror(error));
}

}  // namespace

void write_checked(const std::string& path, std::initializer_list<std::string_view> pieces) {
  write_stream_checked(path, "wb", pieces);
}

void append_checked(const std::string& path, std::string_view text) { write_stream_checked(path, "ab", {text}); }

void write_atomically(const std::string& path, const std::function<void(const std::string&)>& write) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  try {
    write(tmp);
    sync_file(tmp);
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
      throw Error("cannot rename " + tmp + " to " + path + ": " + std::strerror(errno));
    }
  } catch (const Error&) {
    std::remove(tmp.c_str());
    throw;
  } catch (const std::exception& e) {
    std::remove(tmp.c_str());
    throw Error("cannot write " + path + ": " + e.what());
  }
}

void write_text_atomically(const std::string& path, const std::string& contents) {
  write_atomically(path, [&](const std::string& tmp) { write_checked(tmp, {contents}); });
}

void make_directories(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error("cannot create directory " + dir + ": " + ec.message());
}

}  // namespace flowlab::io
