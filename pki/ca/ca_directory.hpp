#pragma once
// The layout of a certificate authority's directory (default certs/), spelt in one place. It has
// its own header so that any layer can name the CA's files (the trust bundle and CRL a server
// loads by default, a leaf's certificate and key) without the CA's API in authority.hpp.
#include "pki/pkcs11_token.hpp"

#include <string>

namespace mcpmtls::pki {

class CaDirectory {
public:
    static constexpr const char* kDefaultDir = "certs";

    explicit CaDirectory(std::string dir, Pkcs11Options token = {}) : dir_(std::move(dir)), token_(std::move(token)) {}
    const std::string& dir() const { return dir_; }
    // How to reach a CA key kept in a token (--pkcs11-module, --pin-file of this run).
    const Pkcs11Options& token_options() const { return token_; }
    // The CA key in a token named for this run (pki issue/sign --key pkcs11:...), instead of
    // what ca.key or ca.key.uri say; empty: theirs.
    const std::string& ca_key_override() const { return key_override_; }
    CaDirectory with_ca_key(std::string uri) const {
        CaDirectory copy = *this;
        copy.key_override_ = std::move(uri);
        return copy;
    }
    std::string path(const std::string& file) const { return dir_ + "/" + file; }

    std::string ca_cert() const { return path("ca.crt"); }
    std::string ca_key() const { return path("ca.key"); }
    // Instead of ca.key when the CA key is in a token: its pkcs11: URI, without any PIN.
    std::string ca_key_uri() const { return path("ca.key.uri"); }
    std::string bundle() const { return path("ca-bundle.crt"); }  // every CA currently trusted
    std::string crl() const { return path("ca.crl"); }
    std::string crl_der() const { return path("ca.crl.der"); }  // the same CRL in DER, for HTTP
    std::string inventory() const { return path("index.json"); }
    std::string lock() const { return path(".lock"); }
    // Append-only, hash-chained record of every issuance and revocation (issuance_log.hpp).
    std::string issuance_log() const { return path("issuance.log"); }
    // Signs enrollment tokens (pki token); pki serve needs only the public half.
    std::string provisioner_key() const { return path("provisioner.key"); }
    std::string provisioner_pub() const { return path("provisioner.pub"); }
    // jti -> expiry of every enrollment token used and not yet expired.
    std::string used_tokens() const { return path("tokens-used.json"); }
    std::string leaf_cert(const std::string& name) const { return path(name + ".crt"); }
    std::string leaf_key(const std::string& name) const { return path(name + ".key"); }

    // During a CA rotation, the CA being replaced: still trusted and still signing CRLs for what
    // it issued, until `pki rotate-ca --finish`.
    std::string previous_ca_cert() const { return path("ca-previous.crt"); }
    std::string previous_ca_key() const { return path("ca-previous.key"); }
    std::string previous_crl_der() const { return path("ca-previous.crl.der"); }

    // `pki rotate NAME` leaves each new pair in a bundle of its own below this directory.
    std::string rotation_dir() const { return path("rotation"); }
    std::string rotation_bundle(const std::string& bundle_name) const { return rotation_dir() + "/" + bundle_name; }

private:
    std::string dir_;
    Pkcs11Options token_;
    std::string key_override_;
};

}  // namespace mcpmtls::pki
