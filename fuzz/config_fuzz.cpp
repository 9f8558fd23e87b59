// libFuzzer target: what `flowlab train CONFIG --set KEY=VALUE...` does before training: parse
// the YAML (config::Node::parse), apply each override, and build the Experiment, which reads and
// validates every section (unknown keys, types, ranges) and builds the components.
//
// Input: YAML text, optionally followed by a line "%%" and then one override KEY=VALUE per line.
// Integer literals of three or more digits are replaced by 64 first: sizes (layers, points,
// threads) are the user's to choose, and a config asking for a network of 10^9 units is a
// config that needs 10^9 units, not a bug; the fuzzer explores structure and types instead.
#include <torch/torch.h>

#include <cctype>
#include <sstream>
#include <string>
#include <vector>

#include "flowlab/config/node.h"
#include "flowlab/train/experiment.h"
#include "fuzz_support.h"

namespace {

std::string clamp_integers(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  const auto digit = [&](std::size_t i) { return std::isdigit(static_cast<unsigned char>(text[i])) != 0; };
  for (std::size_t i = 0; i < text.size();) {
    if (!digit(i)) {
      out += text[i++];
      continue;
    }
    std::size_t end = i;
    while (end < text.size() && digit(end)) ++end;
    // A run that starts a number (not a fraction's or an exponent's digits).
    const char before = i > 0 ? text[i - 1] : ' ';
    const char before2 = i > 1 ? text[i - 2] : ' ';
    const bool continues = before == '.' || before == 'e' || before == 'E' ||
                           ((before == '+' || before == '-') && (before2 == 'e' || before2 == 'E'));
    if (!continues && end - i >= 3) {
      out += "64";
    } else {
      out.append(text, i, end - i);
    }
    i = end;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  torch::set_num_threads(1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace flowlab;
  const std::string text = clamp_integers(std::string(reinterpret_cast<const char*>(data), size));
  std::string yaml = text;
  std::vector<std::string> overrides;
  if (const auto split = text.find("\n%%\n"); split != std::string::npos) {
    yaml = text.substr(0, split + 1);
    std::istringstream lines(text.substr(split + 4));
    for (std::string line; std::getline(lines, line);) overrides.push_back(line);
  }
  fuzz::expect_clean(
      [&] {
        config::Node config = config::Node::parse(yaml, "fuzz.yaml");
        for (const std::string& o : overrides) config.apply_override(o);
        train::Experiment experiment(config);
        // The resolved tree (defaults written in) is what a run saves and reopens: it must parse.
        config::Node::parse(experiment.config.to_yaml(), "resolved.yaml");
      },
      /*allow_torch_errors=*/true);
  return 0;
}
