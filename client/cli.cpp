#include "client/cli.hpp"

#include "client/bench.hpp"
#include "client/coordinator.hpp"
#include "client/router.hpp"
#include "common/args.hpp"
#include "common/files.hpp"
#include "common/log.hpp"
#include "common/strings.hpp"

#include <csignal>
#include <future>
#include <iostream>
#include <sstream>

namespace mcpmtls::client {
namespace {

using nlohmann::json;

ArgSpec global_flags(const std::string& usage, const std::string& summary) {
    return ArgSpec(usage, summary)
        .flag("strict", "verify servers fully: chain, validity, serverAuth, host name (default)")
        .flag("relaxed", "DEMOS ONLY: accept self-signed/unknown-issuer, expired or misnamed servers with a WARNING")
        .option("pin", "sha256:HEX", "trust exactly this server certificate fingerprint, whoever issued it")
        .option("ca", "FILE", "trust bundle (default certs/ca-bundle.crt)")
        .option("cert", "FILE", "our client certificate (default certs/coordinator.crt)")
        .option("key", "FILE", "our client key (default certs/coordinator.key)")
        .option("crl", "FILE", "CRL to check server certificates against")
        .option("config", "FILE", "JSON: {\"servers\": {\"NAME\": \"URL\"}, \"ca\", \"cert\", \"key\", \"crl\", \"mode\", \"pin\"}")
        .repeated("server", "NAME=URL", "a server to use (repeatable); only these are used when given")
        .flag("allow-http", "allow plain http:// URLs (local protocol tests only)")
        .flag("json", "print JSON")
        .option("timeout", "SECONDS", "connect and read timeout (default 30)")
        .option("log-format", "text|json", "log format on stderr (default text)")
        .flag("verbose", "debug logging, including every handshake verdict")
        // bench only
        .option("tool", "NAME", "bench: tool to call (default echo)")
        .repeated("args", "KEY=VALUE", "bench: tool argument (default message=hello)")
        .option("connections", "N", "bench: concurrent connections (default 16)")
        .option("duration", "SECONDS", "bench: run time (default 10)")
        .option("requests", "N", "bench: total requests instead of a duration")
        .flag("new-connection-per-request", "bench: a TLS handshake for every request")
        .flag("no-resumption", "bench: with a new connection per request, never resume TLS sessions")
        .option("rate", "R", "bench: open loop at R requests/s in total (default: closed loop)")
        .flag("quiet", "bench: no progress line");
}

const std::vector<std::string> kBenchFlags = {"tool", "args", "connections", "duration", "requests",
                                              "new-connection-per-request", "no-resumption", "rate", "quiet"};

const char* kOverview =
    "usage: client [--strict|--relaxed] [--ca F] [--cert F] [--key F] [--config F] [--server NAME=URL]... [--json] COMMAND\n"
    "\n"
    "The mcp-mtls coordinator: talks to MCP servers over mutual TLS.\n"
    "\n"
    "commands:\n"
    "  tools                            list every server's tools\n"
    "  call SERVER TOOL [key=value]...  call one tool; values typed by the tool's input schema\n"
    "  ask \"QUESTION\"                   route a plain-language question to the right tool(s)\n"
    "  check                            TLS and certificate diagnostics for each server\n"
    "  bench [options]                  mTLS load generator (--server, --tool, --connections, ...)\n"
    "\n"
    "With no --server or --config, the three servers of `make run-servers` are used with the\n"
    "certificates in certs/. Run 'client COMMAND --help' for details.\n"
    "Exit codes: 0 success, 1 a server or tool failed, 2 usage error, 3 TLS/certificate verification failed.\n";

CoordinatorOptions build_options(const Args& args) {
    json file = json::object();
    if (args.has("config")) {
        file = json::parse(read_file(args.get("config")), nullptr, false);
        if (!file.is_object()) throw InputError(args.get("config") + " is not a JSON object");
    }
    auto setting = [&](const std::string& flag, const std::string& key, const std::string& fallback) {
        if (args.has(flag)) return args.get(flag);
        if (file.contains(key) && file[key].is_string()) return file[key].get<std::string>();
        return fallback;
    };
    CoordinatorOptions options;
    options.tls.ca_path = setting("ca", "ca", "certs/ca-bundle.crt");
    options.tls.cert_path = setting("cert", "cert", "certs/coordinator.crt");
    options.tls.key_path = setting("key", "key", "certs/coordinator.key");
    options.tls.crl_path = setting("crl", "crl", "");
    if (args.has("strict") && args.has("relaxed")) throw InputError("--strict and --relaxed exclude each other");
    std::string mode = args.has("relaxed") ? "relaxed" : args.has("strict") ? "strict" : setting("mode", "mode", "strict");
    if (mode == "relaxed") options.tls.mode = tls::ServerCheckMode::relaxed;
    else if (mode != "strict") throw InputError("mode must be strict or relaxed, not '" + mode + "'");
    std::string pin = setting("pin", "pin", "");
    if (!pin.empty()) options.tls.pin_sha256 = tls::parse_pin(pin);
    options.allow_http = args.has("allow-http");
    if (args.has("timeout")) {
        auto seconds = parse_positive("--timeout", args.get("timeout"), 1, 3600);
        options.timeouts.connect = std::chrono::milliseconds(std::min<long>(seconds, 10) * 1000);
        options.timeouts.io = std::chrono::milliseconds(seconds * 1000);
    }
    // --server NAME=URL adds a server; --server URL adds one named after its host; --server NAME
    // selects one of the configured (or default) servers.
    std::vector<std::string> selected;
    for (const auto& spec : args.all("server")) {
        auto eq = spec.find('=');
        auto scheme = spec.find("://");
        if (eq != std::string::npos && (scheme == std::string::npos || eq < scheme)) {
            if (eq == 0) throw InputError("--server takes NAME=URL, not '" + spec + "'");
            options.servers.push_back({spec.substr(0, eq), Url::parse(spec.substr(eq + 1))});
        } else if (scheme != std::string::npos) {
            Url url = Url::parse(spec);
            options.servers.push_back({url.host + ":" + std::to_string(url.port), url});
        } else {
            selected.push_back(spec);
        }
    }
    if (options.servers.empty() && file.contains("servers")) {
        if (!file["servers"].is_object()) throw InputError("config 'servers' must map names to URLs");
        for (auto it = file["servers"].begin(); it != file["servers"].end(); ++it)
            options.servers.push_back({it.key(), Url::parse(it.value().get<std::string>())});
    }
    if (options.servers.empty()) options.servers = default_servers();
    if (!selected.empty()) {
        std::vector<ServerEndpoint> chosen;
        for (const auto& name : selected) {
            auto it = std::find_if(options.servers.begin(), options.servers.end(), [&](const ServerEndpoint& s) { return s.name == name; });
            if (it == options.servers.end()) throw InputError("unknown server '" + name + "' (give NAME=URL to add one)");
            chosen.push_back(*it);
        }
        options.servers = chosen;
    }
    return options;
}

// "NAME(arg: type, opt?: type)" from an input schema.
std::string signature_of(const json& tool) {
    std::string out = tool.value("name", "?") + "(";
    const json schema = tool.value("inputSchema", json::object());
    const json props = schema.value("properties", json::object());
    const json required = schema.value("required", json::array());
    bool first = true;
    for (auto it = props.begin(); it != props.end(); ++it) {
        bool is_required = std::find(required.begin(), required.end(), it.key()) != required.end();
        out += (first ? "" : ", ") + it.key() + (is_required ? "" : "?") + ": " + it.value().value("type", "any");
        if (it.value().contains("minimum") && it.value().contains("maximum"))
            out += " " + it.value()["minimum"].dump() + ".." + it.value()["maximum"].dump();
        first = false;
    }
    return out + ")";
}

std::string text_of(const json& result) {
    std::string text;
    for (const auto& block : result.value("content", json::array()))
        if (block.value("type", "") == "text") text += (text.empty() ? "" : "\n") + block.value("text", "");
    if (text.empty() && result.contains("structuredContent")) text = result["structuredContent"].dump(2);
    return text;
}

json typed_value(const std::string& key, const std::string& raw, const json& property) {
    const std::string type = property.is_object() ? property.value("type", "") : "";
    auto bad = [&](const std::string& what) { return InputError("argument " + key + "=" + raw + ": expected " + what); };
    if (type == "string") return raw;
    if (type == "integer") {
        try {
            size_t used = 0;
            long long v = std::stoll(raw, &used);
            if (used != raw.size()) throw bad("an integer");
            return v;
        } catch (const std::logic_error&) {
            throw bad("an integer");
        }
    }
    if (type == "number") {
        try {
            size_t used = 0;
            double v = std::stod(raw, &used);
            if (used != raw.size()) throw bad("a number");
            return v;
        } catch (const std::logic_error&) {
            throw bad("a number");
        }
    }
    if (type == "boolean") {
        std::string v = to_lower(raw);
        if (v == "true" || v == "yes" || v == "1" || v == "on") return true;
        if (v == "false" || v == "no" || v == "0" || v == "off") return false;
        throw bad("true or false");
    }
    if (type == "object" || type == "array") {
        json parsed = json::parse(raw, nullptr, false);
        if (parsed.is_discarded()) throw bad("JSON");
        return parsed;
    }
    json parsed = json::parse(raw, nullptr, false);  // untyped: JSON if it parses, else text
    return parsed.is_discarded() ? json(raw) : parsed;
}

json arguments_for(const json& tool, const std::vector<std::string>& pairs) {
    const json props = tool.value("inputSchema", json::object()).value("properties", json::object());
    json arguments = json::object();
    for (const auto& pair : pairs) {
        auto eq = pair.find('=');
        if (eq == std::string::npos || eq == 0) throw InputError("tool arguments are key=value, not '" + pair + "'");
        const std::string key = pair.substr(0, eq);
        if (!props.empty() && !props.contains(key)) {
            std::string known;
            for (auto it = props.begin(); it != props.end(); ++it) known += (known.empty() ? "" : ", ") + it.key();
            throw InputError("tool " + tool.value("name", "") + " has no argument '" + key + "' (it takes: " + known + ")");
        }
        arguments[key] = typed_value(key, pair.substr(eq + 1), props.contains(key) ? props[key] : json());
    }
    return arguments;
}

// --- commands ---------------------------------------------------------------------------------
int cmd_tools(Coordinator& coordinator, const Args& args) {
    json all = json::object();
    int failures = 0;
    for (const auto& server : coordinator.servers()) {
        try {
            auto& session = coordinator.session(server.name);
            json tools = session.list_tools();
            if (args.has("json")) {
                all[server.name] = tools;
                continue;
            }
            const json info = session.server_info().value("serverInfo", json::object());
            std::cout << server.name << "  " << server.url.to_string() << "  (" << info.value("name", "?") << " "
                      << info.value("version", "") << ")\n";
            for (const auto& tool : tools)
                std::cout << "  " << signature_of(tool) << "\n      " << tool.value("description", "") << "\n";
        } catch (const ConnectionError& e) {
            if (e.code() == kExitVerification) throw;
            std::cerr << "client: " << e.what() << "\n";
            ++failures;
        }
    }
    if (args.has("json")) std::cout << all.dump(2) << "\n";
    return failures ? kExitFailed : kExitOk;
}

int cmd_call(Coordinator& coordinator, const Args& args) {
    const auto& pos = args.positionals();
    if (pos.size() < 2) throw InputError("usage: client call SERVER TOOL [key=value]...");
    const std::string& server = pos[0];
    const std::string& tool_name = pos[1];
    if (!coordinator.has_server(server)) throw InputError("unknown server '" + server + "'");
    auto& session = coordinator.session(server);
    json tools = session.list_tools();
    const json* tool = nullptr;
    for (const auto& t : tools)
        if (t.value("name", "") == tool_name) tool = &t;
    if (!tool) {
        std::string known;
        for (const auto& t : tools) known += (known.empty() ? "" : ", ") + t.value("name", "");
        throw InputError("server '" + server + "' has no tool '" + tool_name + "' (it has: " + known + ")");
    }
    json arguments = arguments_for(*tool, std::vector<std::string>(pos.begin() + 2, pos.end()));
    json result = session.call_tool(tool_name, arguments);
    const bool failed = result.value("isError", false);
    if (args.has("json")) std::cout << result.dump(2) << "\n";
    else (failed ? std::cerr : std::cout) << (failed ? "client: tool error: " : "") << text_of(result) << "\n";
    return failed ? kExitFailed : kExitOk;
}

int cmd_ask(Coordinator& coordinator, const Args& args) {
    const auto& pos = args.positionals();
    if (pos.empty()) throw InputError("usage: client ask \"QUESTION\"");
    std::string question;
    for (const auto& word : pos) question += (question.empty() ? "" : " ") + word;

    // Learn every server's tools in parallel; an unreachable server just contributes none.
    std::vector<std::future<json>> listings;
    for (const auto& server : coordinator.servers())
        listings.push_back(std::async(std::launch::async, [&coordinator, name = server.name] {
            return coordinator.session(name).list_tools();
        }));
    std::vector<ToolInfo> tools;
    for (size_t i = 0; i < listings.size(); ++i) {
        const auto& name = coordinator.servers()[i].name;
        try {
            for (const auto& tool : listings[i].get()) tools.push_back({name, tool});
        } catch (const ConnectionError& e) {
            if (e.code() == kExitVerification) throw;
            std::cerr << "client: unavailable: " << e.what() << "\n";
        } catch (const RpcError& e) {
            std::cerr << "client: " << name << " is unavailable: " << e.what() << "\n";
        }
    }
    if (tools.empty()) throw Error(kExitFailed, "no server could be reached");
    RoutePlan plan = route_question(question, tools);
    if (plan.calls.empty()) {
        std::cerr << "client: I don't know which tool answers that.\n" << describe_capabilities(tools);
        return kExitFailed;
    }
    for (const auto& part : plan.unmatched_parts) std::cerr << "client: no tool for \"" << part << "\"\n";

    std::vector<std::future<json>> answers;
    for (const auto& call : plan.calls)
        answers.push_back(std::async(std::launch::async, [&coordinator, &call] {
            return coordinator.session(call.server).call_tool(call.tool, call.arguments);
        }));
    int status = kExitOk;
    json all = json::array();
    for (size_t i = 0; i < answers.size(); ++i) {
        const auto& call = plan.calls[i];
        json entry = {{"question", call.question_part}, {"server", call.server}, {"tool", call.tool}, {"arguments", call.arguments}};
        try {
            json result = answers[i].get();
            entry["result"] = result;
            if (result.value("isError", false)) status = kExitFailed;
            if (!args.has("json")) {
                std::cout << (plan.calls.size() > 1 ? "[" + call.server + "] " : "") << text_of(result) << "\n";
            }
        } catch (const Error& e) {
            status = std::max<int>(status, e.code());
            entry["error"] = e.what();
            std::cerr << "client: " << call.server << "/" << call.tool << ": " << e.what() << "\n";
        }
        all.push_back(entry);
    }
    if (args.has("json")) std::cout << all.dump(2) << "\n";
    return status;
}

int cmd_check(const CoordinatorOptions& base, const Args& args) {
    CoordinatorOptions options = base;
    const bool pinned = !options.tls.pin_sha256.empty();
    const auto configured_mode = options.tls.mode;
    // Diagnose: judge as configured, but finish the handshake to learn the rest.
    options.tls.mode = tls::ServerCheckMode::diagnose;
    options.tls.pin_sha256.clear();
    auto context = std::make_shared<const tls::ClientTlsContext>(options.tls);
    json report = json::array();
    bool all_ok = true;
    for (const auto& server : options.servers) {
        json r = {{"server", server.name}, {"url", server.url.to_string()}};
        bool ok = true;
        if (server.url.scheme != "https") {
            r["ok"] = false;
            r["error"] = "not an https URL";
            all_ok = false;
            report.push_back(r);
            continue;
        }
        McpSession session(server.name, server.url, context, options.timeouts);
        auto& connection = session.connection();
        try {
            connection.connect();
            r["tcp"] = "reachable";
        } catch (const ConnectionError& e) {
            r["tcp"] = e.kind() == FailureKind::connect || e.kind() == FailureKind::timeout ? "unreachable" : "reachable";
            r["error"] = e.what();
            ok = false;
        }
        const auto& v = connection.verdict();
        if (connection.connected()) {
            auto info = connection.session_info();
            r["tls_version"] = info.version;
            r["cipher"] = info.cipher;
        }
        if (!v.chain.empty()) {
            const auto& leaf = v.chain.front();
            auto sans = leaf.subject_alt_names();
            json names = json::array();
            for (const auto& d : sans.dns) names.push_back("DNS:" + d);
            for (const auto& i : sans.ips) names.push_back("IP:" + i);
            auto days = std::chrono::duration_cast<std::chrono::hours>(leaf.not_after() - std::chrono::system_clock::now()).count() / 24;
            r["subject"] = leaf.subject();
            r["issuer"] = leaf.issuer();
            r["sans"] = names;
            r["days_to_expiry"] = days;
            r["fingerprint_sha256"] = leaf.fingerprint_sha256();
            const bool pin_ok = pinned && leaf.fingerprint_sha256() == base.tls.pin_sha256;
            r["strict_verdict"] = v.fully_verified ? "OK" : v.reason;
            if (pinned) r["pin"] = pin_ok ? "matches" : "MISMATCH";
            const bool relaxed_ok = configured_mode == tls::ServerCheckMode::relaxed && !v.fully_verified;
            if (relaxed_ok) r["relaxed_skips"] = v.failure_messages;
            if (!(v.fully_verified || pin_ok)) ok = false;
        }
        if (connection.connected()) {
            try {
                session.initialize();
                r["client_certificate"] = "accepted";
                r["server_info"] = session.server_info().value("serverInfo", json::object());
            } catch (const Error& e) {
                r["client_certificate"] = std::string("refused or failed: ") + e.what();
                ok = false;
            }
        }
        r["ok"] = ok;
        all_ok = all_ok && ok;
        report.push_back(r);
    }
    if (args.has("json")) {
        std::cout << report.dump(2) << "\n";
    } else {
        for (const auto& r : report) {
            std::cout << (r["ok"].get<bool>() ? "PASS " : "FAIL ") << r["server"].get<std::string>() << "  "
                      << r["url"].get<std::string>() << "\n";
            for (auto it = r.begin(); it != r.end(); ++it) {
                if (it.key() == "server" || it.key() == "url" || it.key() == "ok") continue;
                std::cout << "  " << it.key() << ": " << (it.value().is_string() ? it.value().get<std::string>() : it.value().dump()) << "\n";
            }
        }
    }
    return all_ok ? kExitOk : kExitVerification;
}

int cmd_bench(const CoordinatorOptions& options, const Args& args) {
    if (options.servers.size() != 1)
        throw InputError("bench needs exactly one server: --server NAME or --server URL");
    BenchOptions bench;
    bench.server = options.servers.front();
    bench.tool = args.get("tool", "echo");
    std::vector<std::string> pairs = args.all("args");
    for (const auto& p : args.positionals()) pairs.push_back(p);
    if (!pairs.empty()) {
        bench.arguments = json::object();
        for (const auto& pair : pairs) {
            auto eq = pair.find('=');
            if (eq == std::string::npos || eq == 0) throw InputError("--args takes key=value, not '" + pair + "'");
            bench.arguments[pair.substr(0, eq)] = typed_value(pair.substr(0, eq), pair.substr(eq + 1), json());
        }
    } else if (bench.tool != "echo") {
        bench.arguments = json::object();
    }
    if (args.has("connections")) bench.connections = static_cast<size_t>(parse_positive("--connections", args.get("connections"), 1, 10000));
    if (args.has("duration")) bench.duration_seconds = static_cast<double>(parse_positive("--duration", args.get("duration"), 1, 86400));
    if (args.has("requests")) bench.requests = static_cast<size_t>(parse_positive("--requests", args.get("requests"), 1, 1000000000));
    if (args.has("rate")) bench.rate = static_cast<double>(parse_positive("--rate", args.get("rate"), 1, 10000000));
    bench.new_connection_per_request = args.has("new-connection-per-request");
    bench.tls_resumption = !args.has("no-resumption");
    bench.progress = !args.has("quiet") && !args.has("json");
    std::shared_ptr<const tls::ClientTlsContext> tls;
    if (bench.server.url.scheme == "https") tls = std::make_shared<const tls::ClientTlsContext>(options.tls);
    else if (!options.allow_http) throw InputError("plain http:// needs --allow-http");
    BenchReport report = run_bench(bench, tls, options.timeouts);
    if (args.has("json")) {
        json out = report.to_json();
        out["server"] = bench.server.url.to_string();
        out["tool"] = bench.tool;
        out["connections"] = bench.connections;
        out["new_connection_per_request"] = bench.new_connection_per_request;
        std::cout << out.dump(2) << "\n";
    } else {
        std::cout << "bench " << bench.server.url.to_string() << " " << bench.tool << " with " << bench.connections
                  << " connection(s)" << (bench.new_connection_per_request ? ", a new connection per request" : ", keep-alive")
                  << "\n" << report.to_text();
    }
    return report.failed ? kExitFailed : kExitOk;
}

}  // namespace

int run_client(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    std::vector<std::string> words(argv + 1, argv + argc);
    // Flags may come before or after the command; the first positional word is the command.
    const ArgSpec spec = global_flags("client [options] COMMAND [args]", "").positionals(0, 100000);
    try {
        Args args = spec.parse(words);
        if (args.positionals().empty()) {
            if (args.has("help")) {
                std::cout << kOverview << "\n" << spec.help();
                return kExitOk;
            }
            std::cerr << kOverview;
            return kExitUsage;
        }
        if (args.has("help")) {
            std::cout << kOverview << "\n" << spec.help();
            return kExitOk;
        }
        const std::string command = args.positionals().front();
        Args command_args = args;
        command_args.drop_first_positional();
        setup_logging(parse_log_format(args.get("log-format", "text")),
                      args.has("verbose") ? spdlog::level::debug : spdlog::level::info);
        CoordinatorOptions options = build_options(args);
        if (command != "bench")
            for (const auto& flag : kBenchFlags)
                if (args.has(flag)) throw InputError("--" + flag + " belongs to the bench command");
        if (command == "check") return cmd_check(options, command_args);
        if (command == "bench") return cmd_bench(options, command_args);
        if (command != "tools" && command != "call" && command != "ask")
            throw InputError("unknown command '" + command + "' (see client --help)");
        Coordinator coordinator(options);
        int rc = kExitOk;
        if (command == "tools") rc = cmd_tools(coordinator, command_args);
        else if (command == "call") rc = cmd_call(coordinator, command_args);
        else rc = cmd_ask(coordinator, command_args);
        coordinator.close_all();
        return rc;
    } catch (const Error& e) {
        std::cerr << "client: " << e.what() << "\n";
        return e.code();
    } catch (const std::exception& e) {
        std::cerr << "client: " << e.what() << "\n";
        return kExitFailed;
    }
}

}  // namespace mcpmtls::client
