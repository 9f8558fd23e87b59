#include "flowlab/config/node.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "flowlab/core/error.h"
#include "flowlab/core/strings.h"
#include "flowlab/io/atomic_file.h"

namespace flowlab::config {

// State shared by every Node of one document.
struct Document {
  YAML::Node root;
  std::string source;                               // file name or "<string>"
  std::set<std::string> used;                       // dotted paths read
  std::set<std::string> sections;                   // dotted paths read as sections
  std::map<std::string, std::string> override_origin;  // dotted path -> "--set ..."
  bool describing = false;
  std::vector<OptionDoc> recorded;
};

struct Node::Impl {
  std::shared_ptr<Document> doc;
  YAML::Node node;  // this section (a map)
  std::string path;

  std::string full(const std::string& key) const { return path.empty() ? key : path + "." + key; }

  // Lookup without creating the key (non-const operator[] would insert it).
  YAML::Node lookup(const std::string& key) const {
    const YAML::Node& const_node = node;
    return const_node[key];
  }
};

namespace {

std::string describe_found(const YAML::Node& value) {
  if (!value.IsDefined() || value.IsNull()) return "nothing";
  switch (value.Type()) {
    case YAML::NodeType::Scalar: return "'" + value.Scalar() + "'";
    case YAML::NodeType::Sequence: {
      YAML::Emitter out;
      out << YAML::Flow << value;
      return "a list " + std::string(out.c_str());
    }
    case YAML::NodeType::Map: return "a section (mapping)";
    default: return "nothing";
  }
}

// Typed conversion: returns false when `value` is not a T.
template <class T>
struct Reader;

template <>
struct Reader<bool> {
  static constexpr const char* expected = "a boolean (true or false)";
  static bool read(const YAML::Node& v, bool& out) {
    return v.IsScalar() && YAML::convert<bool>::decode(v, out);
  }
  static YAML::Node write(bool v) { return YAML::Node(v); }
};

template <>
struct Reader<int64_t> {
  static constexpr const char* expected = "an integer";
  static bool read(const YAML::Node& v, int64_t& out) {
    if (!v.IsScalar()) return false;
    const std::string& s = v.Scalar();
    // Accept 1e4-style integers that YAML users write for step counts.
    errno = 0;
    char* end = nullptr;
    const long long parsed = std::strtoll(s.c_str(), &end, 10);
    if (!s.empty() && end && *end == '\0' && errno == 0) {
      out = parsed;
      return true;
    }
    double d = 0;
    if (YAML::convert<double>::decode(v, d) && d == static_cast<double>(static_cast<int64_t>(d)) &&
        std::abs(d) < 9.0e15) {
      out = static_cast<int64_t>(d);
      return true;
    }
    return false;
  }
  static YAML::Node write(int64_t v) { return YAML::Node(v); }
};

template <>
struct Reader<int> {
  static constexpr const char* expected = "an integer";
  static bool read(const YAML::Node& v, int& out) {
    int64_t wide = 0;
    if (!Reader<int64_t>::read(v, wide) || wide < INT32_MIN || wide > INT32_MAX) return false;
    out = static_cast<int>(wide);
    return true;
  }
  static YAML::Node write(int v) { return YAML::Node(v); }
};

template <>
struct Reader<double> {
  static constexpr const char* expected = "a number";
  static bool read(const YAML::Node& v, double& out) {
    return v.IsScalar() && YAML::convert<double>::decode(v, out);
  }
  // Shortest text that reads back as the same double (0.1, not 0.10000000000000001).
  static YAML::Node write(double v) {
    char text[40];
    for (int precision = 6; precision <= 17; ++precision) {
      std::snprintf(text, sizeof(text), "%.*g", precision, v);
      if (std::strtod(text, nullptr) == v) break;
    }
    return YAML::Node(std::string(text));
  }
};

template <>
struct Reader<std::string> {
  static constexpr const char* expected = "a string";
  static bool read(const YAML::Node& v, std::string& out) {
    if (!v.IsScalar()) return false;
    out = v.Scalar();
    return true;
  }
  static YAML::Node write(const std::string& v) { return YAML::Node(v); }
};

template <class E, const char* Name>
struct ListReader {
  static bool read(const YAML::Node& v, std::vector<E>& out) {
    if (!v.IsSequence()) return false;
    out.clear();
    for (const auto& item : v) {
      E e{};
      if (!Reader<E>::read(item, e)) return false;
      out.push_back(e);
    }
    return true;
  }
  static YAML::Node write(const std::vector<E>& v) {
    YAML::Node seq(YAML::NodeType::Sequence);
    for (const auto& e : v) seq.push_back(Reader<E>::write(e));
    seq.SetStyle(YAML::EmitterStyle::Flow);
    return seq;
  }
};

constexpr char kIntList[] = "a list of integers";
constexpr char kNumberList[] = "a list of numbers";
constexpr char kStringList[] = "a list of strings";

template <>
struct Reader<std::vector<int64_t>> : ListReader<int64_t, kIntList> {
  static constexpr const char* expected = kIntList;
};
template <>
struct Reader<std::vector<double>> : ListReader<double, kNumberList> {
  static constexpr const char* expected = kNumberList;
};
template <>
struct Reader<std::vector<std::string>> : ListReader<std::string, kStringList> {
  static constexpr const char* expected = kStringList;
};

std::string yaml_text(const YAML::Node& value) {
  YAML::Emitter out;
  out << YAML::Flow << value;
  return out.c_str();
}

std::shared_ptr<Document> make_document(YAML::Node root, std::string source) {
  auto doc = std::make_shared<Document>();
  doc->root = std::move(root);
  doc->source = std::move(source);
  return doc;
}

YAML::Node parse_root(const std::string& text, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(source + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                      ": invalid YAML: " + e.msg);
  }
  if (root.IsNull()) return YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap()) throw ConfigError(source + ": expected a mapping of sections at the top level");
  return root;
}

}  // namespace

Node::Node(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Node Node::load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("cannot read config file " + path + ": " + std::strerror(errno));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse(buffer.str(), path);
}

Node Node::parse(const std::string& text, const std::string& source) {
  auto impl = std::make_shared<Impl>();
  impl->doc = make_document(parse_root(text, source), source);
  impl->node.reset(impl->doc->root);
  return Node(impl);
}

Node Node::describe() {
  auto impl = std::make_shared<Impl>();
  impl->doc = make_document(YAML::Node(YAML::NodeType::Map), "<describe>");
  impl->doc->describing = true;
  impl->node.reset(impl->doc->root);
  return Node(impl);
}

bool Node::describing() const { return impl_->doc->describing; }
const std::string& Node::path() const { return impl_->path; }

void Node::apply_override(const std::string& assignment) {
  const std::string origin = "--set " + assignment;
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw ConfigError(origin + ": expected KEY.PATH=VALUE, e.g. --set train.optimizer.lr=3e-4");
  }
  const std::string key_path = assignment.substr(0, eq);
  const std::string value_text = assignment.substr(eq + 1);
  std::vector<std::string> keys;
  std::stringstream parts(key_path);
  for (std::string part; std::getline(parts, part, '.');) {
    if (part.empty() || part.find_first_of(" \t[]{}:,") != std::string::npos) {
      throw ConfigError(origin + ": '" + key_path + "' is not a dotted key path");
    }
    keys.push_back(part);
  }
  if (key_path.back() == '.') throw ConfigError(origin + ": '" + key_path + "' is not a dotted key path");
  YAML::Node value;
  try {
    value = YAML::Load(value_text);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(origin + ": cannot parse '" + value_text + "' as YAML: " + e.msg);
  }
  YAML::Node cursor = impl_->node;
  std::string walked = impl_->path;
  for (std::size_t i = 0; i + 1 < keys.size(); ++i) {
    walked = walked.empty() ? keys[i] : walked + "." + keys[i];
    const YAML::Node& const_cursor = cursor;
    YAML::Node next = const_cursor[keys[i]];
    if (!next.IsDefined() || next.IsNull()) {
      cursor[keys[i]] = YAML::Node(YAML::NodeType::Map);
    } else if (!next.IsMap()) {
      throw ConfigError(origin + ": '" + walked + "' is " + describe_found(next) + ", not a section");
    }
    cursor.reset(cursor[keys[i]]);
  }
  cursor[keys.back()] = value;
  impl_->doc->override_origin[impl_->full(key_path)] = origin;
}

std::string Node::location(const std::string& key) const {
  const std::string full = key.empty() ? impl_->path : impl_->full(key);
  // Overrides first: their YAML marks point into the override string, not the file.
  for (std::string prefix = full;;) {
    auto it = impl_->doc->override_origin.find(prefix);
    if (it != impl_->doc->override_origin.end()) return it->second;
    const auto dot = prefix.rfind('.');
    if (dot == std::string::npos) break;
    prefix = prefix.substr(0, dot);
  }
  // A missing key gives an invalid node, which YAML::Node::reset refuses: point at the section then.
  const YAML::Node found = key.empty() ? impl_->node : impl_->lookup(key);
  YAML::Node at;
  at.reset(found.IsDefined() && !found.Mark().is_null() ? found : impl_->node);
  if (at.Mark().is_null()) return impl_->doc->source;
  return impl_->doc->source + ":" + std::to_string(at.Mark().line + 1) + ":" +
         std::to_string(at.Mark().column + 1);
}

std::string Node::key_location(const std::string& key) const {
  for (const auto& kv : impl_->node) {
    if (kv.first.Scalar() == key && !kv.first.Mark().is_null()) {
      const auto origin = impl_->doc->override_origin.find(impl_->full(key));
      if (origin != impl_->doc->override_origin.end()) return origin->second;
      return impl_->doc->source + ":" + std::to_string(kv.first.Mark().line + 1) + ":" +
             std::to_string(kv.first.Mark().column + 1);
    }
  }
  return location(key);
}

void Node::fail(const std::string& key, const std::string& message) const {
  throw ConfigError(impl_->full(key) + ": " + message + " (" + location(key) + ")");
}

void Node::expect(bool ok, const std::string& key, const std::string& expected) const {
  if (ok || describing()) return;
  fail(key, "expected " + expected + ", got " + describe_found(impl_->lookup(key)));
}

bool Node::has(const std::string& key) const {
  const YAML::Node value = impl_->lookup(key);
  return value.IsDefined() && !value.IsNull();
}

std::vector<std::string> Node::keys() const {
  std::vector<std::string> out;
  if (!impl_->node.IsMap()) return out;
  for (const auto& entry : impl_->node) out.push_back(entry.first.as<std::string>());
  return out;
}

template <class T>
T Node::get(const std::string& key, const T& fallback, const std::string& doc) {
  Document& d = *impl_->doc;
  const std::string full = impl_->full(key);
  if (d.describing) {
    d.recorded.push_back({full, yaml_text(Reader<T>::write(fallback)), doc, false});
    return fallback;
  }
  d.used.insert(full);
  const YAML::Node value = impl_->lookup(key);
  if (!value.IsDefined()) {
    impl_->node[key] = Reader<T>::write(fallback);
    return fallback;
  }
  T out{};
  if (!Reader<T>::read(value, out)) fail(key, std::string("expected ") + Reader<T>::expected + ", got " + describe_found(value));
  return out;
}

template <class T>
T Node::require(const std::string& key, const std::string& doc) {
  Document& d = *impl_->doc;
  const std::string full = impl_->full(key);
  if (d.describing) {
    d.recorded.push_back({full, "", doc, true});
    return T{};
  }
  d.used.insert(full);
  const YAML::Node value = impl_->lookup(key);
  if (!value.IsDefined()) {
    throw ConfigError(full + ": missing required key (expected " + Reader<T>::expected +
                      (doc.empty() ? "" : ": " + doc) + ") (in section '" + impl_->path + "' at " + location() + ")");
  }
  T out{};
  if (!Reader<T>::read(value, out)) fail(key, std::string("expected ") + Reader<T>::expected + ", got " + describe_found(value));
  return out;
}

#define FLOWLAB_NODE_INSTANTIATE(T)                                                   \
  template T Node::get<T>(const std::string&, const T&, const std::string&);        \
  template T Node::require<T>(const std::string&, const std::string&);
FLOWLAB_NODE_INSTANTIATE(bool)
FLOWLAB_NODE_INSTANTIATE(int)
FLOWLAB_NODE_INSTANTIATE(int64_t)
FLOWLAB_NODE_INSTANTIATE(double)
FLOWLAB_NODE_INSTANTIATE(std::string)
FLOWLAB_NODE_INSTANTIATE(std::vector<int64_t>)
FLOWLAB_NODE_INSTANTIATE(std::vector<double>)
FLOWLAB_NODE_INSTANTIATE(std::vector<std::string>)
#undef FLOWLAB_NODE_INSTANTIATE

std::string Node::get_choice(const std::string& key, const std::string& fallback,
                             const std::vector<std::string>& choices, const std::string& doc) {
  const std::string documented = doc + (doc.empty() ? "" : "; ") + "one of " + join(choices, ", ");
  const std::string value = get<std::string>(key, fallback, documented);
  if (describing()) return value;
  for (const auto& c : choices) {
    if (c == value) return value;
  }
  fail(key, "expected one of " + join(choices, ", ") + ", got '" + value + "'" + did_you_mean(value, choices));
}

Node Node::section(const std::string& key, const std::string& doc) {
  Document& d = *impl_->doc;
  auto child = std::make_shared<Impl>();
  child->doc = impl_->doc;
  child->path = impl_->full(key);
  if (d.describing) {
    if (!doc.empty()) d.recorded.push_back({child->path, "{...}", doc, false});
    child->node.reset(YAML::Node(YAML::NodeType::Map));
    return Node(child);
  }
  d.used.insert(child->path);
  d.sections.insert(child->path);
  const YAML::Node value = impl_->lookup(key);
  if (!value.IsDefined() || value.IsNull()) {
    impl_->node[key] = YAML::Node(YAML::NodeType::Map);
  } else if (!value.IsMap()) {
    fail(key, "expected a section (mapping), got " + describe_found(value));
  }
  child->node.reset(impl_->node[key]);
  return Node(child);
}

void Node::check_all_used() const {
  const Document& d = *impl_->doc;
  if (d.describing || !impl_->node.IsMap()) return;
  std::vector<std::string> known;
  std::vector<std::string> unknown;
  for (const auto& kv : impl_->node) {
    const std::string key = kv.first.Scalar();
    (d.used.count(impl_->full(key)) ? known : unknown).push_back(key);
  }
  std::string errors;
  for (const auto& key : unknown) {
    if (!errors.empty()) errors += "\n";
    errors += impl_->full(key) + ": unknown key" + did_you_mean(key, known) + " (" + key_location(key) + ")";
    if (!known.empty()) errors += "; known keys here: " + join(known, ", ");
  }
  if (!errors.empty()) throw ConfigError(errors);
  for (const auto& key : known) {
    if (!d.sections.count(impl_->full(key))) continue;
    auto child = std::make_shared<Impl>();
    child->doc = impl_->doc;
    child->path = impl_->full(key);
    child->node.reset(impl_->lookup(key));
    Node(child).check_all_used();
  }
}

std::string Node::to_yaml() const {
  YAML::Emitter out;
  out << impl_->node;
  return std::string(out.c_str()) + "\n";
}

void Node::save(const std::string& file) const { io::write_text_atomically(file, to_yaml()); }

Node Node::clone() const {
  auto impl = std::make_shared<Impl>();
  impl->doc = make_document(YAML::Clone(impl_->node), impl_->doc->source);
  impl->doc->override_origin = impl_->doc->override_origin;
  impl->node.reset(impl->doc->root);
  impl->path = impl_->path;
  return Node(impl);
}

std::vector<OptionDoc> Node::recorded_options() const { return impl_->doc->recorded; }

}  // namespace flowlab::config
