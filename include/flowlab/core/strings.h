#pragma once
// Small string helpers shared by error messages.
#include <string>
#include <vector>

namespace flowlab {

/// Edit distance counting insertions, deletions, substitutions and adjacent transpositions.
std::size_t edit_distance(const std::string& a, const std::string& b);

/// The candidate closest to `word`, or "" when none is plausibly a typo of it.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

/// " (did you mean 'x'?)" or "".
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

/// "unknown <what> '<name>' (did you mean 'x'?); known: a, b, c".
std::string unknown_name(const std::string& what, const std::string& name, const std::vector<std::string>& known);

/// A number as JSON text, the shortest that reads back as the same double; NaN and infinities as
/// NaN / Infinity / -Infinity (what Python's json reads).
std::string json_number(double value);

/// Joins with a separator.
std::string join(const std::vector<std::string>& parts, const std::string& sep);

/// The text up to its first line break (a library's error message without its trace).
std::string first_line(const std::string& text);

}  // namespace flowlab
