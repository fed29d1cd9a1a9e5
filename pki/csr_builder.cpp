#include "pki/csr_builder.hpp"

#include "common/error.hpp"
#include "pki/botan_access.hpp"

#include <botan/pkcs10.h>
#include <botan/system_rng.h>
#include <botan/x509self.h>

namespace mcpmtls::pki {

std::string make_certificate_request(const PrivateKey& key, const std::string& common_name) {
    const Botan::Private_Key& botan_key = *key.impl().key;
    Botan::X509_Cert_Options options;
    options.common_name = common_name;
    // The hash the CA signs with for the same key (pki/ca/ca_signing.cpp): SHA-384 goes with
    // P-384. Ed25519 signs the message itself whatever is named here.
    const std::string hash = botan_key.algo_name() == "ECDSA" && botan_key.key_length() >= 384 ? "SHA-384" : "SHA-256";
    try {
        Botan::System_RNG rng;
        return Botan::X509::create_cert_req(options, botan_key, hash, rng).PEM_encode();
    } catch (const std::exception& e) {
        throw OperationError(std::string("cannot make a certificate signing request: ") + e.what());
    }
}

}  // namespace mcpmtls::pki
