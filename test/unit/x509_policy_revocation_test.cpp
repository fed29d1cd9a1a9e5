// Verification policy, revocation (docs/verification-policy.md, "Revocation").
#include "test/unit/x509_policy_fixture.hpp"

#include <catch2/catch.hpp>

using namespace x509_policy;
using mcpmtls::pki::CheckFailure;
using mcpmtls::pki::Purpose;

TEST_CASE("a certificate listed on its issuer's CRL is revoked", "[x509]") {
    const auto& c = Certs::get();
    auto r = c.verify({"revoked"}, {"root"}, Purpose::client_auth, "", {"root"});
    CHECK(r.reason() == "certificate is revoked");
    CHECK(c.verify({"direct"}, {"root"}, Purpose::client_auth, "", {"root"}).valid());
}

TEST_CASE("an intermediate's CRL is applied to the leaves it issued", "[x509]") {
    auto r = Certs::get().verify({"leaf", "inter"}, {"root"}, Purpose::client_auth, "", {"root", "inter"});
    CHECK(r.reason() == "certificate is revoked");
}

TEST_CASE("a CRL for CA certificates only does not cover a leaf", "[x509]") {
    auto r = Certs::get().verify({"direct"}, {"root"}, Purpose::client_auth, "", {"root-onlyca"});
    CHECK_FALSE(r.valid());
    CHECK(r.failures.front().kind == CheckFailure::revocation_unavailable);
    CHECK(r.reason() == "no CRL from the issuer covers the certificate");
}

TEST_CASE("a CRL in the issuer's name but signed by another key is not used", "[x509]") {
    auto r = Certs::get().verify({"revoked"}, {"root"}, Purpose::client_auth, "", {"forged"});
    CHECK_FALSE(r.valid());
    CHECK(r.reason() == "CRL signature is invalid");
}

TEST_CASE("a certificate whose issuer has no CRL loaded is not revocation-checked", "[x509]") {
    auto r = Certs::get().verify({"leaf", "inter"}, {"root"}, Purpose::client_auth, "", {"root"});
    INFO(all_reasons(r));
    CHECK(r.valid());
}
