#include "test/support/bridge_host.hpp"

namespace mcpmtls::testing {

using json = nlohmann::json;

BridgeUnderTest::BridgeUnderTest(std::vector<std::string> argv) : process_(std::move(argv), logs_.file("bridge.log")) {}

json BridgeUnderTest::request(const std::string& method, json params, std::chrono::milliseconds wait) {
    const long id = next_id_++;
    process_.write_line(json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}}.dump());
    return answer_to(id, wait);
}

json BridgeUnderTest::answer_to(const json& id, std::chrono::milliseconds wait) {
    for (auto it = seen_.begin(); it != seen_.end(); ++it)
        if (it->is_object() && it->value("id", json()) == id && !it->contains("method")) {
            json message = *it;
            seen_.erase(it);
            return message;
        }
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < deadline) {
        auto line = process_.read_line(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
        if (!line) break;
        json message = json::parse(*line, nullptr, false);
        if (message.is_object() && message.value("id", json()) == id && !message.contains("method")) return message;
        seen_.push_back(message);
    }
    return json();
}

json BridgeUnderTest::notification(const std::string& method, std::chrono::milliseconds wait) {
    const auto is_wanted = [&method](const json& message) {
        return message.is_object() && message.value("method", "") == method && !message.contains("id");
    };
    for (auto it = seen_.begin(); it != seen_.end(); ++it)
        if (is_wanted(*it)) {
            json message = *it;
            seen_.erase(it);
            return message;
        }
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < deadline) {
        auto line = process_.read_line(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
        if (!line) break;
        json message = json::parse(*line, nullptr, false);
        if (is_wanted(message)) return message;
        seen_.push_back(message);
    }
    return json();
}

void BridgeUnderTest::notify(const std::string& method, json params) {
    json message = {{"jsonrpc", "2.0"}, {"method", method}};
    if (!params.is_null()) message["params"] = std::move(params);
    process_.write_line(message.dump());
}

json BridgeUnderTest::initialize() {
    json answer = request("initialize", {{"protocolVersion", "2025-06-18"},
                                         {"capabilities", json::object()},
                                         {"clientInfo", {{"name", "bridge-test"}, {"version", "1"}}}});
    notify("notifications/initialized");
    return answer;
}

json BridgeUnderTest::call(const std::string& tool, json arguments) {
    return request("tools/call", {{"name", tool}, {"arguments", std::move(arguments)}});
}

std::string text_of(const json& answer) {
    if (!answer.contains("result")) return "";
    std::string text;
    for (const auto& block : answer["result"].value("content", json::array())) text += block.value("text", "");
    return text;
}

std::string error_of(const json& answer) { return answer.contains("error") ? answer["error"].value("message", "") : ""; }

}  // namespace mcpmtls::testing
