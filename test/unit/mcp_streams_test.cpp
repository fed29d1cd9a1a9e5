// The runtime's features beyond a plain tool call, through its transport-independent entry
// point and without the network: event streams (live calls, resumption, heartbeats), progress,
// logging, cancellation, requests to the client, resources, prompts and completion.
#include "mcp/content.hpp"
#include "mcp/json_schema.hpp"
#include "mcp/streamable_http.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

using namespace mcpmtls;
using mcp::json;
using namespace std::chrono_literals;

namespace {

// Collects a streamed body; can pretend the client went away.
class RecordingSink final : public mcp::BodySink {
public:
    bool write(const std::string& bytes) override {
        if (broken) return false;
        text += bytes;
        return true;
    }
    std::string text;
    bool broken = false;
};

// The JSON-RPC messages (data of the events) in SSE text, in order.
std::vector<json> messages_in(const std::string& sse) {
    std::vector<json> out;
    size_t at = 0;
    while ((at = sse.find("data: ", at)) != std::string::npos) {
        const size_t end = sse.find('\n', at);
        const std::string data = sse.substr(at + 6, end - at - 6);
        if (!data.empty()) out.push_back(json::parse(data));
        at = end;
    }
    return out;
}

// The ids of the events in SSE text, in order.
std::vector<std::string> event_ids_in(const std::string& sse) {
    std::vector<std::string> out;
    size_t at = 0;
    while ((at = sse.find("id: ", at)) != std::string::npos) {
        const size_t end = sse.find('\n', at);
        out.push_back(sse.substr(at + 4, end - at - 4));
        at = end;
    }
    return out;
}

tls::PeerIdentity client() {
    tls::PeerIdentity id;
    id.common_name = "tester";
    id.fingerprint_sha256 = "aa";
    return id;
}

json rpc(const std::string& method, const json& params = json::object(), const json& id = 7) {
    return {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}};
}

mcp::ToolRegistry stream_tools(std::shared_ptr<std::atomic<int>> finished_calls) {
    mcp::ToolRegistry registry;
    registry.add(mcp::Tool{"count", "", "Counts to three with progress", mcp::object_schema(json::object()), json(),
                           [](const json&, const mcp::ToolCallContext& ctx) {
                               for (int i = 1; i <= 3; ++i) ctx.progress(i, 3, "step");
                               ctx.progress(2, 3);  // going backwards is dropped
                               ctx.log(mcp::LogLevel::debug, "debug detail");
                               ctx.log(mcp::LogLevel::warning, "careful");
                               return mcp::ToolResult::text("counted");
                           }});
    registry.add(mcp::Tool{"ask", "", "Asks the user", mcp::object_schema(json::object()), json(),
                           [](const json&, const mcp::ToolCallContext& ctx) {
                               try {
                                   const auto answer = ctx.elicit("Your name?", {{"type", "object"}, {"properties", {{"name", {{"type", "string"}}}}}},
                                                                  2s);
                                   return mcp::ToolResult::text("action=" + answer.action + " content=" + answer.content.dump());
                               } catch (const mcp::ClientRequestError& e) {
                                   return mcp::ToolResult::error(e.what());
                               }
                           },
                           true});
    registry.add(mcp::Tool{"slow", "", "Waits until cancelled (at most 5 s)", mcp::object_schema(json::object()), json(),
                           [finished_calls](const json&, const mcp::ToolCallContext& ctx) {
                               const bool completed = ctx.sleep_for(5s);
                               ++*finished_calls;
                               return mcp::ToolResult::text(completed ? "slept" : "cancelled");
                           },
                           true});
    registry.add(mcp::Tool{"quick", "", "Returns at once, checking the flag", mcp::object_schema(json::object()), json(),
                           [finished_calls](const json&, const mcp::ToolCallContext& ctx) {
                               ++*finished_calls;
                               return mcp::ToolResult::text(ctx.cancelled() ? "saw cancel" : "done");
                           }});
    registry.add(mcp::Tool{"polls", "", "Ends its response early, then answers", mcp::object_schema(json::object()), json(),
                           [](const json&, const mcp::ToolCallContext& ctx) {
                               ctx.close_stream();
                               ctx.sleep_for(50ms);
                               return mcp::ToolResult::text("after the break");
                           },
                           true});
    return registry;
}

void add_content(mcp::ResourceRegistry& resources, mcp::PromptRegistry& prompts) {
    resources.add(mcp::Resource{"test://text", "text", "", "a text", "text/plain",
                                [](const std::string& uri) { return json::array({mcp::text_resource_contents(uri, "text/plain", "hello")}); }});
    resources.add(mcp::Resource{"test://blob", "blob", "", "bytes", "application/octet-stream", [](const std::string& uri) {
                                    return json::array({mcp::blob_resource_contents(uri, "application/octet-stream", mcp::base64_encode("\x01\x02"))});
                                }});
    resources.add(mcp::ResourceTemplate{"test://items/{id}/detail", "item", "", "an item", "application/json",
                                        [](const std::string& uri, const std::map<std::string, std::string>& v) {
                                            return json::array({mcp::text_resource_contents(uri, "application/json", json{{"id", v.at("id")}}.dump())});
                                        },
                                        {{"id", [](const std::string& partial, const json&) { return mcp::complete_from({"10", "11", "20"}, partial); }}}});
    prompts.add(mcp::Prompt{"greet", "", "Greets someone", {{"who", "whom to greet", true, [](const std::string& partial, const json&) {
                                                                 return mcp::complete_from({"Alice", "Bob", "alina"}, partial);
                                                             }}},
                            [](const std::map<std::string, std::string>& args) {
                                return json{{"messages", {mcp::prompt_message("user", mcp::text_content("Hello " + args.at("who")))}}};
                            }});
}

struct Harness {
    std::shared_ptr<std::atomic<int>> finished_calls = std::make_shared<std::atomic<int>>(0);
    mcp::StreamableHttpServer server{[] {
                                         mcp::ServerOptions o;
                                         o.name = "stream-test";
                                         add_content(o.resources, o.prompts);
                                         return o;
                                     }(),
                                     stream_tools(finished_calls)};

    mcp::HttpResponse send(const std::string& method, const std::string& body, std::vector<std::pair<std::string, std::string>> headers,
                           const std::string& accept = "application/json, text/event-stream") {
        mcp::HttpRequest r;
        r.method = method;
        r.body = body;
        r.headers = {{"Host", "localhost"}, {"Content-Type", "application/json"}, {"Accept", accept}};
        for (auto& h : headers) r.headers.push_back(h);
        return server.handle(r, client());
    }
    std::string initialize(const std::string& version = "2025-11-25", const json& capabilities = {{"elicitation", json::object()}}) {
        auto r = send("POST", rpc("initialize", {{"protocolVersion", version}, {"capabilities", capabilities}}, 1).dump(), {});
        REQUIRE(r.status == 200);
        for (const auto& [k, v] : r.headers)
            if (k == "Mcp-Session-Id") return v;
        FAIL("no session id");
        return "";
    }
    mcp::HttpResponse post(const std::string& session, const json& message, const std::string& accept = "application/json, text/event-stream") {
        return send("POST", message.dump(), {{"Mcp-Session-Id", session}}, accept);
    }
    mcp::HttpResponse get(const std::string& session, const std::string& last_event_id = "") {
        std::vector<std::pair<std::string, std::string>> headers = {{"Mcp-Session-Id", session}};
        if (!last_event_id.empty()) headers.emplace_back("Last-Event-ID", last_event_id);
        return send("GET", "", headers, "text/event-stream");
    }
};

// Pumps a streamed response until it ends, `enough` says so, or 5 s pass.
mcp::StreamStep pump(mcp::HttpResponse& response, RecordingSink& sink, const std::function<bool(const std::string&)>& enough = nullptr) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
        const auto step = response.stream(sink);
        if (step != mcp::StreamStep::more) return step;
        if (enough && enough(sink.text)) return step;
    }
    return mcp::StreamStep::more;
}

bool has_message(const std::string& sse, const std::function<bool(const json&)>& wanted) {
    for (const auto& m : messages_in(sse))
        if (wanted(m)) return true;
    return false;
}

}  // namespace

TEST_CASE("a call without a progress token gets no progress, one with a token a live stream of it", "[mcp-runtime]") {
    Harness h;
    auto session = h.initialize();
    auto plain = h.post(session, rpc("tools/call", {{"name", "count"}}));
    REQUIRE_FALSE(plain.stream);
    // The warning (above the default level info) comes ahead of the answer; no progress at all.
    REQUIRE(plain.content_type == "text/event-stream");
    auto messages = messages_in(plain.body);
    REQUIRE(messages.size() == 2);
    CHECK(messages[0]["method"] == "notifications/message");
    CHECK(messages[0]["params"]["level"] == "warning");
    CHECK(messages[1]["result"]["content"][0]["text"] == "counted");

    auto live = h.post(session, rpc("tools/call", {{"name", "count"}, {"_meta", {{"progressToken", "p1"}}}}, 8));
    REQUIRE(live.stream);
    RecordingSink sink;
    CHECK(pump(live, sink) == mcp::StreamStep::done);
    std::vector<double> progress;
    for (const auto& m : messages_in(sink.text))
        if (m.value("method", "") == "notifications/progress") {
            CHECK(m["params"]["progressToken"] == "p1");
            progress.push_back(m["params"]["progress"].get<double>());
        }
    CHECK(progress == std::vector<double>{1, 2, 3});  // the step back to 2 was dropped
    CHECK(has_message(sink.text, [](const json& m) { return m.value("id", json()) == 8 && m.contains("result"); }));
    // 2025-11-25: a priming event (an id, the retry field, no data) comes first.
    CHECK(sink.text.rfind("id: ", 0) == 0);
    CHECK(sink.text.find("retry: ") != std::string::npos);
}

TEST_CASE("logging/setLevel filters what a tool logs", "[mcp-runtime]") {
    Harness h;
    auto session = h.initialize();
    h.post(session, rpc("logging/setLevel", {{"level", "debug"}}));
    auto r = h.post(session, rpc("tools/call", {{"name", "count"}}));
    CHECK(messages_in(r.body).size() == 3);  // debug, warning, answer
    h.post(session, rpc("logging/setLevel", {{"level", "error"}}));
    auto quiet = h.post(session, rpc("tools/call", {{"name", "count"}}));
    CHECK(quiet.content_type == "application/json");  // nothing to send first: plain JSON
}

TEST_CASE("a client that accepts only JSON gets a request's log messages on its GET stream", "[mcp-runtime]") {
    Harness h;
    auto session = h.initialize();
    auto stream = h.get(session);
    RecordingSink sink;
    pump(stream, sink, [](const std::string& text) { return !text.empty(); });  // the priming event
    auto r = h.post(session, rpc("tools/call", {{"name", "count"}}), "application/json");
    CHECK(r.content_type == "application/json");
    pump(stream, sink, [](const std::string& text) { return text.find("careful") != std::string::npos; });
    CHECK(sink.text.find("careful") != std::string::npos);
}

TEST_CASE("an elicitation the client declines reaches the waiting tool", "[mcp-runtime]") {
    Harness h;
    auto session = h.initialize();
    auto r = h.post(session, rpc("tools/call", {{"name", "ask"}}, "call-1"));
    REQUIRE(r.stream);
    RecordingSink sink;
    pump(r, sink, [](const std::string& text) { return text.find("elicitation/create") != std::string::npos; });
    json request;
    for (const auto& m : messages_in(sink.text))
        if (m.value("method", "") == "elicitation/create") request = m;
    REQUIRE(request.is_object());
    CHECK(request["params"]["message"] == "Your name?");
    // The answer is a POSTed JSON-RPC response, matched by id.
    auto accepted = h.post(session, {{"jsonrpc", "2.0"}, {"id", request["id"]}, {"result", {{"action", "decline"}}}});
    CHECK(accepted.status == 202);
    CHECK(pump(r, sink) == mcp::StreamStep::done);
    CHECK(has_message(sink.text, [](const json& m) {
        return m.value("id", json()) == "call-1" && m["result"]["content"][0]["text"] == "action=decline content={}";
    }));
}

TEST_CASE("elicitation needs the client's capability and a live stream", "[mcp-runtime]") {
    Harness h;
    auto no_capability = h.initialize("2025-06-18", json::object());
    auto r = h.post(no_capability, rpc("tools/call", {{"name", "ask"}}));
    RecordingSink sink;
    pump(r, sink);
    CHECK(sink.text.find("did not declare the 'elicitation' capability") != std::string::npos);
    CHECK(sink.text.rfind("id: ", 0) != 0);  // 2025-06-18: no priming event

    auto capable = h.initialize();
    auto json_only = h.post(capable, rpc("tools/call", {{"name", "ask"}}), "application/json");
    REQUIRE_FALSE(json_only.stream);
    CHECK(json::parse(json_only.body)["result"]["isError"] == true);
    CHECK(json_only.body.find("no event stream") != std::string::npos);
}

TEST_CASE("an unanswered request to the client times out and is cancelled toward the client", "[mcp-runtime]") {
    Harness h;
    auto session = h.initialize();
    auto r = h.post(session, rpc("tools/call", {{"name", "ask"}}));
    RecordingSink sink;
    CHECK(pump(r, sink) == mcp::StreamStep::done);  // 2 s timeout in the tool
    CHECK(has_message(sink.text, [](const json& m) { return m.value("method", "") == "notifications/cancelled"; }));
    CHECK(sink.text.find("no answer within 2 s") != std::string::npos);
    // A late answer is accepted and dropped.
    CHECK(h.post(session, {{"jsonrpc", "2.0"}, {"id", 1}, {"result", {{"action", "accept"}}}}).status == 202);
}

TEST_CASE("notifications/cancelled stops a running call, which then gets no answer", "[mcp-runtime]") {
    Harness h;
    auto session = h.initialize();
    auto r = h.post(session, rpc("tools/call", {{"name", "slow"}}, 42));
    REQUIRE(r.stream);
    RecordingSink sink;
    pump(r, sink, [](const std::string& text) { return !text.empty(); });
    const auto started = std::chrono::steady_clock::now();
    CHECK(h.post(session, {{"jsonrpc", "2.0"}, {"method", "notifications/cancelled"}, {"params", {{"requestId", 42}, {"reason", "bored"}}}}).status == 202);
    CHECK(pump(r, sink) == mcp::StreamStep::done);
    CHECK(std::chrono::steady_clock::now() - started < 2s);
    CHECK_FALSE(has_message(sink.text, [](const json& m) { return m.value("id", json()) == 42; }));
    CHECK(h.finished_calls->load() == 1);
}

TEST_CASE("cancellation racing completion: every call ends once, with an answer or a cancellation", "[mcp-runtime]") {
    Harness h;
    auto session = h.initialize();
    constexpr int kCalls = 200;
    std::atomic<int> answered{0}, cancelled{0};
    std::thread canceller([&] {
        for (int i = 0; i < kCalls; ++i)
            h.post(session, {{"jsonrpc", "2.0"}, {"method", "notifications/cancelled"}, {"params", {{"requestId", i}}}});
    });
    for (int i = 0; i < kCalls; ++i) {
        auto r = h.post(session, rpc("tools/call", {{"name", "quick"}}, i), "application/json");
        const json answer = json::parse(r.body);
        if (answer.contains("result")) ++answered;
        else if (answer["error"]["code"] == mcp::kRequestCancelled) ++cancelled;
    }
    canceller.join();
    CHECK(answered + cancelled == kCalls);
    CHECK(h.finished_calls->load() == kCalls);
}

TEST_CASE("a stream ended early is resumed with Last-Event-ID, an unknown id opens the standalone stream", "[mcp-runtime]") {
    Harness h;
    auto session = h.initialize();
    auto r = h.post(session, rpc("tools/call", {{"name", "polls"}}, 5));
    RecordingSink first;
    CHECK(pump(r, first) == mcp::StreamStep::done);  // ended by the tool, before the answer
    CHECK_FALSE(has_message(first.text, [](const json& m) { return m.contains("result"); }));
    CHECK(first.text.find("retry: ") != std::string::npos);
    const auto ids = event_ids_in(first.text);
    REQUIRE(ids.size() == 1);

    auto resumed = h.get(session, ids.back());
    RecordingSink second;
    CHECK(pump(resumed, second) == mcp::StreamStep::done);
    CHECK(has_message(second.text, [](const json& m) { return m.value("id", json()) == 5 && m["result"]["content"][0]["text"] == "after the break"; }));

    // Replayed again from the same point: the events are kept for a client that comes back late.
    auto again = h.get(session, ids.back());
    RecordingSink third;
    pump(again, third);
    CHECK(has_message(third.text, [](const json& m) { return m.value("id", json()) == 5; }));

    for (const std::string unknown : {"99:1", "garbage", "1:999999"}) {
        auto standalone = h.get(session, unknown);
        REQUIRE(standalone.stream);
        RecordingSink sink;
        pump(standalone, sink, [](const std::string& text) { return !text.empty(); });
        CHECK(sink.text.rfind("id: 0:", 0) == 0);  // the standalone stream's priming event
    }
}

TEST_CASE("an idle stream gets comment heartbeats, and ends when the client is gone", "[mcp-runtime]") {
    auto stream = std::make_shared<mcp::EventStream>("0", 8);
    mcp::SseSettings settings;
    settings.heartbeat = 50ms;
    settings.max_wait = 20ms;
    mcp::StreamReader reader(stream, 0, settings, false);
    RecordingSink sink;
    const auto until = std::chrono::steady_clock::now() + 300ms;
    while (std::chrono::steady_clock::now() < until) CHECK(reader.pump(sink) == mcp::StreamStep::more);
    CHECK(sink.text.find(": keep-alive\n\n") != std::string::npos);
    stream->push(R"({"jsonrpc":"2.0","method":"x"})");
    sink.broken = true;
    CHECK(reader.pump(sink) == mcp::StreamStep::abort);
}

TEST_CASE("a newer reader of a stream replaces the older one; the replay log is bounded", "[mcp-runtime]") {
    auto stream = std::make_shared<mcp::EventStream>("3", 2);
    mcp::SseSettings settings;
    settings.max_wait = 10ms;
    mcp::StreamReader old_reader(stream, 0, settings, false);
    for (int i = 0; i < 5; ++i) stream->push("{\"n\":" + std::to_string(i) + "}");
    mcp::StreamReader new_reader(stream, 0, settings, false);
    RecordingSink old_sink, new_sink;
    CHECK(old_reader.pump(old_sink) == mcp::StreamStep::done);  // superseded
    new_reader.pump(new_sink);
    CHECK(event_ids_in(new_sink.text) == std::vector<std::string>{"3:4", "3:5"});  // only the last two were kept
    CHECK(mcp::EventId::parse("3:5")->sequence == 5);
    CHECK_FALSE(mcp::EventId::parse("3:x"));
    CHECK_FALSE(mcp::EventId::parse(":5"));
}

TEST_CASE("DELETE ends a session: its streams finish, then requests get 404", "[mcp-runtime]") {
    Harness h;
    auto session = h.initialize();
    auto stream = h.get(session);
    RecordingSink sink;
    pump(stream, sink, [](const std::string& text) { return !text.empty(); });
    CHECK(h.send("DELETE", "", {{"Mcp-Session-Id", session}}).status == 200);
    CHECK(pump(stream, sink) == mcp::StreamStep::done);
    CHECK(h.post(session, rpc("ping")).status == 404);
    CHECK(h.get(session).status == 404);
    CHECK(h.send("GET", "", {{"Mcp-Session-Id", session}}, "application/json").status == 405);
    CHECK(h.send("GET", "", {}, "text/event-stream").status == 400);
}

TEST_CASE("resources: list, read text and binary, templates, subscriptions", "[mcp-runtime]") {
    Harness h;
    auto session = h.initialize();
    auto result = [&](const json& message) { return json::parse(h.post(session, message).body); };
    auto list = result(rpc("resources/list"))["result"]["resources"];
    REQUIRE(list.size() == 2);
    CHECK(list[0]["uri"] == "test://text");
    CHECK(result(rpc("resources/templates/list"))["result"]["resourceTemplates"][0]["uriTemplate"] == "test://items/{id}/detail");
    CHECK(result(rpc("resources/read", {{"uri", "test://text"}}))["result"]["contents"][0]["text"] == "hello");
    CHECK(result(rpc("resources/read", {{"uri", "test://blob"}}))["result"]["contents"][0]["blob"] == "AQI=");
    CHECK(result(rpc("resources/read", {{"uri", "test://items/12/detail"}}))["result"]["contents"][0]["text"] == R"({"id":"12"})");
    CHECK(result(rpc("resources/read", {{"uri", "test://items//detail"}}))["error"]["code"] == mcp::kResourceNotFound);
    CHECK(result(rpc("resources/read", {{"uri", "test://nothing"}}))["error"]["code"] == mcp::kResourceNotFound);

    // A subscription to a resource that does not exist is refused, not silently kept.
    CHECK(result(rpc("resources/subscribe", {{"uri", "test://nothing"}}))["error"]["code"] == mcp::kResourceNotFound);
    CHECK(result(rpc("resources/subscribe", {{"uri", "test://text"}}))["result"] == json::object());
    auto stream = h.get(session);
    RecordingSink sink;
    pump(stream, sink, [](const std::string& text) { return !text.empty(); });
    h.server.resource_updated("test://blob");  // not subscribed
    h.server.resource_updated("test://text");
    pump(stream, sink, [](const std::string& text) { return text.find("resources/updated") != std::string::npos; });
    CHECK(sink.text.find(R"("uri":"test://text")") != std::string::npos);
    CHECK(sink.text.find("test://blob") == std::string::npos);
    CHECK(result(rpc("resources/unsubscribe", {{"uri", "test://text"}}))["result"] == json::object());
    h.server.resource_updated("test://text");
    const size_t before = messages_in(sink.text).size();
    pump(stream, sink, [](const std::string&) { return true; });
    CHECK(messages_in(sink.text).size() == before);
}

TEST_CASE("prompts and completion of prompt arguments and template variables", "[mcp-runtime]") {
    Harness h;
    auto session = h.initialize();
    auto result = [&](const json& message) { return json::parse(h.post(session, message).body); };
    auto prompts = result(rpc("prompts/list"))["result"]["prompts"];
    CHECK(prompts[0]["arguments"][0] == json({{"name", "who"}, {"description", "whom to greet"}, {"required", true}}));
    CHECK(result(rpc("prompts/get", {{"name", "greet"}, {"arguments", {{"who", "Ann"}}}}))["result"]["messages"][0]["content"]["text"] ==
          "Hello Ann");
    CHECK(result(rpc("prompts/get", {{"name", "greet"}}))["error"]["code"] == mcp::kInvalidParams);
    CHECK(result(rpc("prompts/get", {{"name", "nope"}}))["error"]["code"] == mcp::kInvalidParams);
    auto completion = result(rpc("completion/complete", {{"ref", {{"type", "ref/prompt"}, {"name", "greet"}}},
                                                         {"argument", {{"name", "who"}, {"value", "al"}}}}))["result"]["completion"];
    CHECK(completion["values"] == json({"Alice", "alina"}));
    CHECK(completion["total"] == 2);
    CHECK(completion["hasMore"] == false);
    CHECK(result(rpc("completion/complete", {{"ref", {{"type", "ref/resource"}, {"uri", "test://items/{id}/detail"}}},
                                            {"argument", {{"name", "id"}, {"value", "1"}}}}))["result"]["completion"]["values"] ==
          json({"10", "11"}));
    CHECK(result(rpc("completion/complete", {{"ref", {{"type", "ref/prompt"}, {"name", "nope"}}}, {"argument", {{"name", "x"}}}}))["error"]["code"] ==
          mcp::kInvalidParams);
    auto capabilities = json::parse(h.send("POST", rpc("initialize", {{"protocolVersion", "2025-06-18"}}, 1).dump(), {}).body)["result"]["capabilities"];
    CHECK(capabilities["resources"]["subscribe"] == true);
    CHECK(capabilities.contains("prompts"));
    CHECK(capabilities.contains("completions"));
}

TEST_CASE("URI templates match one path segment per variable", "[mcp-runtime]") {
    CHECK(mcp::match_uri_template("a://x/{id}/y", "a://x/12/y") == std::map<std::string, std::string>{{"id", "12"}});
    CHECK_FALSE(mcp::match_uri_template("a://x/{id}/y", "a://x/1/2/y"));
    CHECK_FALSE(mcp::match_uri_template("a://x/{id}/y", "a://x//y"));
    CHECK(mcp::match_uri_template("w://{city}", "w://New York") == std::map<std::string, std::string>{{"city", "New York"}});
    CHECK(mcp::base64_encode("") == "");
    CHECK(mcp::base64_encode("f") == "Zg==");
    CHECK(mcp::base64_encode("fo") == "Zm8=");
    CHECK(mcp::base64_encode("foo") == "Zm9v");
}

TEST_CASE("input schemas in JSON Schema 2020-12: $ref to $defs, const, anyOf, oneOf, item counts", "[mcp-runtime]") {
    const json schema = {{"$schema", "https://json-schema.org/draft/2020-12/schema"},
                         {"type", "object"},
                         {"$defs", {{"address", {{"type", "object"}, {"properties", {{"city", {{"type", "string"}}}}}, {"required", {"city"}}}}}},
                         {"properties",
                          {{"address", {{"$ref", "#/$defs/address"}}},
                           {"kind", {{"const", "home"}}},
                           {"size", {{"anyOf", {{{"type", "integer"}}, {{"enum", {"small", "large"}}}}}}},
                           {"tags", {{"type", "array"}, {"minItems", 1}, {"maxItems", 2}}},
                           {"pick", {{"oneOf", {{{"type", "integer"}, {"minimum", 0}}, {{"type", "integer"}, {"maximum", 10}}}}}}}},
                         {"additionalProperties", false}};
    auto problem = [&](const json& value) { return mcp::validate_arguments(schema, value).value_or("valid"); };
    CHECK(problem({{"address", {{"city", "Oslo"}}}, {"kind", "home"}, {"size", "small"}, {"tags", {"a"}}}) == "valid");
    CHECK(problem({{"address", {{"street", "x"}}}}) == "missing required argument 'address.city'");
    CHECK(problem({{"kind", "work"}}) == "argument 'kind' must be \"home\"");
    CHECK(problem({{"size", "medium"}}) == "argument 'size' must be of type integer");  // the first form's reason
    CHECK(problem({{"size", 3}}) == "valid");
    CHECK(problem({{"tags", json::array()}}) == "argument 'tags' must have at least 1 items");
    CHECK(problem({{"tags", {"a", "b", "c"}}}) == "argument 'tags' must have at most 2 items");
    CHECK(problem({{"pick", 5}}) == "argument 'pick' matches more than one of the allowed forms");
    CHECK(problem({{"pick", 50}}) == "valid");
    // A reference cycle ends instead of recursing for ever.
    CHECK(mcp::validate_arguments({{"$ref", "#"}}, json::object()) == std::nullopt);
}

TEST_CASE("a 2025-03-26 session may send JSON-RPC batches; later versions may not", "[mcp-runtime]") {
    Harness h;
    auto old_session = h.initialize("2025-03-26", json::object());
    const json batch = json::array({rpc("ping", json::object(), 1), {{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}},
                                    rpc("tools/call", {{"name", "quick"}}, 2), rpc("nope", json::object(), 3), rpc("initialize", json::object(), 4)});
    auto r = h.post(old_session, batch);
    REQUIRE(r.status == 200);
    const json answers = json::parse(r.body);
    REQUIRE(answers.size() == 4);
    CHECK(answers[0] == json({{"jsonrpc", "2.0"}, {"id", 1}, {"result", json::object()}}));
    CHECK(answers[1]["result"]["content"][0]["text"] == "done");
    CHECK(answers[2]["error"]["code"] == mcp::kMethodNotFound);
    CHECK(answers[3]["error"]["code"] == mcp::kInvalidRequest);
    CHECK(h.post(old_session, json::array({{{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}}})).status == 202);
    CHECK(h.post(h.initialize("2025-06-18"), batch).status == 400);
}
