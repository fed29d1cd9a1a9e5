#include "mcp/completion.hpp"

#include "common/strings.hpp"

#include <set>

namespace mcpmtls::mcp {

namespace {
constexpr size_t kMaxValues = 100;  // the specification's limit per answer
}

std::vector<std::string> complete_from(const std::vector<std::string>& candidates, const std::string& partial) {
    const std::string wanted = to_lower(partial);
    std::vector<std::string> prefixed, containing;
    std::set<std::string> seen;
    for (const auto& candidate : candidates) {
        const std::string folded = to_lower(candidate);
        const auto at = folded.find(wanted);
        if (at == std::string::npos || !seen.insert(candidate).second) continue;
        (at == 0 ? prefixed : containing).push_back(candidate);
    }
    prefixed.insert(prefixed.end(), containing.begin(), containing.end());
    return prefixed;
}

nlohmann::json completion_result(const std::vector<std::string>& values) {
    const size_t shown = std::min(values.size(), kMaxValues);
    return {{"completion",
             {{"values", std::vector<std::string>(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(shown))},
              {"total", values.size()},
              {"hasMore", values.size() > shown}}}};
}

}  // namespace mcpmtls::mcp
