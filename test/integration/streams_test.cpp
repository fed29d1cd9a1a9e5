// Event streams over real mutual TLS: the everything-server (the conformance fixture) and the
// product servers, driven by the client library and by bin/client. The GET stream, heartbeats,
// resumption with Last-Event-ID, requests to the client (elicitation), progress, subscriptions,
// and a server that stops while streams are open.
#include "client/mcp_session.hpp"
#include "test/support/fixtures.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <csignal>
#include <mutex>
#include <thread>

using namespace mcpmtls;
using namespace mcpmtls::testing;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

std::shared_ptr<const tls::ClientTlsContext> coordinator_tls(const DemoPki& pki) {
    tls::ClientTlsSettings settings;
    settings.ca_path = pki.path("ca-bundle.crt");
    settings.cert_path = pki.path("coordinator.crt");
    settings.key_path = pki.path("coordinator.key");
    return std::make_shared<const tls::ClientTlsContext>(settings);
}

// The fixture server, on the echo server's certificate (localhost).
std::unique_ptr<ServerProcess> everything(const DemoPki& pki, std::vector<std::string> extra = {}) {
    return std::make_unique<ServerProcess>("everything-server", pki.path("echo.crt"), pki.path("echo.key"), pki.path("ca-bundle.crt"),
                                           std::move(extra));
}

std::vector<std::pair<std::string, std::string>> session_headers(const client::McpSession& session, const std::string& accept) {
    return {{"Accept", accept}, {"Mcp-Session-Id", session.session_id()}, {"MCP-Protocol-Version", session.protocol_version()},
            {"Content-Type", "application/json"}};
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("the GET stream opens with a priming event and carries heartbeats while idle", "[streams]") {
    DemoPki pki;
    auto server = everything(pki, {"--sse-heartbeat", "1"});
    client::McpSession session("everything", client::Url::parse(server->url()), coordinator_tls(pki));
    session.set_protocol(client::VersionChoice{"2025-11-25"});
    session.initialize();
    client::HttpConnection stream(client::Url::parse(server->url()), coordinator_tls(pki));
    std::vector<client::SseEvent> events;
    const auto started = std::chrono::steady_clock::now();
    int heartbeats = 0;
    auto response = stream.request_events("GET", session_headers(session, "text/event-stream"), "", [&](const client::SseEvent& e) {
        events.push_back(e);
        if (e.id.empty() && e.data.empty() && e.retry_ms < 0) ++heartbeats;  // a comment-only block
        return heartbeats == 2;
    });
    CHECK(response.status == 200);
    CHECK(contains(response.header("Content-Type"), "text/event-stream"));
    REQUIRE_FALSE(events.empty());
    CHECK(events.front().id == "0:0");  // priming: the standalone stream, nothing yet
    CHECK(events.front().retry_ms > 0);
    CHECK(heartbeats == 2);
    CHECK(std::chrono::steady_clock::now() - started >= 1500ms);
}

TEST_CASE("a call whose stream the server ends early is resumed with Last-Event-ID over TLS", "[streams]") {
    DemoPki pki;
    auto server = everything(pki);
    client::McpSession session("everything", client::Url::parse(server->url()), coordinator_tls(pki));
    session.set_protocol(client::VersionChoice{"2025-11-25"});
    session.initialize();

    // By hand: the POST stream ends with only the priming event; GET with its id has the answer.
    client::HttpConnection connection(client::Url::parse(server->url()), coordinator_tls(pki));
    std::string last_id;
    bool answered = false;
    const json call = {{"jsonrpc", "2.0"}, {"id", 77}, {"method", "tools/call"}, {"params", {{"name", "test_reconnection"}}}};
    connection.request_events("POST", session_headers(session, "application/json, text/event-stream"), call.dump(),
                              [&](const client::SseEvent& e) {
                                  if (!e.id.empty()) last_id = e.id;
                                  answered = answered || contains(e.data, "\"id\":77");
                                  return false;
                              });
    CHECK_FALSE(answered);
    REQUIRE_FALSE(last_id.empty());
    auto headers = session_headers(session, "text/event-stream");
    headers.emplace_back("Last-Event-ID", last_id);
    std::string answer;
    connection.request_events("GET", headers, "", [&](const client::SseEvent& e) {
        if (contains(e.data, "\"id\":77")) answer = e.data;
        return !answer.empty();
    });
    CHECK(contains(answer, "Reconnection test completed successfully"));

    // The client library does the same by itself.
    const json result = session.call_tool("test_reconnection", json::object());
    CHECK(result["content"][0]["text"] == "Reconnection test completed successfully");
}

TEST_CASE("what the server sent before the client's first GET arrives on it, once", "[streams]") {
    DemoPki pki;
    auto server = everything(pki, {"--sse-heartbeat", "1"});
    client::McpSession session("everything", client::Url::parse(server->url()), coordinator_tls(pki));
    session.set_protocol(client::VersionChoice{"2025-11-25"});
    session.initialize();  // no handlers: no standalone stream yet
    session.request("resources/subscribe", {{"uri", "test://watched-resource"}});
    session.call_tool("test_update_watched_resource", json::object());  // before any GET

    // Reads one GET stream until a heartbeat (a comment-only block) follows what it replayed.
    auto read_stream = [&] {
        client::HttpConnection stream(client::Url::parse(server->url()), coordinator_tls(pki));
        int updates = 0;
        const auto response = stream.request_events("GET", session_headers(session, "text/event-stream"), "", [&](const client::SseEvent& e) {
            if (contains(e.data, "notifications/resources/updated") && contains(e.data, "test://watched-resource")) ++updates;
            return e.id.empty() && e.data.empty() && e.retry_ms < 0;
        });
        CHECK(response.status == 200);
        return updates;
    };
    CHECK(read_stream() == 1);  // the update made between subscribe and the first GET
    CHECK(read_stream() == 0);  // a later GET without Last-Event-ID starts from now
    session.close();
}

TEST_CASE("the client library answers elicitation, sees progress and hears about subscribed resources", "[streams]") {
    DemoPki pki;
    auto server = everything(pki);
    client::McpSession session("everything", client::Url::parse(server->url()), coordinator_tls(pki));
    session.set_protocol(client::VersionChoice{"2025-11-25"});
    std::mutex mutex;
    std::vector<json> notifications;
    client::ServerMessageHandlers handlers;
    handlers.elicit = [](const json& params) {
        return json{{"action", "accept"}, {"content", {{"name", params["requestedSchema"]["properties"]["name"]["default"]}}}};
    };
    handlers.notify = [&](const json& message) {
        std::lock_guard<std::mutex> lock(mutex);
        notifications.push_back(message);
    };
    session.set_handlers(handlers);
    session.initialize();  // declares elicitation and opens the standalone stream

    const json elicited = session.call_tool("test_elicitation_sep1034_defaults", json::object());
    CHECK(contains(elicited["content"][0]["text"].get<std::string>(), "action=accept"));
    CHECK(contains(elicited["content"][0]["text"].get<std::string>(), "John Doe"));

    std::vector<double> progress;
    session.call_tool("test_tool_with_progress", json::object(), [&](const json& p) { progress.push_back(p["progress"].get<double>()); });
    CHECK(progress == std::vector<double>{0, 50, 100});

    session.request("resources/subscribe", {{"uri", "test://watched-resource"}});
    session.call_tool("test_update_watched_resource", json::object());
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    auto heard = [&] {
        std::lock_guard<std::mutex> lock(mutex);
        for (const auto& n : notifications)
            if (n.value("method", "") == "notifications/resources/updated" && n["params"]["uri"] == "test://watched-resource") return true;
        return false;
    };
    while (!heard() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(50ms);
    CHECK(heard());
    session.close();
}

TEST_CASE("bin/client shows progress on stderr and answers elicitation per --elicit", "[streams]") {
    DemoPki pki;
    auto server = everything(pki);
    ServerProcess weather(pki, "weather");
    auto client = [&](std::vector<std::string> args) {
        std::vector<std::string> argv = {bin_path("client"), "--ca", pki.path("ca-bundle.crt"), "--cert", pki.path("coordinator.crt"),
                                         "--key", pki.path("coordinator.key"), "--server", "ev=" + server->url(),
                                         "--server", "weather=" + weather.url(), "--protocol-version", "2025-11-25"};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(argv);
    };
    auto progress = client({"call", "ev", "test_tool_with_progress"});
    CHECK(progress.exit_code == 0);
    CHECK(contains(progress.err, "client: ev/test_tool_with_progress: 100 of 100 (step 3 of 3)"));
    auto forecast = client({"call", "weather", "get_forecast", "city=Paris", "days=3"});
    CHECK(forecast.exit_code == 0);
    CHECK(contains(forecast.err, "client: weather/get_forecast: 3 of 3"));
    auto defaults = client({"--elicit", "defaults", "call", "ev", "test_elicitation_sep1034_defaults"});
    CHECK(defaults.exit_code == 0);
    CHECK(contains(defaults.out, "action=accept"));
    CHECK(contains(defaults.out, "\"age\":30"));
    // Declining is not offering elicitation: the tool says the client cannot be asked.
    auto declined = client({"--elicit", "decline", "call", "ev", "test_elicitation", "message=hi"});
    CHECK(declined.exit_code == 1);
    CHECK(contains(declined.err, "did not declare the 'elicitation' capability"));
}

TEST_CASE("a server with open event streams stops promptly on SIGTERM", "[streams]") {
    DemoPki pki;
    auto server = everything(pki);
    client::McpSession session("everything", client::Url::parse(server->url()), coordinator_tls(pki));
    session.set_protocol(client::VersionChoice{"2025-11-25"});
    session.initialize();
    std::atomic<bool> opened{false};
    std::thread reader([&] {
        client::HttpConnection stream(client::Url::parse(server->url()), coordinator_tls(pki));
        try {
            stream.request_events("GET", session_headers(session, "text/event-stream"), "", [&](const client::SseEvent&) {
                opened = true;
                return false;
            });
        } catch (const std::exception&) {
            // the server went away: expected
        }
    });
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!opened && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
    REQUIRE(opened);
    // Only the stream stays: an idle keep-alive connection would hold the worker for the
    // keep-alive timeout (cpp-httplib's keep-alive wait does not watch for shutdown).
    session.connection().close();
    const auto stopping = std::chrono::steady_clock::now();
    CHECK(server->process().stop(std::chrono::seconds(10)) == 0);
    CHECK(std::chrono::steady_clock::now() - stopping < 5s);
    reader.join();
}
