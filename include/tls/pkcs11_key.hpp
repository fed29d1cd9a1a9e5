#pragma once
// Private keys that stay in a token (HSM, YubiKey, TPM through tpm2-pkcs11, SoftHSM2), named by
// an RFC 7512 URI where a key file would go: `--key 'pkcs11:token=mcp;object=weather'`.
//
// OpenSSL's pkcs11 engine (libp11) turns the token's key into an EVP_PKEY whose signatures are
// made by the token, so handing it to an SSL_CTX signs every handshake there and the key is never
// read. The engine explains a failure on stderr in several lines and cannot tell an unknown token
// from an unknown object, so the same URI is first looked up through the module's own PKCS#11
// interface: each refusal (module, token, PIN, object) is one line naming what was wrong.
//
// The PIN never comes from the command line: `--pin-file FILE`, or `pin-source` in the URI; a
// URI with `pin-value` is refused.
#include "common/options.hpp"
#include "pki/pkcs11_token.hpp"
#include "tls/openssl_handles.hpp"

#include <optional>
#include <string>
#include <vector>

namespace mcpmtls::tls {

using pki::Pkcs11Options;

bool is_pkcs11_uri(const std::string& key);

// --pkcs11-module and --pin-file, for every program whose --key may name a key in a token.
std::vector<Option> pkcs11_option_rows();
// Those settings as given. Throws InputError when one is given but `key` is a file: a PIN or
// module that nothing uses is a mistake worth a line, not silence.
Pkcs11Options pkcs11_options_of(const Args& args, const std::string& key);

// p11-kit's proxy module (every module the system registers with p11-kit), as the build found it.
std::string default_pkcs11_module();

// The private key `uri` names, loaded through the pkcs11 engine. Throws InputError with one
// line: a URI it cannot read or with pin-value, a PIN given twice, a missing module, an unknown
// token, a wrong or missing PIN, no such private key. One process uses one module: the engine
// is set up once, and lives as long as the process, since every key it made refers to it.
EvpPkeyPtr load_pkcs11_key(const std::string& uri, const Pkcs11Options& options);

// Whether `key` makes signatures that `certificate`'s public key verifies: a token proves it
// holds the certificate's key by signing, since its private half cannot be compared.
bool signs_for(EVP_PKEY* key, X509* certificate);
// Why `key` does not sign for `certificate` (the token's or the engine's own words, or a
// signature that does not verify); none when it does. A token that went away answers here.
std::optional<std::string> signing_failure(EVP_PKEY* key, X509* certificate);

}  // namespace mcpmtls::tls
