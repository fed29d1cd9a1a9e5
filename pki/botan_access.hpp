#pragma once
// Private to pki/ and tls/: the Botan objects behind the public pki types.
#include "pki/certificate.hpp"
#include "pki/key.hpp"

#include <botan/pk_keys.h>
#include <botan/x509cert.h>

namespace mcpmtls::pki {

struct PrivateKey::Impl {
    std::unique_ptr<Botan::Private_Key> key;
};

struct Certificate::Impl {
    Botan::X509_Certificate cert;
    std::vector<uint8_t> der;
    std::string fingerprint;
};

Certificate wrap_certificate(const Botan::X509_Certificate& cert);
// "ECDSA P-256", "RSA 3072", "Ed25519": how certificates and CSRs name their keys.
std::string describe_public_key(const Botan::Public_Key& key);
// Any X.509 time as a time point, clamped to the time point's range; never throws for a parsed
// certificate's or CRL's time.
TimePoint to_time_point(const Botan::X509_Time& time);

}  // namespace mcpmtls::pki
