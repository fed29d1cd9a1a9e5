#pragma once
// How a server reaches the online CA for --renew-from: cpp-httplib's client over mutual TLS,
// presenting the certificate and key on disk (the ones being renewed) and judging the CA with
// the project's verifier against the server's trust bundle, strictly, host name included (as
// the CRL fetcher judges its CRL server). Never OpenSSL's own verification, never plain HTTP.
#include "pki/verify/verifier.hpp"
#include "tls/certificate_renewal.hpp"

#include <functional>
#include <memory>
#include <string>

namespace mcpmtls::server {

// --renew-from URL: https://HOST[:PORT][/PREFIX]. Throws InputError naming `option`.
void check_ca_url(const std::string& ca_url, const std::string& option = "--renew-from");

// The transport for tls::renew_credentials. `trust` is asked at each request (a reload may
// have brought a new bundle). Each request is one connection, 10 s timeouts.
tls::CaPost https_ca_post(const std::string& ca_url, tls::CredentialPaths paths,
                          std::function<std::shared_ptr<const pki::TrustStore>()> trust);

}  // namespace mcpmtls::server
