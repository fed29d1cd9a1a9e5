#include "server/metrics.hpp"

#include "common/strings.hpp"

#include <chrono>
#include <sstream>

namespace mcpmtls::server {
namespace {

long long unix_seconds(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// A label value as the text format wants it: backslash, double quote and newline escaped.
std::string label_value(const std::string& value) {
    std::string out;
    for (char c : value) {
        if (c == '\\' || c == '"') out.push_back('\\');
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out.push_back(c);
    }
    return out;
}

// Writes one metric family: its HELP and TYPE lines, then each sample.
class Exposition {
public:
    void family(const std::string& name, const std::string& type, const std::string& help) {
        name_ = name;
        out_ << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
    }
    void sample(const std::vector<std::pair<std::string, std::string>>& labels, long long value) {
        out_ << name_;
        if (!labels.empty()) {
            out_ << "{";
            for (size_t i = 0; i < labels.size(); ++i)
                out_ << (i ? "," : "") << labels[i].first << "=\"" << label_value(labels[i].second) << "\"";
            out_ << "}";
        }
        out_ << " " << value << "\n";
    }
    std::string text() const { return out_.str(); }

private:
    std::ostringstream out_;
    std::string name_;
};

}  // namespace

ServerMetrics::ServerMetrics() {
    // The series alerts divide by exist from the start, at zero.
    handshakes_[{"accepted", "verified"}] = 0;
}

void ServerMetrics::handshake_judged(bool accepted, const std::string& reason) noexcept {
    try {
        std::lock_guard<std::mutex> lock(mutex_);
        ++handshakes_[{accepted ? "accepted" : "rejected", reason}];
    } catch (...) {
        // Only allocation can fail here; a lost count is better than a handshake aborted.
    }
}

void ServerMetrics::tool_called(const std::string& tool, const std::string& outcome) noexcept {
    try {
        std::lock_guard<std::mutex> lock(mutex_);
        // A name the server does not know is the client's text: not a label (unbounded series).
        ++requests_[{outcome == "unknown_tool" ? "" : tool, outcome}];
    } catch (...) {
    }
}

void ServerMetrics::token_checked(const std::string& result, const std::string& client, const std::string& subject) noexcept {
    // Identities are verified names, yet many: past this many series, new pairs are counted as one.
    constexpr size_t kMaxTokenSeries = 1000;
    try {
        std::lock_guard<std::mutex> lock(mutex_);
        auto key = std::make_tuple(result, client, subject);
        if (tokens_.size() >= kMaxTokenSeries && !tokens_.count(key)) key = std::make_tuple(result, std::string("other"), std::string("other"));
        ++tokens_[key];
    } catch (...) {
    }
}

void ServerMetrics::renewal_attempted(bool ok) noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    ++(ok ? renewals_ok_ : renewals_failed_);
}

std::string ServerMetrics::render(const tls::ServerTlsContext& tls, const ConnectionGovernor::Census& connections,
                                  const mcp::SessionTable::Census& sessions) const {
    const auto snap = tls.snapshot();
    const auto reloads = tls.reload_status();
    Exposition out;
    out.family("mcp_mtls_certificate_not_after_timestamp_seconds", "gauge",
               "notAfter of the served certificate and of each trusted CA, as a Unix time.");
    const auto& leaf = snap->credentials.certificates.front();
    out.sample({{"role", "server"}, {"subject", leaf.subject()}, {"serial", leaf.serial_hex()}}, unix_seconds(leaf.not_after()));
    for (const auto& ca : snap->trust->anchors())
        out.sample({{"role", "trust_anchor"}, {"subject", ca.subject()}, {"serial", ca.serial_hex()}}, unix_seconds(ca.not_after()));
    if (auto next = snap->trust->earliest_crl_next_update()) {
        out.family("mcp_mtls_crl_next_update_timestamp_seconds", "gauge",
                   "nextUpdate of the CRL in use (the earliest, when there are several), as a Unix time.");
        out.sample({}, unix_seconds(*next));
    }
    out.family("mcp_mtls_reloads_total", "counter", "Reloads of the certificate files since start, by result.");
    out.sample({{"result", "ok"}}, static_cast<long long>(reloads.ok));
    out.sample({{"result", "rejected"}}, static_cast<long long>(reloads.rejected));
    out.family("mcp_mtls_last_reload_success_timestamp_seconds", "gauge",
               "When the certificate files were last loaded (at start or by a reload), as a Unix time.");
    out.sample({}, unix_seconds(reloads.last_success));
    {
        std::lock_guard<std::mutex> lock(mutex_);
        out.family("mcp_mtls_handshakes_total", "counter",
                   "Client verdicts of full TLS handshakes (resumed sessions are not judged again), by verdict and reason.");
        for (const auto& [labels, count] : handshakes_)
            out.sample({{"verdict", labels.first}, {"reason", labels.second}}, static_cast<long long>(count));
        out.family("mcp_mtls_requests_total", "counter", "tools/call requests, by tool and outcome.");
        for (const auto& [labels, count] : requests_)
            out.sample({{"tool", labels.first}, {"outcome", labels.second}}, static_cast<long long>(count));
        if (!tokens_.empty()) {
            out.family("mcp_mtls_oauth_tokens_total", "counter",
                       "OAuth bearer token checks, by result, client certificate identity and token subject.");
            for (const auto& [labels, count] : tokens_)
                out.sample({{"result", std::get<0>(labels)}, {"client", std::get<1>(labels)}, {"subject", std::get<2>(labels)}},
                           static_cast<long long>(count));
        }
        // Both series from the start (zero without --renew-from), so that an alert on the
        // failed rate has something to divide by.
        out.family("mcp_mtls_renewals_total", "counter",
                   "Attempts to renew the server certificate from --renew-from, by result.");
        out.sample({{"result", "ok"}}, static_cast<long long>(renewals_ok_));
        out.sample({{"result", "failed"}}, static_cast<long long>(renewals_failed_));
    }
    out.family("mcp_mtls_connections", "gauge",
               "Open connections: in their TLS handshake, idle between requests, or busy with one.");
    out.sample({{"state", "handshaking"}}, static_cast<long long>(connections.handshaking));
    out.sample({{"state", "idle"}}, static_cast<long long>(connections.idle));
    out.sample({{"state", "busy"}}, static_cast<long long>(connections.busy));
    out.family("mcp_mtls_sessions", "gauge",
               "Open 2025-era MCP sessions by client identity: the largest holders by name, the rest as \"other\".");
    for (const auto& [client, count] : sessions.by_client) out.sample({{"client", client}}, static_cast<long long>(count));
    out.family("mcp_mtls_sessions_evicted_total", "counter",
               "Sessions the server ended: idle too long, the client at its --max-sessions-per-client, or the table "
               "full (the largest holder gave way).");
    for (auto reason : {mcp::EvictionReason::idle_timeout, mcp::EvictionReason::client_cap, mcp::EvictionReason::table_full})
        out.sample({{"reason", mcp::eviction_reason_name(reason)}},
                   static_cast<long long>(sessions.evicted[static_cast<size_t>(reason)]));
    return out.text();
}

Readiness check_readiness(const tls::ServerTlsContext& tls) {
    Readiness readiness;
    const auto now = std::chrono::system_clock::now();
    const auto snap = tls.snapshot();
    const auto& leaf = snap->credentials.certificates.front();
    if (leaf.not_after() - now < tls.settings().expiry_warning / 2)
        readiness.problems.push_back("the server certificate expires at " + format_rfc3339(leaf.not_after()) +
                                     ", within half of --expiry-warning-days");
    if (auto failing = tls.reload_status().failing; !failing.empty()) readiness.problems.push_back(failing);
    if (auto problem = snap->revocation_problem(now); problem && tls.settings().clients.stale_crl == tls::StaleCrl::fail_closed)
        readiness.problems.push_back(*problem + "; new handshakes are refused (--crl-stale fail-closed)");
    return readiness;
}

}  // namespace mcpmtls::server
