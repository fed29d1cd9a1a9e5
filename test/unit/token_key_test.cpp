// The Botan key whose signatures a SoftHSM2 token makes, used in this process: a PKCS#11 login
// is shared by every session of the process, so one key going away must not log out another.
#include "pki/csr.hpp"
#include "pki/csr_builder.hpp"
#include "pki/key.hpp"
#include "pki/pkcs11_token.hpp"
#include "test/support/softhsm.hpp"

#include <catch2/catch.hpp>

using namespace mcpmtls;
using namespace mcpmtls::testing;

TEST_CASE("two keys of one token in one process: dropping the first leaves the second signing", "[pkcs11-ca]") {
    SoftHsmToken token;
    pki::Pkcs11Options options{kSoftHsmModule, token.pin_file()};
    auto first = std::make_unique<pki::PrivateKey>(
        pki::PrivateKey::generate_in_token(SoftHsmToken::uri("first"), options, pki::KeyType::ecdsa_p256));
    const auto second = pki::PrivateKey::from_token(SoftHsmToken::uri("first"), options);
    CHECK(second.token_uri() == "pkcs11:token=mcp;object=first");
    first.reset();
    // A CSR is signed by the token and checked by Botan (the proof of possession).
    const std::string csr = pki::make_certificate_request(second, "still logged in");
    CHECK_NOTHROW(pki::CertificateRequest::parse(csr, "the CSR"));
    CHECK_THROWS_WITH(second.to_pem(), Catch::Contains("the key stays in the token"));
}
