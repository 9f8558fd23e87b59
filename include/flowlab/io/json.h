#pragma once
// A small JSON writer for what flowlab prints and saves (reports, metrics.jsonl,
// eval and ot results). Values keep their insertion order; strings are escaped;
// NaN and infinities are written as NaN, Infinity and -Infinity, which Python's
// json module (and so every analysis notebook) reads back. General JSON libraries
// write them as null, which would turn a diverged metric into a missing one.
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace flowlab::io {

/// A string as a JSON string literal: quoted, with ", \ and control characters escaped.
std::string json_quote(const std::string& text);

class JsonArray;

/// One JSON object, built key by key and written on one line.
class JsonObject {
 public:
  JsonObject& add(const std::string& key, double value);
  JsonObject& add(const std::string& key, bool value);
  JsonObject& add(const std::string& key, const std::string& value);
  JsonObject& add(const std::string& key, const char* value) { return add(key, std::string(value)); }
  JsonObject& add(const std::string& key, const JsonObject& value);
  JsonObject& add(const std::string& key, const JsonArray& value);
  /// Integers are written exactly (not through double).
  template <class T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  JsonObject& add(const std::string& key, T value) {
    return add_text(key, std::is_signed_v<T> ? std::to_string(static_cast<long long>(value))
                                             : std::to_string(static_cast<unsigned long long>(value)));
  }
  /// Adds already-encoded JSON text.
  JsonObject& add_text(const std::string& key, std::string encoded);
  /// Adds every field of `other`, in its order.
  JsonObject& merge(const JsonObject& other);
  bool empty() const { return fields_.empty(); }
  /// {"key": value, ...}
  std::string str() const;

 private:
  std::vector<std::pair<std::string, std::string>> fields_;  // key, encoded value
};

/// One JSON array.
class JsonArray {
 public:
  JsonArray() = default;
  explicit JsonArray(const std::vector<double>& values);
  explicit JsonArray(const std::vector<std::string>& values);
  JsonArray& push(double value);
  JsonArray& push(const std::string& value);
  JsonArray& push(const JsonObject& value);
  JsonArray& push(const JsonArray& value);
  template <class T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  JsonArray& push(T value) {
    items_.push_back(std::to_string(static_cast<long long>(value)));
    return *this;
  }
  /// [value, ...]
  std::string str() const;

 private:
  std::vector<std::string> items_;  // encoded values
};

}  // namespace flowlab::io
