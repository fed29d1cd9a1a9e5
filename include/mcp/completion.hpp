#pragma once
// Argument completion (completion/complete): a prompt's arguments and a resource template's
// variables may each have a Completer that suggests values for what the user has typed so far.
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace mcpmtls::mcp {

// Suggestions for `partial`; `context` holds the arguments already chosen ({"name": "value"}).
using Completer = std::function<std::vector<std::string>(const std::string& partial, const nlohmann::json& context)>;

// Candidates that start with `partial`, then those that contain it, ignoring case, each once,
// in the candidates' order.
std::vector<std::string> complete_from(const std::vector<std::string>& candidates, const std::string& partial);

// The completion/complete result: at most 100 values, the total and whether more exist.
nlohmann::json completion_result(const std::vector<std::string>& values);

}  // namespace mcpmtls::mcp
