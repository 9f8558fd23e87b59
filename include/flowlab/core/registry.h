#pragma once
// One generic registry for every component family: "type:" name -> factory.
// Registration is explicit (register_builtin_*() in each area, all called by
// register_builtins() in flowlab/builtins.h), so no linker can drop an entry, and
// repeated registration is harmless. Each entry carries its docs and a function
// that reads its options, so `flowlab list` comes from the code.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "flowlab/config/node.h"
#include "flowlab/core/error.h"
#include "flowlab/core/strings.h"

namespace flowlab {

/// Options of a component that has none.
struct NoOptions {
  static NoOptions read(config::Node&) { return {}; }
};

/// Type-erased view of a registry, for `flowlab list`.
class RegistryBase {
 public:
  explicit RegistryBase(std::string family);
  virtual ~RegistryBase() = default;
  const std::string& family() const { return family_; }
  virtual std::vector<std::string> names() const = 0;
  virtual std::string doc(const std::string& name) const = 0;
  /// Options of `name`, read by a describing node.
  virtual std::vector<config::OptionDoc> options(const std::string& name) const = 0;
  bool contains(const std::string& name) const;
  /// Fails at `node.key` with the known names when `name` is not registered.
  void check_known(const config::Node& node, const std::string& key, const std::string& name) const;

 private:
  std::string family_;
};

/// Every registry, in creation order.
std::vector<RegistryBase*>& all_registries();

template <class Base, class... Args>
class Registry : public RegistryBase {
 public:
  using Factory = std::function<std::unique_ptr<Base>(config::Node&, Args...)>;
  using Reader = std::function<void(config::Node&)>;

  explicit Registry(std::string family) : RegistryBase(std::move(family)) {}

  /// Adds `name`; `read_options` reads every option the factory reads. Registering the same
  /// name with the same doc again does nothing (areas and tests may each register what they
  /// need); the same name for another component is an Error.
  void add(const std::string& name, const std::string& doc, Factory factory, Reader read_options) {
    if (auto it = entries_.find(name); it != entries_.end()) {
      if (it->second.doc == doc) return;
      throw Error(family() + " registry: '" + name + "' registered twice, for different components");
    }
    entries_[name] = Entry{doc, std::move(factory), std::move(read_options)};
  }

  /// Registers a component whose options struct has `static Options read(config::Node&)`
  /// and whose constructor takes (const Options&, Args...).
  template <class Derived, class Options>
  void add_component(const std::string& name, const std::string& doc) {
    add(
        name, doc,
        [](config::Node& node, Args... args) -> std::unique_ptr<Base> {
          return std::make_unique<Derived>(Options::read(node), args...);
        },
        [](config::Node& node) { Options::read(node); });
  }

  /// Builds from a section with a `type:` key; then every unread key is an error.
  std::unique_ptr<Base> create(config::Node& node, Args... args) const {
    const std::string name = node.template require<std::string>("type", "which " + family() + " to use");
    return create(name, node, args...);
  }

  /// Builds `name` from `node`; then every unread key of `node` is an error.
  std::unique_ptr<Base> create(const std::string& name, config::Node& node, Args... args) const {
    check_known(node, "type", name);
    auto it = entries_.find(name);
    std::unique_ptr<Base> made = it->second.factory(node, args...);
    node.check_all_used();
    return made;
  }

  std::vector<std::string> names() const override {
    std::vector<std::string> out;
    for (const auto& kv : entries_) out.push_back(kv.first);
    return out;
  }
  std::string doc(const std::string& name) const override { return entry(name).doc; }
  std::vector<config::OptionDoc> options(const std::string& name) const override {
    config::Node node = config::Node::describe();
    entry(name).read_options(node);
    return node.recorded_options();
  }

 private:
  struct Entry {
    std::string doc;
    Factory factory;
    Reader read_options;
  };
  const Entry& entry(const std::string& name) const {
    auto it = entries_.find(name);
    if (it == entries_.end()) throw ConfigError(unknown_name(family(), name, names()));
    return it->second;
  }
  std::map<std::string, Entry> entries_;
};

}  // namespace flowlab
