// The holder's side of renewal (tls/certificate_renewal.hpp): the schedule with an injected
// clock, and one renewal end to end with real keys and files, the CA played by `bin/pki sign`
// behind a transport function (the HTTP front of `pki serve` is tested in
// test/integration/renewal_test.cpp).
#include "common/error.hpp"
#include "common/files.hpp"
#include "common/strings.hpp"
#include "pki/certificate.hpp"
#include "pki/csr.hpp"
#include "pki/csr_builder.hpp"
#include "test/support/fixtures.hpp"
#include "tls/certificate_renewal.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

using namespace mcpmtls;
using namespace mcpmtls::testing;
using namespace std::chrono_literals;
using tls::RenewalSchedule;

namespace {

const tls::SystemTime kStart = std::chrono::system_clock::from_time_t(1'800'000'000);

// A CA behind the transport: the CSR of a /v1/renew is signed by `pki sign` (client, 2 minutes),
// and the answer is what docs/enrollment.md promises. `refusal` makes it refuse instead.
struct SigningCa {
    DemoPki pki;
    TempDir scratch;
    int requests = 0;
    std::string refusal;  // an error code; empty: issue
    std::string last_path;

    tls::CaPost post() {
        return [this](const std::string& path, const std::string& body) -> tls::CaAnswer {
            ++requests;
            last_path = path;
            if (!refusal.empty())
                return {403, nlohmann::json{{"error", {{"code", refusal}, {"message", "the certificate is revoked"}}}}.dump()};
            const auto request = nlohmann::json::parse(body);
            // A name per request: pki sign refuses to issue a name twice.
            const std::string name = "holder" + std::to_string(requests);
            write_text(scratch.file(name + ".csr"), request.at("csr").get<std::string>());
            const auto signed_ = pki.pki({"sign", "client", name, "--csr", scratch.file(name + ".csr"), "--ttl", "2m"});
            if (signed_.exit_code != 0) return {500, nlohmann::json{{"error", {{"code", "internal"}, {"message", signed_.all()}}}}.dump()};
            const auto chain = pki::Certificate::load_all(pki.path(name + ".crt"));
            nlohmann::json issued = {{"certificate", chain.front().pem()},
                                     {"chain", chain.front().pem()},
                                     {"roots", read_text(pki.path("ca.crt"))},
                                     {"serial", chain.front().serial_hex()},
                                     {"not_before", "2026-01-01T00:00:00Z"},
                                     {"not_after", "2026-01-01T00:02:00Z"},
                                     {"name", name},
                                     {"kind", "client"}};
            return {201, issued.dump()};
        };
    }
};

// A holder's --cert-dir made from a `pki issue client` certificate.
tls::CredentialPaths holder_files(const SigningCa& ca, const TempDir& dir, const std::string& key_type = "") {
    std::vector<std::string> args = {"issue", "client", "first", "--ttl", "10m"};
    if (!key_type.empty()) args.insert(args.end(), {"--key-type", key_type});
    const auto issued = ca.pki.pki(args);
    REQUIRE(issued.exit_code == 0);
    const auto paths = tls::cert_dir_paths(dir.path());
    write_text(paths.cert_path, read_text(ca.pki.path("first.crt")));
    write_text(paths.key_path, read_text(ca.pki.path("first.key")));
    write_text(paths.roots_path, "stale bundle\n");
    return paths;
}

}  // namespace

TEST_CASE("renewal is due at two thirds of the lifetime, moved by at most 5% of it either way", "[renewal]") {
    const auto not_after = kStart + 90min;
    CHECK(RenewalSchedule::renewal_time(kStart, not_after, 0.0) == kStart + 60min);
    CHECK(RenewalSchedule::renewal_time(kStart, not_after, 1.0) == kStart + 60min + 270s);
    CHECK(RenewalSchedule::renewal_time(kStart, not_after, -1.0) == kStart + 60min - 270s);
    // A jitter source out of range is clamped, never pushed past the bounds.
    CHECK(RenewalSchedule::renewal_time(kStart, not_after, 7.0) == kStart + 60min + 270s);
    CHECK(RenewalSchedule::renewal_time(kStart, not_after, -7.0) == kStart + 60min - 270s);
    // Two-minute certificates (the fleet test): 80 s, 74..86 s.
    CHECK(RenewalSchedule::renewal_time(kStart, kStart + 2min, 0.0) == kStart + 80s);
    CHECK(RenewalSchedule::renewal_time(kStart, kStart + 2min, 1.0) == kStart + 86s);
    CHECK(RenewalSchedule::renewal_time(kStart, kStart + 2min, -1.0) == kStart + 74s);
}

TEST_CASE("renewal retries back off from 5 s, doubling, capped at a tenth of the time left and 10 minutes", "[renewal]") {
    const auto far = kStart + 24h * 30;  // a month left: only the 10-minute cap applies
    CHECK(RenewalSchedule::retry_delay(1, kStart, far) == 5s);
    CHECK(RenewalSchedule::retry_delay(2, kStart, far) == 10s);
    CHECK(RenewalSchedule::retry_delay(3, kStart, far) == 20s);
    CHECK(RenewalSchedule::retry_delay(7, kStart, far) == 320s);
    CHECK(RenewalSchedule::retry_delay(8, kStart, far) == 600s);
    CHECK(RenewalSchedule::retry_delay(1000, kStart, far) == 600s);  // no overflow
    // 100 s left: never more than 10 s between tries.
    CHECK(RenewalSchedule::retry_delay(1, kStart, kStart + 100s) == 5s);
    CHECK(RenewalSchedule::retry_delay(2, kStart, kStart + 100s) == 10s);
    CHECK(RenewalSchedule::retry_delay(5, kStart, kStart + 100s) == 10s);
    // Seconds left: at least 1 s, no busy loop.
    CHECK(RenewalSchedule::retry_delay(3, kStart, kStart + 4s) == 1s);
    // Expired: it cannot renew itself any more; looked at again every 10 minutes.
    CHECK(RenewalSchedule::retry_delay(1, kStart, kStart - 1s) == 600s);
}

TEST_CASE("renewal durations read as people write them", "[renewal]") {
    CHECK(tls::format_duration_short(100s) == "1m40s");
    CHECK(tls::format_duration_short(20s) == "20s");
    CHECK(tls::format_duration_short(2h + 5min + 3s) == "2h5m");
    CHECK(tls::format_duration_short(24h * 3 + 4h) == "3d4h");
    CHECK(tls::format_duration_short(-100s) == "-1m40s");
}

TEST_CASE("a renewal writes a new key of the same type, its certificate and the roots", "[renewal]") {
    SigningCa ca;
    TempDir dir;
    const std::string key_type = GENERATE(std::string("ecdsa-p384"), std::string("ed25519"));
    const auto paths = holder_files(ca, dir, key_type);
    const auto before = pki::Certificate::load(paths.cert_path);
    const std::string old_key = read_text(paths.key_path);

    const tls::Issued issued = tls::renew_credentials(paths, ca.post());
    CHECK(ca.last_path == "/v1/renew");
    const auto after = pki::Certificate::load(paths.cert_path);
    CHECK(after.serial_hex() == issued.serial);
    CHECK(after.serial_hex() != before.serial_hex());
    CHECK(after.public_key_algorithm() == before.public_key_algorithm());
    CHECK(read_text(paths.key_path) != old_key);
    CHECK(after.matches_key(pki::PrivateKey::load(paths.key_path, "")));
    CHECK(read_text(paths.roots_path) == read_text(ca.pki.path("ca.crt")));
    struct stat key_stat {};
    REQUIRE(::stat(paths.key_path.c_str(), &key_stat) == 0);
    CHECK((key_stat.st_mode & 0777) == 0600);
    // Nothing staged is left beside the files.
    CHECK(run_shell("ls -A '" + dir.path() + "' | grep -c tmp").out == "0\n");
}

TEST_CASE("a refused renewal leaves every file as it was and says what the CA said", "[renewal]") {
    SigningCa ca;
    TempDir dir;
    const auto paths = holder_files(ca, dir);
    const std::string cert = read_text(paths.cert_path), key = read_text(paths.key_path), roots = read_text(paths.roots_path);
    ca.refusal = "certificate_refused";
    try {
        tls::renew_credentials(paths, ca.post());
        FAIL("renewal did not throw");
    } catch (const tls::CaRefusal& refusal) {
        CHECK(refusal.code() == "certificate_refused");
        CHECK(refusal.code() != "");
        CHECK(std::string(refusal.what()).find("the certificate is revoked") != std::string::npos);
        CHECK(refusal.Error::code() == kExitFailed);
    }
    CHECK(read_text(paths.cert_path) == cert);
    CHECK(read_text(paths.key_path) == key);
    CHECK(read_text(paths.roots_path) == roots);
}

TEST_CASE("an answer whose certificate is not for our new key is refused, files untouched", "[renewal]") {
    SigningCa ca;
    TempDir dir;
    const auto paths = holder_files(ca, dir);
    const std::string cert = read_text(paths.cert_path), key = read_text(paths.key_path);
    // A CA (or whatever answers) handing back someone else's certificate.
    const tls::CaPost wrong = [&](const std::string&, const std::string&) -> tls::CaAnswer {
        const auto other = pki::Certificate::load(ca.pki.path("coordinator.crt"));
        return {201, nlohmann::json{{"certificate", other.pem()}, {"chain", other.pem()}, {"roots", read_text(ca.pki.path("ca.crt"))},
                                    {"serial", other.serial_hex()}, {"not_before", "2026-01-01T00:00:00Z"},
                                    {"not_after", "2026-01-02T00:00:00Z"}, {"name", "coordinator"}, {"kind", "client"}}
                         .dump()};
    };
    CHECK_THROWS_WITH(tls::renew_credentials(paths, wrong), Catch::Contains("not for the key we sent"));
    CHECK(read_text(paths.cert_path) == cert);
    CHECK(read_text(paths.key_path) == key);
}

TEST_CASE("an expired certificate is not sent to the CA: one clear line, files untouched", "[renewal]") {
    SigningCa ca;
    TempDir dir;
    OpensslCa::issue_with(ca.pki.path("ca.crt"), ca.pki.path("ca.key"), dir.path(), "old", "clientAuth", "URI:spiffe://demo/old",
                          "20200101000000Z", "20200201000000Z");
    const tls::CredentialPaths paths{dir.file("old.crt"), dir.file("old.key"), ""};
    const std::string cert = read_text(paths.cert_path);
    CHECK_THROWS_WITH(tls::renew_credentials(paths, ca.post()), Catch::Contains("cannot renew itself"));
    CHECK(ca.requests == 0);
    CHECK(read_text(paths.cert_path) == cert);
}

TEST_CASE("a CSR made for renewal is one the CA's parser accepts", "[renewal]") {
    for (auto type : {pki::KeyType::ecdsa_p256, pki::KeyType::ecdsa_p384, pki::KeyType::ed25519}) {
        const auto key = pki::PrivateKey::generate(type);
        const auto request = pki::CertificateRequest::parse(pki::make_certificate_request(key, "holder"), "test");
        CHECK(request.public_key_info() == key.public_key_info());
        CHECK(request.subject().find("CN=holder") != std::string::npos);
    }
}

TEST_CASE("background renewal waits for its time, backs off after a failure, and renews once due", "[renewal]") {
    SigningCa ca;
    TempDir dir;
    const auto paths = holder_files(ca, dir);
    const auto current = pki::Certificate::load(paths.cert_path);
    const tls::SystemTime held = tls::certificate_held_since(current, paths.cert_path);
    const tls::SystemTime due = RenewalSchedule::renewal_time(held, current.not_after(), 0.0);
    tls::SystemTime now = held + 1min;
    std::vector<bool> results;
    tls::BackgroundRenewal::Hooks hooks;
    hooks.now = [&] { return now; };
    hooks.jitter = [] { return 0.0; };
    hooks.on_result = [&](bool ok, const tls::Issued*) { results.push_back(ok); };
    tls::BackgroundRenewal renewal(paths, "https://ca.test", ca.post(), hooks);

    CHECK(renewal.renew_if_due());
    CHECK(ca.requests == 0);
    now = due - 1s;
    CHECK(renewal.renew_if_due());
    CHECK(ca.requests == 0);

    now = due + 1s;
    ca.refusal = "internal";
    CHECK_FALSE(renewal.renew_if_due());
    CHECK(ca.requests == 1);
    // Backing off: 5 s after the first failure, then 10 s.
    now += 4s;
    renewal.renew_if_due();
    CHECK(ca.requests == 1);
    now += 2s;
    CHECK_FALSE(renewal.renew_if_due());
    CHECK(ca.requests == 2);
    now += 9s;
    renewal.renew_if_due();
    CHECK(ca.requests == 2);
    now += 2s;
    ca.refusal.clear();
    CHECK(renewal.renew_if_due());
    CHECK(ca.requests == 3);
    CHECK(results == std::vector<bool>{false, false, true});
    CHECK(pki::Certificate::load(paths.cert_path).serial_hex() != current.serial_hex());
}

TEST_CASE("a certificate whose notBefore is backdated is due at two thirds of the time we have held it", "[renewal]") {
    SigningCa ca;
    TempDir dir;
    // A CA that backdates notBefore by five minutes for clock skew (as pki did before it capped
    // the backdate at a quarter of the lifetime): a two-minute certificate "began" long before it
    // was written, and 2/3 of its stated lifetime is already behind it.
    const auto openssl_time = [](const char* offset) {
        return trim(run_shell(std::string("date -u -d '") + offset + "' +%Y%m%d%H%M%SZ").out);
    };
    OpensslCa::issue_with(ca.pki.path("ca.crt"), ca.pki.path("ca.key"), dir.path(), "brief", "clientAuth", "DNS:brief",
                          openssl_time("-5 minutes"), openssl_time("+2 minutes"));
    const auto paths = tls::cert_dir_paths(dir.path());
    write_text(paths.cert_path, read_text(dir.file("brief.crt")));
    write_text(paths.key_path, read_text(dir.file("brief.key")));
    const auto written = std::chrono::system_clock::now();
    const auto brief = pki::Certificate::load(paths.cert_path);
    REQUIRE(RenewalSchedule::renewal_time(brief.not_before(), brief.not_after(), 0.0) < written);
    const auto held = tls::certificate_held_since(brief, paths.cert_path);
    CHECK(held > written - 2s);
    CHECK(held <= written + 1s);
    tls::BackgroundRenewal::Hooks hooks;
    hooks.jitter = [] { return 0.0; };
    tls::BackgroundRenewal renewal(paths, "https://ca.test", ca.post(), hooks);
    const auto due = renewal.due_time();
    REQUIRE(due);
    CHECK(*due > written + 70s);
    CHECK(*due < written + 90s);
    CHECK(renewal.renew_if_due());
    CHECK(ca.requests == 0);
}

TEST_CASE("background renewal renews at once when past due, and stops promptly", "[renewal]") {
    SigningCa ca;
    TempDir dir;
    const auto paths = holder_files(ca, dir);
    const auto current = pki::Certificate::load(paths.cert_path);
    std::atomic<int> renewed{0};
    tls::BackgroundRenewal::Hooks hooks;
    hooks.now = [&] { return current.not_after() - 1min; };
    hooks.on_result = [&](bool ok, const tls::Issued*) { renewed += ok ? 1 : 0; };
    {
        tls::BackgroundRenewal renewal(paths, "https://ca.test", ca.post(), hooks);
        renewal.start();
        for (int i = 0; i < 100 && renewed == 0; ++i) std::this_thread::sleep_for(100ms);
        CHECK(renewed >= 1);
    }
    // Not due for a long time: the thread is waiting, and stop() wakes it.
    hooks.now = [] { return std::chrono::system_clock::now(); };
    tls::BackgroundRenewal idle(paths, "https://ca.test", ca.post(), hooks);
    idle.start();
    std::this_thread::sleep_for(200ms);
    const auto stop_started = std::chrono::steady_clock::now();
    idle.stop();
    CHECK(std::chrono::steady_clock::now() - stop_started < 1s);
}

TEST_CASE("files written together: all or none, and nothing staged left behind", "[renewal]") {
    TempDir dir;
    write_text(dir.file("a"), "old a");
    write_text(dir.file("b"), "old b");
    // The second cannot be staged (its folder does not exist): the first stays as it was.
    CHECK_THROWS_AS(write_files_atomic({{dir.file("a"), "new a", 0644}, {dir.file("missing/b"), "new b", 0600}}), OperationError);
    CHECK(read_text(dir.file("a")) == "old a");
    CHECK(run_shell("ls -A '" + dir.path() + "'").out == "a\nb\n");
    write_files_atomic({{dir.file("a"), "new a", 0644}, {dir.file("b"), "new b", 0600}});
    CHECK(read_text(dir.file("a")) == "new a");
    CHECK(read_text(dir.file("b")) == "new b");
    struct stat b_stat {};
    REQUIRE(::stat(dir.file("b").c_str(), &b_stat) == 0);
    CHECK((b_stat.st_mode & 0777) == 0600);
    CHECK(run_shell("ls -A '" + dir.path() + "'").out == "a\nb\n");
}
