// Verification policy, keys, algorithms and encoding (docs/verification-policy.md).
#include "test/unit/x509_policy_fixture.hpp"

#include <catch2/catch.hpp>
#include <vector>

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

// RFC 5280 profile rules without a security reason are not enforced, as Go's crypto/x509 and
// rustls-webpki do not enforce them: Python's cryptography and `openssl x509 -req` make such
// certificates (docs/verification-policy.md, "What is not enforced").
TEST_CASE("a zero serial number is a profile slip, not a reason to refuse", "[x509]") {
    auto r = Certs::get().verify({"serialzero"}, {"root"});
    INFO(all_reasons(r));
    CHECK(r.valid());
}

TEST_CASE("missing or critical key identifiers are not a reason to refuse", "[x509]") {
    auto critical_aki = Certs::get().verify({"critaki"}, {"root"});
    auto no_aki = Certs::get().verify({"noaki"}, {"root"});
    auto ca_without_ski = Certs::get().verify({"under_noski", "noski_ca"}, {"root"});
    INFO(all_reasons(critical_aki) << all_reasons(no_aki) << all_reasons(ca_without_ski));
    CHECK(critical_aki.valid());
    CHECK(no_aki.valid());
    CHECK(ca_without_ski.valid());
}

TEST_CASE("a malformed subjectAltName is refused", "[x509]") {
    auto r = Certs::get().verify({"badsan"}, {"root"});
    CHECK_FALSE(r.valid());
    CHECK(has_failure(r, "malformed subjectAltName"));
    CHECK(r.failures.front().kind == CheckFailure::malformed);
}
