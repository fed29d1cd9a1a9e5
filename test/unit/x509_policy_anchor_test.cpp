// Verification policy, the trust anchor's own certificate (docs/verification-policy.md, "Trust
// anchors"): enforced by default, ignored (RFC 5280 6.1.1 (d): a name and a key) on request.
#include "test/unit/x509_policy_fixture.hpp"

#include <catch2/catch.hpp>

#include <chrono>

using namespace x509_policy;
using mcpmtls::pki::AnchorConstraints;
using mcpmtls::pki::AnchorValidity;
using mcpmtls::pki::CheckFailure;
using mcpmtls::pki::VerifyOptions;

namespace {

VerifyOptions anchor_options(AnchorConstraints constraints, AnchorValidity validity) {
    VerifyOptions options;
    options.anchor_constraints = constraints;
    options.anchor_validity = validity;
    return options;
}

}  // namespace

TEST_CASE("the product default enforces the anchor's constraints and validity", "[x509]") {
    const VerifyOptions defaults;
    CHECK(defaults.anchor_constraints == AnchorConstraints::enforce);
    CHECK(defaults.anchor_validity == AnchorValidity::enforce);
}

TEST_CASE("an anchor's pathLen 0 forbids an intermediate unless anchor constraints are ignored", "[x509]") {
    const auto& c = Certs::get();
    auto enforced = c.verify({"under_pathlen0", "inter_pathlen0"}, {"root_pathlen0"});
    CHECK_FALSE(enforced.valid());
    CHECK(enforced.failures.front().kind == CheckFailure::path_length);

    auto ignored = c.verify_with({"under_pathlen0", "inter_pathlen0"}, {"root_pathlen0"},
                                 anchor_options(AnchorConstraints::ignore, AnchorValidity::enforce));
    INFO(all_reasons(ignored));
    CHECK(ignored.valid());
}

TEST_CASE("an expired anchor is refused unless its validity is ignored", "[x509]") {
    const auto& c = Certs::get();
    const auto later = std::chrono::system_clock::now() + std::chrono::hours(24 * 30);

    auto enforce = anchor_options(AnchorConstraints::enforce, AnchorValidity::enforce);
    enforce.at = later;
    auto enforced = c.verify_with({"under_1day"}, {"root_1day"}, enforce);
    CHECK_FALSE(enforced.valid());
    CHECK(enforced.failures.front().kind == CheckFailure::expired);
    CHECK(has_failure(enforced, "issuer certificate has expired"));

    auto ignore = anchor_options(AnchorConstraints::enforce, AnchorValidity::ignore);
    ignore.at = later;
    auto ignored = c.verify_with({"under_1day"}, {"root_1day"}, ignore);
    INFO(all_reasons(ignored));
    CHECK(ignored.valid());

    // Ignoring the anchor's constraints alone does not ignore its validity.
    auto constraints_only = anchor_options(AnchorConstraints::ignore, AnchorValidity::enforce);
    constraints_only.at = later;
    CHECK_FALSE(c.verify_with({"under_1day"}, {"root_1day"}, constraints_only).valid());
}

TEST_CASE("an anchor's EKU restricts the path only when its constraints are enforced", "[x509]") {
    const auto& c = Certs::get();
    // `servereku` is a CA limited to serverAuth; trusted directly, it vouches for a client.
    auto enforced = c.verify({"under_servereku"}, {"servereku"});
    CHECK_FALSE(enforced.valid());
    CHECK(has_failure(enforced, "issuer EKU does not allow clientAuth"));
    auto ignored = c.verify_with({"under_servereku"}, {"servereku"},
                                 anchor_options(AnchorConstraints::ignore, AnchorValidity::ignore));
    INFO(all_reasons(ignored));
    CHECK(ignored.valid());
}

TEST_CASE("ignoring the anchor's constraints still judges its key and every certificate below it", "[x509]") {
    const auto& c = Certs::get();
    const auto ignore = anchor_options(AnchorConstraints::ignore, AnchorValidity::ignore);
    // An RSA-1024 anchor: its key is what is trusted, and it is too weak.
    auto weak = c.verify_with({"under_rsa1024"}, {"rsa1024ca"}, ignore);
    CHECK_FALSE(weak.valid());
    CHECK(weak.failures.front().kind == CheckFailure::weak_key);
    // An intermediate below the anchor whose keyUsage lacks keyCertSign is still no CA.
    auto nokcs = c.verify_with({"under_nokcs", "nokcs"}, {"root"}, ignore);
    CHECK_FALSE(nokcs.valid());
    CHECK(nokcs.failures.front().kind == CheckFailure::not_a_ca);
    // The path length is recounted without the anchor's pathLen, but an intermediate's counts.
    auto too_long = c.verify_with({"under_below_pl0", "below_pl0", "inter_pl0"}, {"root"}, ignore);
    CHECK_FALSE(too_long.valid());
    CHECK(too_long.failures.front().kind == CheckFailure::path_length);
    auto ok = c.verify_with({"leaf", "inter"}, {"root"}, ignore);
    INFO(all_reasons(ok));
    CHECK(ok.valid());
}

TEST_CASE("ignoring the anchor's constraints never makes an untrusted root an anchor", "[x509]") {
    const auto& c = Certs::get();
    const auto ignore = anchor_options(AnchorConstraints::ignore, AnchorValidity::ignore);
    // `impostor` has the root's name but another key: it did not sign the intermediate.
    auto forged = c.verify_with({"leaf", "inter"}, {"impostor"}, ignore);
    CHECK_FALSE(forged.valid());
    // The peer presents the real root, which the trust store does not hold.
    auto untrusted = c.verify_with({"leaf", "inter", "root"}, {"impostor"}, ignore);
    CHECK_FALSE(untrusted.valid());
    CHECK(untrusted.failures.front().kind == CheckFailure::untrusted_issuer);
}
