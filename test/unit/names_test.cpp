#include "common/error.hpp"
#include "pki/names.hpp"
#include "tls/client_context.hpp"
#include "tls/peer_identity.hpp"
#include "tls/verdict_cache.hpp"

#include <catch2/catch.hpp>

using namespace mcpmtls;

TEST_CASE("certificate names refuse path separators, empty names and reserved names", "[unit]") {
    CHECK_NOTHROW(pki::validate_certificate_name("coordinator"));
    CHECK_NOTHROW(pki::validate_certificate_name("weather-1.prod_a"));
    CHECK_THROWS_AS(pki::validate_certificate_name(""), InputError);
    CHECK_THROWS_AS(pki::validate_certificate_name("../x"), InputError);
    CHECK_THROWS_AS(pki::validate_certificate_name("a/b"), InputError);
    CHECK_THROWS_AS(pki::validate_certificate_name(".hidden"), InputError);
    CHECK_THROWS_AS(pki::validate_certificate_name("ca"), InputError);
    CHECK_THROWS_AS(pki::validate_certificate_name("ca-previous"), InputError);  // the CA rotation's files
    CHECK_THROWS_AS(pki::validate_certificate_name(std::string(65, 'a')), InputError);
}

TEST_CASE("DNS names and IP literals are checked syntactically", "[unit]") {
    CHECK(pki::is_valid_dns_name("localhost", false));
    CHECK(pki::is_valid_dns_name("a-b.example.com", false));
    CHECK(pki::is_valid_dns_name("*.example.com", true));
    CHECK_FALSE(pki::is_valid_dns_name("*.example.com", false));
    CHECK_FALSE(pki::is_valid_dns_name("-bad.example", false));
    CHECK_FALSE(pki::is_valid_dns_name("bad_.example", false));
    CHECK_FALSE(pki::is_valid_dns_name("a..b", false));
    CHECK_FALSE(pki::is_valid_dns_name("127.0.0.1", false));
    CHECK(pki::canonical_ip("127.0.0.1") == "127.0.0.1");
    CHECK(pki::canonical_ip("[::1]") == "::1");
    CHECK(pki::canonical_ip("0:0:0:0:0:0:0:1") == "::1");
    CHECK(pki::canonical_ip("999.1.1.1").empty());
    CHECK(pki::is_valid_uri("spiffe://demo/coordinator"));
    CHECK_FALSE(pki::is_valid_uri("no scheme"));
    CHECK(pki::is_valid_email("ops@example.com"));
    CHECK_FALSE(pki::is_valid_email("ops@@example.com"));
}

TEST_CASE("pins accept any case and colons but exactly 64 hex digits", "[unit]") {
    const std::string hex(64, 'a');
    CHECK(tls::parse_pin("sha256:" + std::string(64, 'A')) == hex);
    std::string colons;
    for (int i = 0; i < 32; ++i) colons += std::string(i ? ":" : "") + "AA";
    CHECK(tls::parse_pin("SHA256:" + colons) == hex);
    CHECK(tls::parse_pin(hex) == hex);
    CHECK_THROWS_AS(tls::parse_pin("sha256:abcd"), InputError);
    CHECK_THROWS_AS(tls::parse_pin("sha256:" + std::string(64, 'g')), InputError);
}

TEST_CASE("a peer identity matches its CN, DNS SANs and URI SANs only", "[unit]") {
    tls::PeerIdentity id;
    id.common_name = "coordinator";
    id.dns_names = {"Agent.Example.com"};
    id.uris = {"spiffe://demo/coordinator"};
    id.emails = {"ops@example.com"};
    CHECK(id.matches("coordinator"));
    CHECK(id.matches("agent.example.com"));
    CHECK(id.matches("spiffe://demo/coordinator"));
    CHECK_FALSE(id.matches("spiffe://demo/other"));
    CHECK_FALSE(id.matches("ops@example.com"));
    CHECK_FALSE(id.matches(""));
    CHECK(id.display_name() == "spiffe://demo/coordinator");
}

TEST_CASE("the verdict cache forgets entries at their expiry and evicts the least recent", "[unit]") {
    tls::VerdictCache cache(2);
    auto now = std::chrono::system_clock::now();
    auto identity = std::make_shared<const tls::PeerIdentity>();
    tls::ChainDigest a{}, b{}, c{};
    a[0] = 1;
    b[0] = 2;
    c[0] = 3;
    cache.remember(a, identity, now + std::chrono::hours(1));
    cache.remember(b, identity, now + std::chrono::seconds(1));
    CHECK(cache.find(a, now) == identity);
    CHECK(cache.find(b, now + std::chrono::seconds(2)) == nullptr);  // expired
    cache.remember(b, identity, now + std::chrono::hours(1));
    CHECK(cache.find(a, now) != nullptr);  // a is now the most recent
    cache.remember(c, identity, now + std::chrono::hours(1));
    CHECK(cache.size() == 2);
    CHECK(cache.find(b, now) == nullptr);  // least recently used went first
    CHECK(cache.find(a, now) != nullptr);
    CHECK(cache.find(c, now) != nullptr);
}

TEST_CASE("a DNS name in a peer's certificate is judged as RFC 5280, a name we issue as RFC 1123", "[unit][names]") {
    const auto issued = pki::host_name_rules(true);
    const auto presented = pki::certificate_dns_rules();
    // Only a certificate from another CA may carry these.
    for (const std::string name : {"_acme-challenge.example.com", "-edge.example.com", "edge-.example.com", "1.2.3.4"}) {
        CHECK(pki::is_valid_dns_name(name, presented));
        CHECK_FALSE(pki::is_valid_dns_name(name, issued));
    }
    // Only typed input may name the DNS root.
    CHECK(pki::is_valid_dns_name("example.com.", issued));
    CHECK_FALSE(pki::is_valid_dns_name("example.com.", presented));
    // Both: a wildcard only as the whole left-most label, labels of 1-63, at most 253 characters.
    for (const auto& rules : {issued, presented}) {
        CHECK(pki::is_valid_dns_name("*.example.com", rules));
        CHECK_FALSE(pki::is_valid_dns_name("*", rules));
        CHECK_FALSE(pki::is_valid_dns_name("a.*.example.com", rules));
        CHECK_FALSE(pki::is_valid_dns_name("*a.example.com", rules));
        CHECK_FALSE(pki::is_valid_dns_name("a..b", rules));
        CHECK(pki::is_valid_dns_name(std::string(63, 'a') + ".com", rules));
        CHECK_FALSE(pki::is_valid_dns_name(std::string(64, 'a') + ".com", rules));
        CHECK_FALSE(pki::is_valid_dns_name(std::string(250, 'a') + ".com", rules));
    }
}
