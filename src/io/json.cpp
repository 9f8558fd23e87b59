#include "flowlab/io/json.h"

#include <cstdio>

#include "flowlab/core/strings.h"

namespace flowlab::io {

std::string json_quote(const std::string& text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof(escaped), "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += escaped;
        } else {
          out += c;  // UTF-8 bytes pass through: JSON text is UTF-8
        }
    }
  }
  out += '"';
  return out;
}

JsonObject& JsonObject::add(const std::string& key, double value) { return add_text(key, json_number(value)); }
JsonObject& JsonObject::add(const std::string& key, bool value) { return add_text(key, value ? "true" : "false"); }
JsonObject& JsonObject::add(const std::string& key, const std::string& value) {
  return add_text(key, json_quote(value));
}
JsonObject& JsonObject::add(const std::string& key, const JsonObject& value) { return add_text(key, value.str()); }
JsonObject& JsonObject::add(const std::string& key, const JsonArray& value) { return add_text(key, value.str()); }

JsonObject& JsonObject::add_text(const std::string& key, std::string encoded) {
  // A repeated key replaces the earlier value: JSON readers keep only one.
  for (auto& field : fields_) {
    if (field.first == key) {
      field.second = std::move(encoded);
      return *this;
    }
  }
  fields_.emplace_back(key, std::move(encoded));
  return *this;
}

JsonObject& JsonObject::merge(const JsonObject& other) {
  for (const auto& [key, encoded] : other.fields_) add_text(key, encoded);
  return *this;
}

std::string JsonObject::str() const {
  std::string out = "{";
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    if (i > 0) out += ", ";
    out += json_quote(fields_[i].first) + ": " + fields_[i].second;
  }
  return out + "}";
}

JsonArray::JsonArray(const std::vector<double>& values) {
  for (double v : values) push(v);
}
JsonArray::JsonArray(const std::vector<std::string>& values) {
  for (const auto& v : values) push(v);
}
JsonArray& JsonArray::push(double value) {
  items_.push_back(json_number(value));
  return *this;
}
JsonArray& JsonArray::push(const std::string& value) {
  items_.push_back(json_quote(value));
  return *this;
}
JsonArray& JsonArray::push(const JsonObject& value) {
  items_.push_back(value.str());
  return *this;
}
JsonArray& JsonArray::push(const JsonArray& value) {
  items_.push_back(value.str());
  return *this;
}

std::string JsonArray::str() const {
  // Appended in place: `"[" + join(...)` trips GCC 12's -Wstringop-overflow (a false positive).
  std::string out = "[";
  out += join(items_, ", ");
  out += ']';
  return out;
}

}  // namespace flowlab::io
