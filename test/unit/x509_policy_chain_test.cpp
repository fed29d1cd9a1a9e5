// Verification policy, rules over the path (docs/verification-policy.md, "Issuers" and after).
#include "test/unit/x509_policy_fixture.hpp"

#include <catch2/catch.hpp>

using namespace x509_policy;
using mcpmtls::pki::CheckFailure;
using mcpmtls::pki::Purpose;

TEST_CASE("an issuer whose keyUsage lacks keyCertSign is not a CA", "[x509]") {
    auto r = Certs::get().verify({"under_nokcs", "nokcs"}, {"root"});
    CHECK_FALSE(r.valid());
    CHECK(r.reason().rfind("issuer is not a CA", 0) == 0);
    CHECK(r.failures.front().kind == CheckFailure::not_a_ca);
}

TEST_CASE("the EKU of an issuer restricts the leaves below it", "[x509]") {
    auto r = Certs::get().verify({"under_servereku", "servereku"}, {"root"});
    CHECK_FALSE(r.valid());
    CHECK(has_failure(r, "issuer EKU does not allow clientAuth"));
    auto ok = Certs::get().verify({"under_clienteku", "clienteku"}, {"root"});
    INFO(all_reasons(ok));
    CHECK(ok.valid());
}

TEST_CASE("an unknown critical extension is refused", "[x509]") {
    auto r = Certs::get().verify({"unknowncrit"}, {"root"});
    CHECK_FALSE(r.valid());
    CHECK(has_failure(r, "unknown critical extension"));
}

TEST_CASE("a critical policyConstraints is processed, not refused as unknown", "[x509]") {
    const auto& c = Certs::get();
    auto ok = c.verify({"with_policy", "policyca"}, {"root"});
    INFO(all_reasons(ok));
    CHECK(ok.valid());
    auto none = c.verify({"without_policy", "policyca"}, {"root"});
    CHECK_FALSE(none.valid());
    CHECK(has_failure(none, "certificate policies: no acceptable certificate policy"));
    CHECK_FALSE(c.verify({"other_policy", "policyca"}, {"root"}).valid());
}

TEST_CASE("IPv6 name constraints are enforced", "[x509]") {
    const auto& c = Certs::get();
    auto in = c.verify({"in6", "nc6"}, {"root"}, Purpose::server_auth, "2001:db8::1");
    INFO(all_reasons(in));
    CHECK(in.valid());
    auto out = c.verify({"out6", "nc6"}, {"root"}, Purpose::server_auth, "2001:db9::1");
    CHECK_FALSE(out.valid());
    CHECK(out.failures.front().kind == CheckFailure::name_constraints);
    CHECK(out.reason().rfind("name constraints violated", 0) == 0);
}

TEST_CASE("directory-name constraints apply to the subject", "[x509]") {
    const auto& c = Certs::get();
    CHECK(c.verify({"good_dn", "ncdn"}, {"root"}).valid());
    auto evil = c.verify({"evil_dn", "ncdn"}, {"root"});
    CHECK_FALSE(evil.valid());
    CHECK(has_failure(evil, "directory name not permitted"));
}

TEST_CASE("excluded DNS subtrees are enforced", "[x509]") {
    const auto& c = Certs::get();
    CHECK(c.verify({"dns_ok", "ncdns"}, {"root"}, Purpose::server_auth, "svc.good.example").valid());
    auto bad = c.verify({"dns_bad", "ncdns"}, {"root"}, Purpose::server_auth, "svc.bad.example");
    CHECK_FALSE(bad.valid());
    CHECK(has_failure(bad, "DNS name 'svc.bad.example' excluded"));
}

TEST_CASE("an intermediate CA can be the trust anchor", "[x509]") {
    auto r = Certs::get().verify({"leaf"}, {"inter"});
    INFO(all_reasons(r));
    CHECK(r.valid());
    // The leaf itself is never its own anchor unless it is self-signed.
    CHECK_FALSE(Certs::get().verify({"leaf"}, {"leaf"}).valid());
}
