// Verification policy, TLS leaf rules (docs/verification-policy.md, "The TLS leaf").
#include "test/unit/x509_policy_fixture.hpp"

#include <catch2/catch.hpp>

using namespace x509_policy;
using mcpmtls::pki::CheckFailure;
using mcpmtls::pki::Purpose;

TEST_CASE("a chain through an intermediate with the right EKU is valid", "[x509]") {
    const auto& c = Certs::get();
    auto r = c.verify({"leaf", "inter"}, {"root"});
    INFO(all_reasons(r));
    CHECK(r.valid());
}

TEST_CASE("a TLS leaf's extendedKeyUsage, when present, must name the purpose", "[x509]") {
    auto r = Certs::get().verify({"direct"}, {"root"}, Purpose::server_auth);
    REQUIRE_FALSE(r.valid());
    CHECK(r.failures.front().kind == CheckFailure::wrong_purpose);
    CHECK(r.reason() == "EKU does not allow serverAuth");
    // `pki verify` without --purpose judges no EKU at all.
    CHECK(Certs::get().verify({"direct"}, {"root"}, Purpose::any).valid());
}

TEST_CASE("a TLS leaf without extendedKeyUsage may serve any purpose (RFC 5280, as Go and OpenSSL accept)", "[x509]") {
    auto r = Certs::get().verify({"noeku"}, {"root"});
    INFO(all_reasons(r));
    CHECK(r.valid());
}

TEST_CASE("anyExtendedKeyUsage does not make a TLS certificate", "[x509]") {
    auto r = Certs::get().verify({"anyeku"}, {"root"});
    CHECK_FALSE(r.valid());
    CHECK(has_failure(r, "anyExtendedKeyUsage is not accepted for clientAuth"));
}

TEST_CASE("a CA certificate is not accepted as a TLS leaf", "[x509]") {
    auto r = Certs::get().verify({"caleaf"}, {"root"});
    CHECK_FALSE(r.valid());
    CHECK(has_failure(r, "certificate is a CA, not an end entity"));
}

TEST_CASE("a TLS leaf that also allows codeSigning is accepted, as Go and rustls accept it", "[x509]") {
    auto r = Certs::get().verify({"codesign"}, {"root"});
    INFO(all_reasons(r));
    CHECK(r.valid());
}

TEST_CASE("an untrusted self-signed leaf (CA:TRUE from openssl req -x509) fails only on trust, so --relaxed can admit it", "[x509]") {
    auto r = Certs::get().verify({"selfsigned"}, {"root"});
    INFO(all_reasons(r));
    CHECK(r.reason() == "self-signed certificate is not trusted");
    CHECK(r.only_relaxable_failures());
}

TEST_CASE("a notAfter after the year 2400 is compared as an ASN.1 time", "[x509]") {
    auto r = Certs::get().verify({"forever"}, {"root"});
    INFO(all_reasons(r));
    CHECK(r.valid());
}
