#pragma once
// The `ask` router: a plain-language question -> tool calls, from the servers' own tool lists and
// input schemas (no hard-coded tools), without any external service.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace mcpmtls::client {

struct ToolInfo {
    std::string server;
    nlohmann::json tool;  // one entry of tools/list: name, title, description, inputSchema
};

struct PlannedCall {
    std::string server;
    std::string tool;
    nlohmann::json arguments;
    std::string question_part;
};

struct RoutePlan {
    std::vector<PlannedCall> calls;
    std::vector<std::string> unmatched_parts;
};

RoutePlan route_question(const std::string& question, const std::vector<ToolInfo>& tools);
// What can be asked, one line per tool with an example, for unroutable questions.
std::string describe_capabilities(const std::vector<ToolInfo>& tools);

}  // namespace mcpmtls::client
