#pragma once
// Who is on the other end of a verified TLS connection, as the handshake established it, and,
// for one request of a server that takes OAuth tokens (mcp/oauth.hpp), whom its verified access
// token acts for.
#include "tls/spiffe_id.hpp"

#include <optional>
#include <string>
#include <vector>

namespace mcpmtls::tls {

struct PeerIdentity {
    std::string subject;             // distinguished name, e.g. "CN=coordinator"
    std::string common_name;         // empty if none
    std::vector<std::string> dns_names;
    std::vector<std::string> ip_addresses;
    std::vector<std::string> uris;   // e.g. spiffe://demo/coordinator
    std::vector<std::string> emails;
    std::string serial_hex;          // lower-case hex, no leading zeros stripped
    std::string fingerprint_sha256;  // lower-case hex of the leaf certificate's DER
    // False when the peer was let in by --relaxed despite failed checks (listed here).
    bool fully_verified = false;
    std::vector<std::string> skipped_checks;
    // From the request's access token, when the server checked one; empty otherwise.
    std::string token_subject;
    std::string token_client_id;
    std::vector<std::string> token_scopes;

    // The one identity matcher, for --allow-client, --allow-trust-domain and the authorization
    // policy alike: true if `pattern` names the common name, a DNS SAN or a URI SAN, exactly or
    // with a trailing '*' matching any suffix. DNS names compare without case, CNs and URIs with
    // case; IP and e-mail SANs never match. A pattern starting with spiffe:// is a SPIFFE rule,
    // matched against spiffe_id() only: "spiffe://td/path" exactly, "spiffe://td/agents/*" by
    // prefix, and a bare trust domain ID "spiffe://td" any SPIFFE ID in that trust domain.
    bool matches(const std::string& pattern) const;
    // The SPIFFE ID of an X.509-SVID: the certificate's URI SAN when it carries exactly one and
    // that one is a valid SPIFFE ID; else none (two URI SANs make no SVID).
    std::optional<SpiffeId> spiffe_id() const;
    // A short name for logs: the first URI SAN, else the CN, else the first DNS SAN.
    std::string display_name() const;
};

}  // namespace mcpmtls::tls
