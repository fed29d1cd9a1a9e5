#pragma once
#include "mcp/tool.hpp"

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace mcpmtls::services {

using Clock = std::function<std::chrono::system_clock::time_point()>;

// get_current_time {timezone} and convert_time {time, from_timezone, to_timezone}, with the
// IANA time-zone database. `clock` is injectable for tests.
void add_datetime_tools(mcp::ToolRegistry& registry, Clock clock = [] { return std::chrono::system_clock::now(); });

// An IANA zone name for `text` ("Europe/Paris", "europe/paris", "UTC"), or empty.
std::string find_time_zone(const std::string& text);
// Up to `limit` zone names close to `text` (for "did you mean").
std::vector<std::string> similar_time_zones(const std::string& text, size_t limit = 3);

}  // namespace mcpmtls::services
