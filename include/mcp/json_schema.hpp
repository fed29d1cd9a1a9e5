#pragma once
// The subset of JSON Schema (2020-12) that tool input schemas use: type, properties, required,
// additionalProperties, enum, const, minimum/maximum, minLength/maxLength, items,
// minItems/maxItems, allOf/anyOf/oneOf and local $ref ("#/$defs/NAME"). Other keywords
// ($schema, descriptions, formats) do not constrain.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace mcpmtls::mcp {

// nullopt when `value` satisfies `schema`, else a readable reason such as
// "missing required argument 'city'" or "argument 'days' must be at most 7".
std::optional<std::string> validate_arguments(const nlohmann::json& schema, const nlohmann::json& value);

// An object schema: {"type": "object", "properties": ..., "required": [...]}, closed to other
// properties (an input schema) or open to them (an output schema may grow).
nlohmann::json object_schema(nlohmann::json properties, const std::vector<std::string>& required = {}, bool closed = true);

}  // namespace mcpmtls::mcp
