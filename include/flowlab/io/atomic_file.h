#pragma once
// A finished file is never half-written: write to a temporary file beside the
// target, flush it to disk, then rename over the target.
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>

namespace flowlab::io {

/// Calls `write(tmp_path)`, then renames tmp_path to `path`. On any failure the
/// temporary file is removed, `path` is left as it was, and an Error is thrown
/// naming the file and the system's reason (e.g. "No space left on device").
void write_atomically(const std::string& path, const std::function<void(const std::string& tmp_path)>& write);

/// Writes `pieces` one after another to `path` (created or truncated), checking every write, the
/// flush and the close: a failure is an Error naming `path` and the system's reason (a full disk:
/// "No space left on device"). The one way flowlab writes a file's bytes.
void write_checked(const std::string& path, std::initializer_list<std::string_view> pieces);

/// Appends `text` to `path` (created if absent), checked as write_checked is.
void append_checked(const std::string& path, std::string_view text);

/// Writes `contents` to `path` atomically.
void write_text_atomically(const std::string& path, const std::string& contents);

/// Creates `dir` and its parents; throws Error naming the directory on failure.
void make_directories(const std::string& dir);

}  // namespace flowlab::io
