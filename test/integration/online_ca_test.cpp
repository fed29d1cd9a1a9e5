// pki serve through its HTTP API with independent tools only: keys and CSRs from `openssl req`,
// requests from curl (the steps docs/enrollment.md documents), certificates checked by
// `openssl verify`. Every refusal answers with its code and leaves no file behind.
#include "common/strings.hpp"
#include "test/support/online_ca.hpp"

#include <catch2/catch.hpp>
#include <dirent.h>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

using namespace mcpmtls;
using namespace mcpmtls::testing;
using nlohmann::json;

namespace {

// A P-256 key and a CSR for it made by openssl; `san` ("DNS:a,IP:b") asked for when not empty,
// `extra` more -addext arguments.
std::string openssl_csr(const std::string& dir, const std::string& name, const std::string& san, const std::string& extra = "") {
    const auto r = run_shell("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout '" + dir + "/" + name +
                             ".key' -out '" + dir + "/" + name + ".csr' -subj '/CN=" + name + "'" +
                             (san.empty() ? "" : " -addext 'subjectAltName=" + san + "'") + extra + " 2>&1");
    INFO(r.all());
    REQUIRE(r.exit_code == 0);
    return read_text(dir + "/" + name + ".csr");
}

std::string enroll_body(const std::string& token, const std::string& csr) { return json{{"token", token}, {"csr", csr}}.dump(); }

json parsed(const HttpAnswer& answer) {
    INFO(answer.status << " " << answer.body);
    json body = json::parse(answer.body, nullptr, false);
    REQUIRE_FALSE(body.is_discarded());
    return body;
}

std::string error_code(const HttpAnswer& answer) {
    const json body = parsed(answer);
    INFO(answer.body);
    REQUIRE(body.contains("error"));
    CHECK(body["error"]["message"].get<std::string>().find('\n') == std::string::npos);
    return body["error"]["code"];
}

// What a refusal must not change: the certificates, the inventory and the log.
std::set<std::string> files_in(const std::string& dir) {
    std::set<std::string> names;
    if (DIR* d = opendir(dir.c_str())) {
        while (dirent* entry = readdir(d)) names.insert(entry->d_name);
        closedir(d);
    }
    return names;
}

struct Snapshot {
    std::set<std::string> files;
    std::string inventory;
    std::string log;
    explicit Snapshot(const DemoPki& pki)
        : files(files_in(pki.dir())), inventory(read_text(pki.path("index.json"))), log(read_text(pki.path("issuance.log"))) {}
    bool operator==(const Snapshot& other) const {
        return files == other.files && inventory == other.inventory && log == other.log;
    }
};

void check_with_openssl(const DemoPki& pki, const std::string& cert_path, const std::string& purpose) {
    const auto r = run_command({"openssl", "verify", "-CAfile", pki.path("ca-bundle.crt"), "-purpose", purpose, cert_path});
    INFO(r.all());
    CHECK(r.exit_code == 0);
}

}  // namespace

TEST_CASE("a CSR made by openssl enrolls through curl alone, renews over mutual TLS and is revoked by its holder",
          "[online-ca]") {
    DemoPki pki;
    OnlineCaProcess ca(pki);
    TempDir host;

    // The trust bundle and the health check need nothing.
    const auto roots = ca.get("/v1/roots");
    REQUIRE(roots.status == 200);
    CHECK(roots.body + "\n" == read_text(pki.path("ca-bundle.crt")) + "\n");
    CHECK(ca.get("/healthz").status == 200);

    const std::string token = enrollment_token(pki, {"server", "weather", "--dns", "localhost", "--ip", "127.0.0.1", "--ttl", "1h"});
    const std::string csr = openssl_csr(host.path(), "weather", "DNS:localhost");
    const auto enrolled = ca.post("/v1/enroll", enroll_body(token, csr));
    REQUIRE(enrolled.status == 201);
    const json issued = parsed(enrolled);
    CHECK(issued["name"] == "weather");
    CHECK(issued["kind"] == "server");
    write_text(host.file("weather.crt"), issued["chain"].get<std::string>());
    check_with_openssl(pki, host.file("weather.crt"), "sslserver");
    // The token granted both names; the CSR asked for one: the certificate has what was granted
    // and asked for, and at most the token's lifetime.
    const auto text = run_command({"openssl", "x509", "-in", host.file("weather.crt"), "-noout", "-text", "-enddate"});
    CHECK(text.out.find("DNS:localhost") != std::string::npos);
    const auto not_after = parse_rfc3339(issued["not_after"]);
    CHECK(not_after <= std::chrono::system_clock::now() + std::chrono::minutes(61));
    // The key stayed with the host: the certificate is for the CSR's key.
    const auto same_key = run_shell("cmp <(openssl x509 -in '" + host.file("weather.crt") + "' -noout -pubkey) <(openssl pkey -in '" +
                                    host.file("weather.key") + "' -pubout)");
    CHECK(same_key.exit_code == 0);

    SECTION("renewal with the current certificate, with a new key and without") {
        const std::string new_csr = openssl_csr(host.path(), "weather-next", "");
        const auto renewed = ca.post("/v1/renew", json{{"csr", new_csr}}.dump(), host.file("weather.crt"), host.file("weather.key"));
        REQUIRE(renewed.status == 201);
        const json next = parsed(renewed);
        CHECK(next["name"] == "weather");
        CHECK(next["serial"] != issued["serial"]);
        write_text(host.file("weather-next.crt"), next["chain"].get<std::string>());
        check_with_openssl(pki, host.file("weather-next.crt"), "sslserver");
        const auto names = run_command({"openssl", "x509", "-in", host.file("weather-next.crt"), "-noout", "-ext", "subjectAltName"});
        CHECK(names.out.find("DNS:localhost") != std::string::npos);

        // The one it replaced is superseded: it renews no more.
        const Snapshot before(pki);
        const auto again = ca.post("/v1/renew", "{}", host.file("weather.crt"), host.file("weather.key"));
        CHECK(again.status == 403);
        CHECK(error_code(again) == "certificate_refused");
        CHECK(Snapshot(pki) == before);

        // Keeping the key: the new certificate is for the key the holder already has.
        const auto kept = ca.post("/v1/renew", "{}", host.file("weather-next.crt"), host.file("weather-next.key"));
        REQUIRE(kept.status == 201);
        write_text(host.file("weather-kept.crt"), parsed(kept)["certificate"].get<std::string>());
        CHECK(run_shell("cmp <(openssl x509 -in '" + host.file("weather-kept.crt") + "' -noout -pubkey) <(openssl pkey -in '" +
                        host.file("weather-next.key") + "' -pubout)")
                  .exit_code == 0);
        CHECK(pki.pki({"log", "verify"}).exit_code == 0);
    }

    SECTION("the holder revokes it; the CRL says so and it renews no more") {
        const auto revoked = ca.post("/v1/revoke", json{{"reason", "keyCompromise"}}.dump(), host.file("weather.crt"),
                                     host.file("weather.key"));
        REQUIRE(revoked.status == 200);
        CHECK(parsed(revoked)["serial"] == issued["serial"]);
        const auto crl = ca.get("/v1/crl");
        REQUIRE(crl.status == 200);
        CHECK(crl.headers.find("application/pkix-crl") != std::string::npos);
        CHECK(crl.headers.find("Cache-Control: public, max-age=") != std::string::npos);
        write_text(host.file("ca.crl.der"), crl.body);
        const auto listed = run_command({"openssl", "crl", "-inform", "DER", "-in", host.file("ca.crl.der"), "-noout", "-text"});
        INFO(listed.all());
        CHECK(to_lower(listed.out).find(to_lower(issued["serial"].get<std::string>())) != std::string::npos);
        const auto renewal = ca.post("/v1/renew", "{}", host.file("weather.crt"), host.file("weather.key"));
        CHECK(renewal.status == 403);
        CHECK(error_code(renewal) == "certificate_refused");
        CHECK(pki.pki({"log", "verify"}).exit_code == 0);
    }
}

TEST_CASE("pki serve refuses with a code and a line, and a refusal leaves no file behind", "[online-ca]") {
    DemoPki pki;
    OnlineCaProcess ca(pki);
    TempDir host;
    const std::string csr = openssl_csr(host.path(), "datetime", "DNS:localhost");
    const std::string token = enrollment_token(pki, {"server", "datetime", "--dns", "localhost"});
    REQUIRE(ca.post("/v1/enroll", enroll_body(token, csr)).status == 201);
    const Snapshot before(pki);

    SECTION("a reused token") {
        const auto reused = ca.post("/v1/enroll", enroll_body(token, openssl_csr(host.path(), "datetime-2", "DNS:localhost")));
        CHECK(reused.status == 409);
        CHECK(error_code(reused) == "token_reused");
    }
    SECTION("a token signed by another CA's provisioner") {
        DemoPki other;
        const auto foreign = ca.post("/v1/enroll", enroll_body(enrollment_token(other, {"server", "echo", "--dns", "localhost"}),
                                                               openssl_csr(host.path(), "echo", "DNS:localhost")));
        CHECK(foreign.status == 401);
        CHECK(error_code(foreign) == "token_invalid");
    }
    SECTION("a token that is not one") {
        const auto garbage = ca.post("/v1/enroll", enroll_body("eyJhbGciOiJub25lIn0.e30.", csr));
        CHECK(garbage.status == 401);
        CHECK(error_code(garbage) == "token_invalid");
    }
    SECTION("a CSR asking for a name the token does not grant") {
        const auto extra = ca.post("/v1/enroll", enroll_body(enrollment_token(pki, {"server", "echo", "--dns", "localhost"}),
                                                             openssl_csr(host.path(), "echo", "DNS:localhost,DNS:evil.example")));
        CHECK(extra.status == 403);
        CHECK(error_code(extra) == "not_granted");
        CHECK(parsed(extra)["error"]["message"].get<std::string>().find("evil.example") != std::string::npos);
    }
    SECTION("a client token used for a CSR that asks for a server certificate") {
        const auto wrong_kind = ca.post("/v1/enroll", enroll_body(enrollment_token(pki, {"client", "bob"}),
                                                                  openssl_csr(host.path(), "bob", "", " -addext extendedKeyUsage=serverAuth")));
        CHECK(wrong_kind.status == 403);
        CHECK(error_code(wrong_kind) == "not_granted");
        CHECK(parsed(wrong_kind)["error"]["message"].get<std::string>().find("serverAuth") != std::string::npos);
    }
    SECTION("a CSR that is not one") {
        const auto bad = ca.post("/v1/enroll", enroll_body(enrollment_token(pki, {"client", "bob"}), "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n"));
        CHECK(bad.status == 400);
        CHECK(error_code(bad) == "bad_csr");
    }
    SECTION("malformed JSON and missing fields") {
        const auto not_json = ca.post("/v1/enroll", "{\"token\": ");
        CHECK(not_json.status == 400);
        CHECK(error_code(not_json) == "bad_request");
        const auto missing = ca.post("/v1/enroll", "{\"csr\": \"x\"}");
        CHECK(missing.status == 400);
        CHECK(error_code(missing) == "bad_request");
    }
    SECTION("an oversized body is refused unread, and the CA serves on") {
        const auto large = ca.post("/v1/enroll", json{{"token", std::string(100 * 1024, 'a')}, {"csr", csr}}.dump());
        CHECK(large.status == 413);
        CHECK(error_code(large) == "too_large");
        CHECK(ca.get("/healthz").status == 200);
    }
    SECTION("renewal and revocation without a client certificate, or with one of another CA") {
        const auto anonymous = ca.post("/v1/renew", "{}");
        CHECK(anonymous.status == 401);
        CHECK(error_code(anonymous) == "certificate_required");
        OpensslCa stranger;
        stranger.issue("mallory", "clientAuth", "DNS:mallory");
        const auto foreign = ca.post("/v1/revoke", "{}", stranger.path("mallory.crt"), stranger.path("mallory.key"));
        CHECK(foreign.status == 403);
        CHECK(error_code(foreign) == "certificate_refused");
    }
    SECTION("renewal with an expired certificate of this CA") {
        OpensslCa::issue_with(pki.path("ca.crt"), pki.path("ca.key"), host.path(), "stale", "serverAuth", "DNS:localhost",
                              "20200101000000Z", "20200201000000Z");
        const auto expired = ca.post("/v1/renew", "{}", host.file("stale.crt"), host.file("stale.key"));
        CHECK(expired.status == 403);
        CHECK(error_code(expired) == "certificate_refused");
    }
    SECTION("an unknown endpoint") {
        const auto unknown = ca.get("/v1/nothing");
        CHECK(unknown.status == 404);
        CHECK(error_code(unknown) == "not_found");
    }
    CHECK(Snapshot(pki) == before);
    CHECK(ca.process().running());
}

TEST_CASE("the CRL endpoint is a --crl-url: DER, cached by number, revalidated with If-None-Match", "[online-ca]") {
    DemoPki pki;
    OnlineCaProcess ca(pki);
    const auto first = ca.get("/v1/crl");
    REQUIRE(first.status == 200);
    std::smatch etag;
    REQUIRE(std::regex_search(first.headers, etag, std::regex("ETag: (\"[0-9]+\")")));
    const auto unchanged = ca.get("/v1/crl", {"-H", "If-None-Match: " + etag[1].str()});
    CHECK(unchanged.status == 304);
    CHECK(unchanged.body.empty());
}

TEST_CASE("pki serve limits each identity's rate: past the burst, 429 with Retry-After; others are served", "[online-ca]") {
    DemoPki pki;
    OnlineCaProcess ca(pki, {"--rate-limit", "1"});  // one a second, bursts of 10
    TempDir host;
    const std::string csr = openssl_csr(host.path(), "x", "");
    int refused = 0, limited = 0;
    std::string retry_after;
    for (int i = 0; i < 14; ++i) {
        const auto answer = ca.post("/v1/enroll", enroll_body("not-a-token", csr));
        if (answer.status == 401) ++refused;
        if (answer.status == 429) {
            ++limited;
            CHECK(error_code(answer) == "rate_limited");
            std::smatch match;
            if (std::regex_search(answer.headers, match, std::regex("Retry-After: ([0-9]+)"))) retry_after = match[1];
        }
    }
    CHECK(refused >= 10);
    CHECK(limited >= 2);
    CHECK(retry_after == "1");
    // The holder of a certificate is another identity: its renewal goes through meanwhile.
    CHECK(ca.post("/v1/renew", "{}", pki.path("coordinator.crt"), pki.path("coordinator.key")).status == 201);
    CHECK(ca.process().log().find("ca_rate_limited") != std::string::npos);
}
