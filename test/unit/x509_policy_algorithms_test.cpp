// Verification policy, keys, algorithms and encoding (docs/verification-policy.md).
#include "test/unit/x509_policy_fixture.hpp"

#include <catch2/catch.hpp>

using namespace x509_policy;
using mcpmtls::pki::CheckFailure;

TEST_CASE("DSA keys are refused", "[x509]") {
    auto r = Certs::get().verify({"dsaleaf"}, {"root"});
    CHECK_FALSE(r.valid());
    CHECK(r.failures.front().kind == CheckFailure::weak_key);
    CHECK(r.reason().rfind("weak key: DSA", 0) == 0);
}

TEST_CASE("ECDSA keys must be on P-256, P-384 or P-521", "[x509]") {
    auto r = Certs::get().verify({"brainpool"}, {"root"});
    CHECK_FALSE(r.valid());
    CHECK(has_failure(r, "weak key: ECDSA on a curve other than"));
}

TEST_CASE("an RSA-1024 issuer is refused", "[x509]") {
    auto r = Certs::get().verify({"under_rsa1024", "rsa1024ca"}, {"root"});
    CHECK_FALSE(r.valid());
    CHECK(r.failures.front().kind == CheckFailure::weak_key);
}

TEST_CASE("a serial number must be positive", "[x509]") {
    auto r = Certs::get().verify({"serialzero"}, {"root"});
    CHECK_FALSE(r.valid());
    CHECK(has_failure(r, "serial number is zero"));
}

TEST_CASE("authorityKeyIdentifier must be present and non-critical", "[x509]") {
    CHECK(has_failure(Certs::get().verify({"critaki"}, {"root"}), "critical authorityKeyIdentifier extension"));
    CHECK(has_failure(Certs::get().verify({"noaki"}, {"root"}), "certificate without authorityKeyIdentifier"));
}

TEST_CASE("a CA certificate needs a subjectKeyIdentifier", "[x509]") {
    auto r = Certs::get().verify({"under_noski", "noski_ca"}, {"root"});
    CHECK_FALSE(r.valid());
    CHECK(has_failure(r, "CA certificate without subjectKeyIdentifier"));
}

TEST_CASE("a malformed subjectAltName is refused", "[x509]") {
    auto r = Certs::get().verify({"badsan"}, {"root"});
    CHECK_FALSE(r.valid());
    CHECK(has_failure(r, "malformed subjectAltName"));
    CHECK(r.failures.front().kind == CheckFailure::malformed);
}
