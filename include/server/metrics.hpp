#pragma once
// What an operator scrapes: the server's metrics in Prometheus' text format, and whether it is
// ready for traffic. Counters are fed by the layers that see the events, through observers
// this object implements (handshake verdicts from the TLS context, tool calls from the MCP
// runtime's hook); gauges are read at scrape time from their owners (the TLS context's
// snapshot and reload status, the connection governor). Timestamps are absolute, as
// cert-manager's and x509-certificate-exporter's are, so that alerts compare them with time().
#include "mcp/session_table.hpp"
#include "server/connection_governor.hpp"
#include "tls/handshake_observer.hpp"
#include "tls/server_context.hpp"

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace mcpmtls::server {

class ServerMetrics final : public tls::VerdictObserver {
public:
    ServerMetrics();
    void handshake_judged(bool accepted, const std::string& reason) noexcept override;
    void tool_called(const std::string& tool, const std::string& outcome) noexcept;
    // One OAuth token check (--oauth-issuer) by result, naming both identities: the client
    // certificate's and the token's subject (accepted tokens only).
    void token_checked(const std::string& result, const std::string& client, const std::string& subject) noexcept;
    // One attempt of --renew-from, by result.
    void renewal_attempted(bool ok) noexcept;

    // The whole exposition: counters, and gauges read now from `tls`, `connections` and `sessions`.
    std::string render(const tls::ServerTlsContext& tls, const ConnectionGovernor::Census& connections,
                       const mcp::SessionTable::Census& sessions) const;

private:
    using Labels = std::pair<std::string, std::string>;
    mutable std::mutex mutex_;
    std::map<Labels, uint64_t> handshakes_;  // {verdict, reason}
    std::map<Labels, uint64_t> requests_;    // {tool, outcome}
    std::map<std::tuple<std::string, std::string, std::string>, uint64_t> tokens_;  // {result, client, subject}
    uint64_t renewals_ok_ = 0, renewals_failed_ = 0;
};

struct Readiness {
    std::vector<std::string> problems;  // empty: ready
    bool ready() const { return problems.empty(); }
};

// Not ready while the served certificate expires within half of --expiry-warning-days, while
// the files on disk cannot be loaded (no reload has succeeded since they became unreadable),
// and while revocation cannot be checked under --crl-stale fail-closed (every handshake would
// be refused).
Readiness check_readiness(const tls::ServerTlsContext& tls);

}  // namespace mcpmtls::server
