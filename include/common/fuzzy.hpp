#pragma once
// Small text helpers for forgiving look-ups (city and zone names).
#include <string>
#include <vector>

namespace mcpmtls {

// Lower case, Latin accents folded to ASCII ("São Paulo" -> "sao paulo"), punctuation to spaces,
// runs of spaces collapsed.
std::string fold_name(const std::string& text);
size_t edit_distance(const std::string& a, const std::string& b);
// The candidates nearest to `text` by edit distance (at most `limit`, within `max_distance`).
std::vector<std::string> closest(const std::string& text, const std::vector<std::string>& candidates, size_t limit,
                                 size_t max_distance);

}  // namespace mcpmtls
