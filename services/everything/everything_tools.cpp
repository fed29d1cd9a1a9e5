#include "services/everything_tools.hpp"

#include "mcp/content.hpp"
#include "mcp/json_schema.hpp"

#include <atomic>
#include <cmath>
#include <memory>

namespace mcpmtls::services {
namespace {

using mcp::json;
using mcp::ToolResult;
using namespace std::chrono_literals;

// A 1x1 red PNG.
const std::string kPngBase64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";

// A tenth of a second of a 440 Hz tone: 8 kHz, 8-bit mono PCM in a RIFF/WAVE file.
std::string tiny_wav_base64() {
    const uint32_t samples = 800;
    std::string wav;
    auto u32 = [&](uint32_t v) { for (int i = 0; i < 4; ++i) wav += static_cast<char>((v >> (8 * i)) & 0xff); };
    auto u16 = [&](uint16_t v) { for (int i = 0; i < 2; ++i) wav += static_cast<char>((v >> (8 * i)) & 0xff); };
    wav += "RIFF";
    u32(36 + samples);
    wav += "WAVEfmt ";
    u32(16);
    u16(1);     // PCM
    u16(1);     // mono
    u32(8000);  // sample rate
    u32(8000);  // bytes per second
    u16(1);     // block align
    u16(8);     // bits per sample
    wav += "data";
    u32(samples);
    for (uint32_t i = 0; i < samples; ++i)
        wav += static_cast<char>(128 + static_cast<int>(60 * std::sin(2 * 3.14159265358979 * 440 * i / 8000.0)));
    return mcp::base64_encode(wav);
}

ToolResult content_result(json content) {
    ToolResult result;
    result.content = std::move(content);
    return result;
}

// A tool without arguments.
mcp::Tool fixed_tool(std::string name, std::string description, std::function<ToolResult(const json&, const mcp::ToolCallContext&)> handler,
                     bool streams = false) {
    return mcp::Tool{std::move(name), "", std::move(description), mcp::object_schema(json::object()), json(), std::move(handler), streams};
}

std::string elicitation_summary(const mcp::ElicitResult& answer) {
    return "action=" + answer.action + ", content=" + answer.content.dump();
}

json string_property(const std::string& description) { return {{"type", "string"}, {"description", description}}; }

json name_schema(const std::string& property, const std::string& type = "string") {
    return {{"type", "object"}, {"properties", {{property, {{"type", type}}}}}, {"required", {property}}};
}

std::string text_of_sample(const json& answer) {
    const json content = answer.value("content", json::object());
    return content.is_object() ? content.value("text", content.dump()) : content.dump();
}

// The tools of the conformance suite's input-required (MRTR, SEP-2322) and stateless scenarios.
// Plain functions asking through ctx: in 2026-07-28 each question becomes an input-required
// result and the tool runs again with the answers; in a 2025 session it is a request on the
// call's event stream. Keys are the ones the scenarios expect.
void add_input_required_tools(mcp::ToolRegistry& registry) {
    registry.add(fixed_tool("test_input_required_result_elicitation", "Asks the user's name, then greets them",
                            [](const json&, const mcp::ToolCallContext& ctx) {
                                const auto answer = ctx.elicit("What is your name?", name_schema("name"), 5min, "user_name");
                                return ToolResult::text("Hello, " + answer.content.value("name", std::string("stranger")) + "!");
                            },
                            true));
    registry.add(fixed_tool("test_input_required_result_sampling", "Asks the client's LLM for the capital of France",
                            [](const json&, const mcp::ToolCallContext& ctx) {
                                const json answer = ctx.sample({{"messages", {mcp::prompt_message("user", mcp::text_content("What is the capital of France?"))}},
                                                                {"maxTokens", 100}},
                                                               5min, "capital_question");
                                return ToolResult::text("LLM response: " + text_of_sample(answer));
                            },
                            true));
    registry.add(fixed_tool("test_input_required_result_list_roots", "Lists the client's roots",
                            [](const json&, const mcp::ToolCallContext& ctx) {
                                const json roots = ctx.list_roots(1min, "client_roots").value("roots", json::array());
                                return ToolResult::text("Client roots: " + roots.dump());
                            },
                            true));
    for (const char* name : {"test_input_required_result_request_state", "test_input_required_result_tampered_state"})
        registry.add(fixed_tool(name, "Asks for a confirmation; the answer comes back with the sealed requestState",
                                [](const json&, const mcp::ToolCallContext& ctx) {
                                    const auto answer = ctx.elicit("Please confirm", name_schema("ok", "boolean"), 5min, "confirm");
                                    return ToolResult::text("state-ok: requestState verified, confirmation " + answer.action);
                                },
                                true));
    registry.add(fixed_tool("test_input_required_result_multiple_inputs", "Asks three things at once: a name, a greeting, the roots",
                            [](const json&, const mcp::ToolCallContext& ctx) {
                                const auto answers = ctx.ask_all(
                                    {{"user_name", "elicitation/create", {{"message", "What is your name?"}, {"requestedSchema", name_schema("name")}}},
                                     {"greeting", "sampling/createMessage",
                                      {{"messages", {mcp::prompt_message("user", mcp::text_content("Generate a greeting"))}}, {"maxTokens", 50}}},
                                     {"client_roots", "roots/list", json::object()}});
                                const auto name = mcp::ToolCallContext::parse_elicit_result(answers[0]).content.value("name", std::string("?"));
                                return ToolResult::text(text_of_sample(answers[1]) + " " + name + " (roots: " +
                                                        answers[2].value("roots", json::array()).dump() + ")");
                            },
                            true));
    registry.add(fixed_tool("test_input_required_result_multi_round", "Asks a name, then a favourite colour, one round each",
                            [](const json&, const mcp::ToolCallContext& ctx) {
                                const auto name = ctx.elicit("Step 1: What is your name?", name_schema("name"), 5min, "step1");
                                const auto color = ctx.elicit("Step 2: What is your favorite color?", name_schema("color"), 5min, "step2");
                                return ToolResult::text(name.content.value("name", std::string("?")) + " likes " +
                                                        color.content.value("color", std::string("?")));
                            },
                            true));
    registry.add(fixed_tool("test_input_required_result_capabilities", "Asks only what the client declared it can answer",
                            [](const json&, const mcp::ToolCallContext& ctx) {
                                std::vector<mcp::InputRequest> questions;
                                if (ctx.client_supports("elicitation"))
                                    questions.push_back({"user_name", "elicitation/create",
                                                         {{"message", "What is your name?"}, {"requestedSchema", name_schema("name")}}});
                                if (ctx.client_supports("sampling"))
                                    questions.push_back({"capital_question", "sampling/createMessage",
                                                         {{"messages", {mcp::prompt_message("user", mcp::text_content("What is the capital of France?"))}},
                                                          {"maxTokens", 100}}});
                                if (questions.empty()) return ToolResult::text("The client can answer nothing; nothing asked.");
                                ctx.ask_all(questions);
                                return ToolResult::text("Asked " + std::to_string(questions.size()) + " question(s), all answered.");
                            },
                            true));
    registry.add(fixed_tool("test_missing_capability", "Needs sampling: refused (-32021) when the request does not declare it",
                            [](const json&, const mcp::ToolCallContext& ctx) {
                                const json answer = ctx.sample({{"messages", {mcp::prompt_message("user", mcp::text_content("Say hello"))}}, {"maxTokens", 20}});
                                return ToolResult::text("LLM response: " + text_of_sample(answer));
                            },
                            true));
    registry.add(fixed_tool("test_streaming_elicitation", "Asks the user something while its answer streams",
                            [](const json&, const mcp::ToolCallContext& ctx) {
                                ctx.log(mcp::LogLevel::info, "asking the user", "everything");
                                const auto answer = ctx.elicit("What is your name?", name_schema("name"), 5min, "user_name");
                                return ToolResult::text("Hello, " + answer.content.value("name", std::string("stranger")) + "!");
                            },
                            true));
    registry.add(fixed_tool("test_logging_tool", "Logs at info level (only when the request asked for log messages)",
                            [](const json&, const mcp::ToolCallContext& ctx) {
                                ctx.log(mcp::LogLevel::info, "Tool execution started", "everything");
                                ctx.log(mcp::LogLevel::info, "Tool execution completed", "everything");
                                return ToolResult::text("Logging test completed.");
                            },
                            true));
}

}  // namespace

void add_everything_tools(mcp::ToolRegistry& registry, WatchedVersion watched_version) {
    registry.add(fixed_tool("test_simple_text", "Returns one text block", [](const json&, const mcp::ToolCallContext&) {
        return ToolResult::text("This is a simple text response for testing.");
    }));
    registry.add(fixed_tool("test_image_content", "Returns an image (a 1x1 PNG)", [](const json&, const mcp::ToolCallContext&) {
        return content_result({mcp::image_content(kPngBase64, "image/png")});
    }));
    registry.add(fixed_tool("test_audio_content", "Returns audio (a short WAV tone)", [](const json&, const mcp::ToolCallContext&) {
        return content_result({mcp::audio_content(tiny_wav_base64(), "audio/wav")});
    }));
    registry.add(fixed_tool("test_embedded_resource", "Returns an embedded text resource", [](const json&, const mcp::ToolCallContext&) {
        return content_result({mcp::embedded_resource(
            mcp::text_resource_contents("test://embedded-resource", "text/plain", "This is an embedded resource content."))});
    }));
    registry.add(fixed_tool("test_multiple_content_types", "Returns text, an image and an embedded resource",
                            [](const json&, const mcp::ToolCallContext&) {
                                return content_result({mcp::text_content("Multiple content types test:"),
                                                       mcp::image_content(kPngBase64, "image/png"),
                                                       mcp::embedded_resource(mcp::text_resource_contents(
                                                           "test://mixed-content-resource", "application/json",
                                                           R"({"test":"data","value":123})"))});
                            }));
    registry.add(fixed_tool(
        "test_tool_with_logging", "Sends three log messages at info level while it runs",
        [](const json&, const mcp::ToolCallContext& ctx) {
            ctx.log(mcp::LogLevel::info, "Tool execution started", "everything");
            ctx.sleep_for(50ms);
            ctx.log(mcp::LogLevel::info, "Tool processing data", "everything");
            ctx.sleep_for(50ms);
            ctx.log(mcp::LogLevel::info, "Tool execution completed", "everything");
            return ToolResult::text("Logging test completed: three messages sent.");
        },
        true));
    registry.add(fixed_tool("test_error_handling", "Always fails, as a tool error (isError)", [](const json&, const mcp::ToolCallContext&) {
        return ToolResult::error("This tool intentionally returns an error for testing");
    }));
    registry.add(fixed_tool(
        "test_tool_with_progress", "Reports progress 0, 50 and 100 of 100 when asked (_meta.progressToken)",
        [](const json&, const mcp::ToolCallContext& ctx) {
            for (int step = 0; step <= 100; step += 50) {
                if (step > 0 && !ctx.sleep_for(50ms)) return ToolResult::error("cancelled");
                ctx.progress(step, 100, "step " + std::to_string(step / 50 + 1) + " of 3");
            }
            return ToolResult::text("Progress test completed.");
        },
        true));
    registry.add(mcp::Tool{"test_sampling", "", "Asks the client's LLM (sampling/createMessage) and returns its answer",
                           mcp::object_schema({{"prompt", string_property("The prompt to send to the LLM")}}, {"prompt"}), json(),
                           [](const json& arguments, const mcp::ToolCallContext& ctx) {
                               const json answer = ctx.sample(
                                   {{"messages", {mcp::prompt_message("user", mcp::text_content(arguments.at("prompt").get<std::string>()))}},
                                    {"maxTokens", 100}});
                               const json content = answer.value("content", json::object());
                               return ToolResult::text("LLM response: " + (content.is_object() ? content.value("text", content.dump()) : content.dump()));
                           },
                           true});
    registry.add(mcp::Tool{"test_elicitation", "", "Asks the user for a username and an e-mail address (elicitation/create)",
                           mcp::object_schema({{"message", string_property("The message to show the user")}}, {"message"}), json(),
                           [](const json& arguments, const mcp::ToolCallContext& ctx) {
                               const json schema = {{"type", "object"},
                                                    {"properties", {{"username", string_property("User's response")},
                                                                    {"email", string_property("User's email address")}}},
                                                    {"required", {"username", "email"}}};
                               return ToolResult::text("User response: " +
                                                       elicitation_summary(ctx.elicit(arguments.at("message").get<std::string>(), schema)));
                           },
                           true});
    registry.add(fixed_tool(
        "test_elicitation_sep1034_defaults", "Elicitation whose schema gives a default for every primitive type (SEP-1034)",
        [](const json&, const mcp::ToolCallContext& ctx) {
            const json schema = {
                {"type", "object"},
                {"properties",
                 {{"name", {{"type", "string"}, {"description", "User name"}, {"default", "John Doe"}}},
                  {"age", {{"type", "integer"}, {"description", "User age"}, {"default", 30}}},
                  {"score", {{"type", "number"}, {"description", "User score"}, {"default", 95.5}}},
                  {"status", {{"type", "string"}, {"description", "User status"}, {"enum", {"active", "inactive", "pending"}}, {"default", "active"}}},
                  {"verified", {{"type", "boolean"}, {"description", "Verification status"}, {"default", true}}}}},
                {"required", json::array()}};
            return ToolResult::text("Elicitation completed: " + elicitation_summary(ctx.elicit("Please review your details", schema)));
        },
        true));
    registry.add(fixed_tool(
        "test_elicitation_sep1330_enums", "Elicitation with the five enum forms of SEP-1330",
        [](const json&, const mcp::ToolCallContext& ctx) {
            const json titled = json::array({{{"const", "value1"}, {"title", "First Option"}},
                                             {{"const", "value2"}, {"title", "Second Option"}},
                                             {{"const", "value3"}, {"title", "Third Option"}}});
            const json schema = {
                {"type", "object"},
                {"properties",
                 {{"untitledSingle", {{"type", "string"}, {"enum", {"option1", "option2", "option3"}}}},
                  {"titledSingle", {{"type", "string"}, {"oneOf", titled}}},
                  {"legacyEnum", {{"type", "string"}, {"enum", {"opt1", "opt2", "opt3"}}, {"enumNames", {"Option One", "Option Two", "Option Three"}}}},
                  {"untitledMulti", {{"type", "array"}, {"items", {{"type", "string"}, {"enum", {"option1", "option2", "option3"}}}}}},
                  {"titledMulti", {{"type", "array"}, {"items", {{"anyOf", titled}}}}}}}};
            return ToolResult::text("Elicitation completed: " + elicitation_summary(ctx.elicit("Please choose", schema)));
        },
        true));
    registry.add(mcp::Tool{"json_schema_2020_12_tool", "", "Tool with JSON Schema 2020-12 features ($schema, $defs, $ref)",
                           // SEP-1613's keywords, and SEP-2106's ($anchor, allOf/anyOf, if/then/else).
                           {{"$schema", "https://json-schema.org/draft/2020-12/schema"},
                            {"type", "object"},
                            {"$defs", {{"address", {{"$anchor", "addressDef"}, {"type", "object"},
                                                    {"properties", {{"street", {{"type", "string"}}}, {"city", {{"type", "string"}}}}}}}}},
                            {"properties", {{"name", {{"type", "string"}}},
                                            {"address", {{"$ref", "#/$defs/address"}}},
                                            {"contactMethod", {{"type", "string"}, {"enum", {"phone", "email"}}}},
                                            {"phone", {{"type", "string"}}},
                                            {"email", {{"type", "string"}}}}},
                            {"allOf", json::array({{{"anyOf", json::array({{{"required", {"phone"}}}, {{"required", {"email"}}}})}}})},
                            {"if", {{"properties", {{"contactMethod", {{"const", "phone"}}}}}, {"required", {"contactMethod"}}}},
                            {"then", {{"required", {"phone"}}}},
                            {"else", {{"required", {"email"}}}},
                            {"additionalProperties", false}},
                           json(),
                           [](const json& arguments, const mcp::ToolCallContext&) { return ToolResult::text("Received: " + arguments.dump()); }});
    registry.add(fixed_tool(
        "test_reconnection", "Ends its event stream before answering: the client must reconnect with Last-Event-ID (SSE polling)",
        [](const json&, const mcp::ToolCallContext& ctx) {
            ctx.close_stream();
            ctx.sleep_for(100ms);
            return ToolResult::text("Reconnection test completed successfully");
        },
        true));
    add_input_required_tools(registry);
    registry.add(fixed_tool("test_update_watched_resource", "Changes test://watched-resource; subscribed clients are notified",
                            [watched_version](const json&, const mcp::ToolCallContext& ctx) {
                                const int now = ++*watched_version;
                                ctx.resource_updated("test://watched-resource");
                                return ToolResult::text("test://watched-resource is now at version " + std::to_string(now));
                            }));
}

void add_everything_content(mcp::ResourceRegistry& resources, mcp::PromptRegistry& prompts, WatchedVersion watched_version) {
    resources.add(mcp::Resource{"test://static-text", "static-text", "Static text", "A fixed text resource", "text/plain",
                                [](const std::string& uri) {
                                    return json::array({mcp::text_resource_contents(uri, "text/plain", "This is the content of the static text resource.")});
                                }});
    resources.add(mcp::Resource{"test://static-binary", "static-binary", "Static binary", "A fixed binary resource (a PNG)", "image/png",
                                [](const std::string& uri) { return json::array({mcp::blob_resource_contents(uri, "image/png", kPngBase64)}); }});
    resources.add(mcp::Resource{"test://watched-resource", "watched-resource", "Watched resource",
                                "A resource that changes when test_update_watched_resource runs (subscribe to hear about it)",
                                "text/plain", [watched_version](const std::string& uri) {
                                    return json::array({mcp::text_resource_contents(
                                        uri, "text/plain", "Watched resource, version " + std::to_string(watched_version->load()))});
                                }});
    resources.add(mcp::ResourceTemplate{
        "test://template/{id}/data", "template-data", "Templated data", "Data for any id", "application/json",
        [](const std::string& uri, const std::map<std::string, std::string>& variables) {
            const std::string& id = variables.at("id");
            return json::array({mcp::text_resource_contents(uri, "application/json",
                                                            json{{"id", id}, {"templateTest", true}, {"data", "Data for ID: " + id}}.dump())});
        },
        {{"id", [](const std::string& partial, const json&) { return mcp::complete_from({"1", "2", "3", "42", "123"}, partial); }}}});

    prompts.add(mcp::Prompt{"test_simple_prompt", "", "A prompt without arguments", {}, [](const std::map<std::string, std::string>&) {
                                return json{{"messages", {mcp::prompt_message("user", mcp::text_content("This is a simple prompt for testing."))}}};
                            }});
    const mcp::Completer words = [](const std::string& partial, const json&) {
        return mcp::complete_from({"paris", "park", "party", "test", "testing", "tested"}, partial);
    };
    prompts.add(mcp::Prompt{"test_prompt_with_arguments", "", "A prompt with two required arguments",
                            {{"arg1", "First test argument", true, words}, {"arg2", "Second test argument", true, words}},
                            [](const std::map<std::string, std::string>& args) {
                                return json{{"messages", {mcp::prompt_message("user", mcp::text_content("Prompt with arguments: arg1='" + args.at("arg1") +
                                                                                                       "', arg2='" + args.at("arg2") + "'"))}}};
                            }});
    prompts.add(mcp::Prompt{"test_prompt_with_embedded_resource", "", "A prompt that embeds a resource",
                            {{"resourceUri", "URI of the resource to embed", true, nullptr}},
                            [](const std::map<std::string, std::string>& args) {
                                return json{{"messages",
                                             {mcp::prompt_message("user", mcp::embedded_resource(mcp::text_resource_contents(
                                                                              args.at("resourceUri"), "text/plain", "Embedded resource content for testing."))),
                                              mcp::prompt_message("user", mcp::text_content("Please process the embedded resource above."))}}};
                            }});
    prompts.add(mcp::Prompt{"test_input_required_result_prompt", "", "A prompt that asks the user for its context first (MRTR)", {},
                            nullptr, [](const std::map<std::string, std::string>&, const mcp::ToolCallContext& ctx) {
                                const auto answer = ctx.elicit("What context should the prompt use?", name_schema("context"), 5min, "user_context");
                                return json{{"messages", {mcp::prompt_message("user", mcp::text_content("Context: " + answer.content.value("context", std::string())))}}};
                            }});
    prompts.add(mcp::Prompt{"test_prompt_with_image", "", "A prompt with an image", {}, [](const std::map<std::string, std::string>&) {
                                return json{{"messages", {mcp::prompt_message("user", mcp::image_content(kPngBase64, "image/png")),
                                                          mcp::prompt_message("user", mcp::text_content("Please analyze the image above."))}}};
                            }});
}

server::ServerDescription everything_server() {
    // Shared by the resource and the tool that changes it.
    auto watched_version = std::make_shared<std::atomic<int>>(1);
    return {"everything-server", "everything", "Everything (MCP reference and conformance fixture)", 8446,
            "A reference server and test fixture: tools, resources and prompts with the names the official MCP "
            "conformance suite expects. Not a product service.",
            [watched_version](mcp::ToolRegistry& registry) { add_everything_tools(registry, watched_version); },
            [watched_version](mcp::ResourceRegistry& resources, mcp::PromptRegistry& prompts) {
                add_everything_content(resources, prompts, watched_version);
            }};
}

}  // namespace mcpmtls::services
