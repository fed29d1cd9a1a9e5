#pragma once
// How the client answers a server's elicitation/create request (the server asks the user for
// input matching a flat JSON schema): accept with the schema's defaults, decline, or ask the
// person at the terminal field by field.
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>

namespace mcpmtls::client {

enum class ElicitMode { defaults, decline, ask };

// "defaults" | "decline" | "ask"; throws InputError.
ElicitMode parse_elicit_mode(const std::string& text);

// The elicitation/create result ({"action": "accept"|"decline"|"cancel", "content": {...}}) for
// `params` (message, requestedSchema). `defaults` declines when a required field has no default;
// `ask` reads answers from `in` (an empty line keeps the default; end of input cancels) and
// writes its questions to `out`.
nlohmann::json answer_elicitation(ElicitMode mode, const nlohmann::json& params, std::istream& in, std::ostream& out);

}  // namespace mcpmtls::client
