#pragma once
// The subset of JSON Schema that tool input schemas use: type, properties, required,
// additionalProperties, enum, minimum/maximum, minLength/maxLength, items.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace mcpmtls::mcp {

// nullopt when `value` satisfies `schema`, else a readable reason such as
// "missing required argument 'city'" or "argument 'days' must be at most 7".
std::optional<std::string> validate_arguments(const nlohmann::json& schema, const nlohmann::json& value);

}  // namespace mcpmtls::mcp
