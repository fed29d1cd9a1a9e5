#pragma once
// A server's OAuth settings (--oauth-*: rows and resolution) and how it reaches the
// authorization server: cpp-httplib's HTTPS client, the authorization server's certificate judged
// by the project's verifier (strict, host name checked) against --oauth-ca or else the server's
// own trust bundle, never plain HTTP. It presents the server's certificate, so that an
// introspection endpoint can authenticate it by RFC 8705 tls_client_auth.
#include "common/options.hpp"
#include "mcp/oauth.hpp"
#include "pki/verify/verifier.hpp"
#include "tls/certificate_renewal.hpp"
#include "tls/pkcs11_key.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mcpmtls::server {

std::vector<Option> oauth_option_rows();

struct OAuthConfig {
    mcp::OAuthSettings settings;  // settings.enabled(): --oauth-issuer given
    std::string ca_path;          // --oauth-ca; empty: the server's trust bundle
};
// Throws InputError: a URL that is not https://, an --oauth-* setting without --oauth-issuer.
OAuthConfig oauth_config_of(const Args& args);

// `trust` is asked at each request (a reload may have brought a new bundle); each request is one
// connection with 10-second timeouts.
mcp::OAuthTransport https_oauth_transport(std::function<std::shared_ptr<const pki::TrustStore>()> trust,
                                          tls::CredentialPaths ours, tls::Pkcs11Options pkcs11);

}  // namespace mcpmtls::server
