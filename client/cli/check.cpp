// client check: TLS and certificate diagnostics for each server, judged as strict mode would,
// with the handshake finished anyway to learn whether the server accepts us.
#include "client/cli/commands.hpp"

#include "common/strings.hpp"

#include <iostream>

namespace mcpmtls::client::cli {
namespace {

using nlohmann::json;

int check(const Args& args) {
    const CoordinatorOptions base = coordinator_options(args);
    CoordinatorOptions options = base;
    const bool pinned = !options.tls.pin_sha256.empty();
    const auto configured_mode = options.tls.mode;
    // Diagnose: judge as configured, but finish the handshake to learn the rest.
    options.tls.mode = tls::ServerCheckMode::diagnose;
    options.tls.pin_sha256.clear();
    auto context = std::make_shared<const tls::ClientTlsContext>(options.tls);
    json report = json::array();
    // The exit code (shared/design.md): 3 when a certificate was refused, by either side; else 1
    // when a server could not be reached or failed; else 0. Unreachable is not a certificate failure.
    bool all_ok = true, certificate_failed = false;
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
        session.set_protocol(options.protocol);
        auto& connection = session.connection();
        try {
            connection.connect();
            r["tcp"] = "reachable";
        } catch (const ConnectionError& e) {
            r["tcp"] = e.kind() == FailureKind::connect || e.kind() == FailureKind::timeout ? "unreachable" : "reachable";
            r["error"] = e.what();
            ok = false;
            certificate_failed = certificate_failed || e.code() == kExitVerification;
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
            if (!(v.fully_verified || pin_ok)) {
                ok = false;
                certificate_failed = true;
            }
        }
        if (connection.connected()) {
            try {
                session.initialize();
                r["client_certificate"] = "accepted";
                r["server_info"] = session.server_info().value("serverInfo", json::object());
                r["era"] = session.era() == Era::modern ? "2026 (stateless)" : "2025 (initialize and session)";
                r["protocol_version"] = session.protocol_version();
            } catch (const Error& e) {
                r["client_certificate"] = std::string("refused or failed: ") + e.what();
                ok = false;
                certificate_failed = certificate_failed || e.code() == kExitVerification;
            }
        }
        r["ok"] = ok;
        all_ok = all_ok && ok;
        report.push_back(r);
    }
    if (args.flag("json")) {
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
    return all_ok ? kExitOk : certificate_failed ? kExitVerification : kExitFailed;
}

}  // namespace

Command check_command() {
    return {"check", "TLS and certificate diagnostics for each server", ArgSpec("client check"), check};
}

}  // namespace mcpmtls::client::cli
