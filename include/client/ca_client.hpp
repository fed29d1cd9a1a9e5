#pragma once
// How the client reaches the online CA (`pki serve`, docs/enrollment.md): its own HTTP
// connection (client/http_connection.hpp) over TLS, the CA judged by the project's verifier.
// Renewal presents the current certificate; enrollment presents none (its token is the
// credential) and must first learn which CA to trust: from --ca, or from the CA's own
// /v1/roots checked against a --fingerprint pin.
#include "client/http_connection.hpp"
#include "tls/certificate_renewal.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mcpmtls::client {

// --ca-url / --renew-from: https://HOST[:PORT][/PREFIX]; requests go to PREFIX/v1/...
// Throws InputError naming `option`.
Url parse_ca_url(const std::string& text, const std::string& option);

// POSTs to the CA with a context asked for at each request (a long-running client hands in its
// reloading context, so the certificate presented is the one on disk now).
tls::CaPost ca_post(const Url& ca, std::function<std::shared_ptr<const tls::ClientTlsContext>()> context, Timeouts timeouts);

// GET /v1/roots WITHOUT judging the CA (no trust anchor yet): what it returns is only a claim,
// to be checked against a pin or shown to a person. Throws ConnectionError / OperationError.
std::vector<pki::Certificate> fetch_roots_unverified(const Url& ca, Timeouts timeouts);

// The renewal of a long-running client (the bridge, --renew-from): the transport presents the
// certificate of `settings` as it is on disk at each attempt, and judges the CA strictly with
// its trust bundle.
tls::CaPost renewal_post(const Url& ca, const tls::ClientTlsSettings& settings, Timeouts timeouts);

// What a client renews: --cert-dir's files (its bundle too, unless --ca names another), or
// --cert and --key (their --ca bundle is left alone).
tls::CredentialPaths renewal_paths(const tls::ClientTlsSettings& settings, bool own_bundle);

}  // namespace mcpmtls::client
