#pragma once
// config::Node — a strict view of one YAML section.
//
// Every read names its key, so the tree knows which keys were used: after a
// component is built, any key it did not read is an error with a "did you
// mean" suggestion. Every error names the key path, file, line and column,
// what was expected and what was found. Defaults are written back into the
// tree as they are read, so the saved tree is the fully resolved config.
//
// A Node made by Node::describe() reads nothing: it records every option
// (key, default, doc) so `flowlab list` documents components from the code.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace flowlab::config {

/// One documented option, as recorded by a describing Node.
struct OptionDoc {
  std::string key;            ///< dotted path relative to the component
  std::string default_value;  ///< YAML text of the default, "" when required
  std::string doc;
  bool required = false;
};

class Node {
 public:
  /// Parses a YAML file; errors name the file and line.
  static Node load_file(const std::string& path);
  /// Parses YAML text; `source` names it in errors.
  static Node parse(const std::string& text, const std::string& source = "<string>");
  /// A node that records options instead of reading them.
  static Node describe();

  /// Applies "a.b.c=VALUE" (VALUE parsed as YAML), creating sections as needed.
  void apply_override(const std::string& assignment);

  /// Typed reads. A missing key yields `fallback`, which is written into the tree.
  /// T is one of bool, int, int64_t, double, std::string, std::vector<int64_t>,
  /// std::vector<double>, std::vector<std::string>.
  template <class T>
  T get(const std::string& key, const T& fallback, const std::string& doc = "");
  /// A key that must be present.
  template <class T>
  T require(const std::string& key, const std::string& doc = "");
  /// A string that must be one of `choices`.
  std::string get_choice(const std::string& key, const std::string& fallback,
                         const std::vector<std::string>& choices, const std::string& doc = "");

  /// The sub-section `key` (a map); created empty when missing.
  Node section(const std::string& key, const std::string& doc = "");
  bool has(const std::string& key) const;
  /// The keys of this section, in the file's order (sections named by the user, e.g. loss terms).
  std::vector<std::string> keys() const;
  /// True for a Node made by describe(): reads return defaults, checks pass.
  bool describing() const;

  /// Throws ConfigError "<path>.<key>: expected <expected>, got <found> (file:line:col)"
  /// unless `ok` (or describing()).
  void expect(bool ok, const std::string& key, const std::string& expected) const;
  /// Throws ConfigError naming `key` with a free-form message.
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;

  /// Throws for every key under this node that nothing has read.
  void check_all_used() const;

  /// Dotted path of this section ("" at the root).
  const std::string& path() const;
  /// "<file>:<line>:<col>" of `key` (or of this node when key is empty).
  std::string location(const std::string& key = "") const;
  /// "<file>:<line>:<col>" of the key `key` itself (where unknown keys are reported).
  std::string key_location(const std::string& key) const;
  /// YAML text of this node.
  std::string to_yaml() const;
  /// Writes to_yaml() atomically (temporary file, then rename).
  void save(const std::string& file) const;
  /// A deep copy with fresh usage tracking.
  Node clone() const;

  /// Options recorded by a describing node, in reading order.
  std::vector<OptionDoc> recorded_options() const;

  struct Impl;

 private:
  explicit Node(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace flowlab::config
