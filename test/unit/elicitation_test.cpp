// How the client answers elicitation/create under each --elicit mode, without a server.
#include "client/elicitation.hpp"

#include <catch2/catch.hpp>

#include <sstream>

using namespace mcpmtls::client;
using nlohmann::json;

namespace {

json request(json required = json::array()) {
    return {{"message", "Your details?"},
            {"requestedSchema",
             {{"type", "object"},
              {"properties",
               {{"name", {{"type", "string"}, {"default", "John Doe"}}},
                {"age", {{"type", "integer"}, {"default", 30}}},
                {"status", {{"type", "string"}, {"enum", {"active", "inactive"}}, {"default", "active"}}},
                {"verified", {{"type", "boolean"}}}}},
              {"required", std::move(required)}}}};
}

json answer(ElicitMode mode, const json& params, const std::string& typed = "") {
    std::istringstream in(typed);
    std::ostringstream out;
    return answer_elicitation(mode, params, in, out);
}

}  // namespace

TEST_CASE("--elicit defaults accepts with the schema's defaults, and declines when a required field has none", "[client-elicit]") {
    CHECK(answer(ElicitMode::defaults, request()) ==
          json({{"action", "accept"}, {"content", {{"name", "John Doe"}, {"age", 30}, {"status", "active"}}}}));
    CHECK(answer(ElicitMode::defaults, request({"verified"}))["action"] == "decline");
    CHECK(answer(ElicitMode::decline, request()) == json({{"action", "decline"}}));
    CHECK(parse_elicit_mode("ask") == ElicitMode::ask);
    CHECK_THROWS(parse_elicit_mode("always"));
}

TEST_CASE("--elicit ask reads typed answers, keeps defaults on empty lines and cancels at end of input", "[client-elicit]") {
    // Fields in the schema's (alphabetical) order. age: not a number, then 41; name: the default;
    // status: not in the enum, then inactive; verified: yes; then confirm.
    const json accepted = answer(ElicitMode::ask, request(), "forty\n41\n\nunknown\ninactive\nyes\n\n");
    CHECK(accepted == json({{"action", "accept"}, {"content", {{"name", "John Doe"}, {"age", 41}, {"status", "inactive"}, {"verified", true}}}}));
    CHECK(answer(ElicitMode::ask, request(), "\n\n\n\nn\n")["action"] == "decline");
    CHECK(answer(ElicitMode::ask, request(), "Ann\n")["action"] == "cancel");
}
