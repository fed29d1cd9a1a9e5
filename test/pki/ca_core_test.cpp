// The CA's side of enrollment (issue #22): enrollment tokens, the online CA's enroll, renew and
// revoke (OnlineCa, which pki serve puts behind HTTPS), and the issuance log that every
// issuance and revocation, online or offline, appends to. Real directories, real bin/pki, the
// openssl CLI as second opinion; concurrency with real threads and real processes.
#include "common/files.hpp"
#include "pki/ca/enrollment_token.hpp"
#include "pki/ca/inventory.hpp"
#include "pki/ca/issuance_log.hpp"
#include "pki/ca/online_ca.hpp"
#include "test/pki/pki_support.hpp"
#include "test/support/fixtures.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <fstream>
#include <set>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace mcpmtls::testing;
using namespace mcpmtls::pki;
using nlohmann::json;
using std::chrono::system_clock;

namespace {

// A small base64url, independent of the one under test, to take tokens apart and forge them.
const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string b64url_encode(const std::string& in) {
    std::string out;
    size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        const unsigned v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
        for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
    }
    if (in.size() - i == 1) {
        const unsigned v = uint8_t(in[i]) << 16;
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
    } else if (in.size() - i == 2) {
        const unsigned v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
    }
    return out;
}

std::string b64url_decode(const std::string& in) {
    std::string out;
    unsigned v = 0;
    int bits = 0;
    for (char c : in) {
        const auto pos = kAlphabet.find(c);
        REQUIRE(pos != std::string::npos);
        v = (v << 6) | unsigned(pos);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += char((v >> bits) & 0xff);
        }
    }
    return out;
}

std::vector<std::string> split_token(const std::string& token) {
    std::vector<std::string> parts;
    size_t start = 0;
    for (;;) {
        const auto dot = token.find('.', start);
        parts.push_back(token.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
        if (dot == std::string::npos) return parts;
        start = dot + 1;
    }
}

json claims_of(const std::string& token) { return json::parse(b64url_decode(split_token(token).at(1))); }

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return text;
}

// An openssl CSR (P-256) in `dir`, asking for `san` (may be empty).
std::string openssl_csr(const TempDir& dir, const std::string& name, const std::string& san = "") {
    std::string command = "cd '" + dir.path() + "' && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " +
                          name + ".key -subj /CN=" + name + " -out " + name + ".csr";
    if (!san.empty()) command += " -addext 'subjectAltName=" + san + "'";
    const auto r = run_shell(command + " 2>&1");
    REQUIRE(r.exit_code == 0);
    return mcpmtls::read_file(dir.file(name + ".csr"));
}

TokenRequest token_request(LeafKind kind, const std::string& name, std::vector<std::string> dns = {},
                           std::chrono::seconds ttl = std::chrono::hours(24)) {
    TokenRequest request;
    request.kind = kind;
    request.name = name;
    request.names.dns = std::move(dns);
    request.max_ttl = ttl;
    return request;
}

std::string new_token(const TempDir& dir, LeafKind kind, const std::string& name, std::vector<std::string> dns = {},
                      std::chrono::seconds ttl = std::chrono::hours(24)) {
    return create_enrollment_token(CaDirectory(dir.path()), token_request(kind, name, std::move(dns), ttl), "").token;
}

// The refusal `call` throws, with its code; fails the test when it does not throw one.
template <typename Call>
OnlineCaRefusal refusal_of(Call call) {
    try {
        call();
    } catch (const OnlineCaRefusal& refusal) {
        return refusal;
    }
    FAIL("expected an OnlineCaRefusal");
    throw std::logic_error("unreachable");
}

std::vector<std::string> lines_of(const std::string& path) {
    std::vector<std::string> lines;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

void write_lines(const std::string& path, const std::vector<std::string>& lines) {
    std::string text;
    for (const auto& line : lines) text += line + "\n";
    mcpmtls::write_file_atomic(path, text, 0644);
}

CommandResult log_verify(const TempDir& dir) { return pki({"log", "verify", "--dir", dir.path()}); }

size_t leaf_count(const TempDir& dir) {
    size_t n = 0;
    const auto inventory = Inventory::load(dir.file("index.json"));
    for (const auto& entry : inventory.entries()) n += entry.is_leaf() ? 1 : 0;
    return n;
}

// A CA with a provisioner key (made by the first token).
struct OnlineFixture {
    TempDir dir, host;
    OnlineFixture() {
        pki_ok({"init", "--dir", dir.path()});
        new_token(dir, LeafKind::client, "warmup");  // creates provisioner.key and provisioner.pub
    }
    CaDirectory ca_dir() const { return CaDirectory(dir.path()); }
};

}  // namespace

TEST_CASE("an enrollment token round-trips: its claims are what pki token granted", "[ca-core]") {
    TempDir dir;
    pki_ok({"init", "--dir", dir.path()});
    auto request = token_request(LeafKind::server, "weather", {"weather.internal"}, std::chrono::hours(2));
    request.names.ips = {"10.0.0.7"};
    const auto issued = create_enrollment_token(CaDirectory(dir.path()), request, "");
    CHECK(issued.provisioner_created);
    struct stat st {};
    REQUIRE(::stat(dir.file("provisioner.key").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(exists(dir.file("provisioner.pub")));

    const EnrollmentTokenVerifier verifier(mcpmtls::read_file(dir.file("provisioner.pub")));
    const auto grant = verifier.verify(issued.token, system_clock::now());
    CHECK(grant.subject == "weather");
    CHECK(grant.kind == LeafKind::server);
    CHECK(grant.names.dns == std::vector<std::string>{"weather.internal"});
    CHECK(grant.names.ips == std::vector<std::string>{"10.0.0.7"});
    CHECK(grant.max_ttl == std::chrono::hours(2));
    CHECK(grant.jti == issued.grant.jti);
    CHECK(grant.jti.size() == 32);
    // A second token: same key (not a new pair), a different id.
    const auto second = create_enrollment_token(CaDirectory(dir.path()), request, "");
    CHECK_FALSE(second.provisioner_created);
    CHECK(verifier.verify(second.token, system_clock::now()).jti != grant.jti);
}

TEST_CASE("token verification refuses tampering, another key, alg none, expiry and a future nbf", "[ca-core]") {
    TempDir dir, other;
    pki_ok({"init", "--dir", dir.path()});
    pki_ok({"init", "--dir", other.path()});
    const std::string token = new_token(dir, LeafKind::client, "laptop");
    new_token(other, LeafKind::client, "laptop");
    const EnrollmentTokenVerifier verifier(mcpmtls::read_file(dir.file("provisioner.pub")));
    const auto now = system_clock::now();
    auto code_of = [&](const std::string& t, system_clock::time_point at) {
        return refusal_of([&] { verifier.verify(t, at); });
    };
    const auto parts = split_token(token);
    REQUIRE(parts.size() == 3);

    SECTION("a payload changed after signing") {
        auto claims = claims_of(token);
        claims["sub"] = "coordinator";
        const auto refusal = code_of(parts[0] + "." + b64url_encode(claims.dump()) + "." + parts[2], now);
        CHECK(refusal.code() == "token_invalid");
        CHECK(refusal.http_status() == 401);
        CHECK_THAT(refusal.what(), Catch::Contains("not signed by this CA's provisioner key"));
    }
    SECTION("signed by another provisioner key") {
        const auto foreign = PrivateKey::load(other.file("provisioner.key"), "");
        EnrollmentGrant grant = verifier.verify(token, now);
        const auto refusal = code_of(sign_enrollment_token(foreign, grant), now);
        CHECK(refusal.code() == "token_invalid");
        // The same grant signed by the right key passes: the refusal is the key's.
        CHECK_NOTHROW(verifier.verify(sign_enrollment_token(PrivateKey::load(dir.file("provisioner.key"), ""), grant), now));
    }
    SECTION("alg none, HS256, and a DER signature") {
        const std::string none = b64url_encode(R"({"alg":"none","typ":"JWT"})") + "." + parts[1] + ".";
        CHECK_THAT(code_of(none, now).what(), Catch::Contains("alg must be ES256"));
        const std::string hs = b64url_encode(R"({"alg":"HS256","typ":"JWT"})") + "." + parts[1] + "." + parts[2];
        CHECK_THAT(code_of(hs, now).what(), Catch::Contains("alg must be ES256"));
        CHECK(code_of(parts[0] + "." + parts[1] + "." + b64url_encode(std::string(70, 'x')), now).code() == "token_invalid");
        CHECK(code_of("not-a-token", now).code() == "token_invalid");
        CHECK(code_of(parts[0] + "." + parts[1] + "." + parts[2] + ".x", now).code() == "token_invalid");
    }
    SECTION("expired, and not yet valid, beyond 60 s of skew; within it, accepted") {
        const auto grant = verifier.verify(token, now);
        CHECK(code_of(token, grant.expires_at + std::chrono::seconds(61)).code() == "token_expired");
        CHECK_NOTHROW(verifier.verify(token, grant.expires_at + std::chrono::seconds(59)));
        CHECK(code_of(token, grant.not_before - std::chrono::seconds(61)).code() == "token_expired");
        CHECK_NOTHROW(verifier.verify(token, grant.not_before - std::chrono::seconds(59)));
        EnrollmentGrant future = grant;
        future.not_before = now + std::chrono::minutes(5);
        future.expires_at = now + std::chrono::minutes(20);
        const auto signed_future = sign_enrollment_token(PrivateKey::load(dir.file("provisioner.key"), ""), future);
        const auto refusal = code_of(signed_future, now);
        CHECK(refusal.code() == "token_expired");
        CHECK_THAT(refusal.what(), Catch::Contains("not valid before"));
    }
}

TEST_CASE("enroll issues the token's name and kind; a client token yields a clientAuth-only certificate", "[ca-core]") {
    OnlineFixture f;
    OnlineCa ca(f.ca_dir(), {});
    const auto issued = ca.enroll(new_token(f.dir, LeafKind::client, "laptop", {}, std::chrono::hours(2)),
                                  openssl_csr(f.host, "laptop", ""));
    CHECK(issued.name == "laptop");
    CHECK(issued.kind == "client");
    CHECK(issued.roots_pem == mcpmtls::read_file(f.dir.file("ca-bundle.crt")));
    const long lifetime = std::chrono::duration_cast<std::chrono::seconds>(issued.not_after - system_clock::now()).count();
    CHECK(lifetime <= 2 * 3600);
    CHECK(lifetime > 2 * 3600 - 120);
    mcpmtls::write_file_atomic(f.host.file("laptop.crt"), issued.certificate_pem, 0644);
    const auto text = openssl_text(f.host.file("laptop.crt"));
    CHECK(contains(text, "TLS Web Client Authentication"));
    CHECK_FALSE(contains(text, "TLS Web Server Authentication"));
    CHECK(contains(text, "Subject: CN = laptop"));
    // The certificate is for the CSR's key, verifies against the bundle, and is in DIR as pki sign leaves it.
    CHECK(openssl_certificate_public_key(f.host.file("laptop.crt")) == openssl_key_public_key(f.host.file("laptop.key")));
    CHECK(run_command({"openssl", "verify", "-CAfile", f.dir.file("ca-bundle.crt"), "-purpose", "sslclient",
                       f.host.file("laptop.crt")}).exit_code == 0);
    CHECK(openssl_serial(f.dir.file("laptop.crt")) == issued.serial);
    CHECK_FALSE(exists(f.dir.file("laptop.key")));

    // A server token: serverAuth, and the CSR's subset of the granted names.
    const auto server = ca.enroll(new_token(f.dir, LeafKind::server, "weather", {"weather.internal", "w.internal"}),
                                  openssl_csr(f.host, "weather", "DNS:w.internal"));
    mcpmtls::write_file_atomic(f.host.file("weather.crt"), server.certificate_pem, 0644);
    const auto server_text = openssl_text(f.host.file("weather.crt"));
    CHECK(contains(server_text, "TLS Web Server Authentication"));
    CHECK_FALSE(contains(server_text, "TLS Web Client Authentication"));
    CHECK(contains(server_text, "DNS:w.internal"));
    CHECK_FALSE(contains(server_text, "weather.internal"));

    const auto log = lines_of(f.dir.file("issuance.log"));
    const auto last = json::parse(log.back());
    CHECK(last["event"] == "enroll");
    CHECK(last["serial"] == server.serial);
    CHECK(contains(last["by"].get<std::string>(), "token:"));
    CHECK(log_verify(f.dir).exit_code == 0);
}

TEST_CASE("enroll refusals (reused, extra names, bad CSR, wrong key, expired) leave no file behind", "[ca-core]") {
    OnlineFixture f;
    OnlineCa ca(f.ca_dir(), {});
    const std::string csr = openssl_csr(f.host, "api", "DNS:api.internal");
    const std::string token = new_token(f.dir, LeafKind::server, "api", {"api.internal"});

    SECTION("a CSR asking for a name the token does not grant; the token stays usable") {
        const auto before = snapshot(f.dir.path());
        const auto refusal = refusal_of([&] { ca.enroll(token, openssl_csr(f.host, "greedy", "DNS:api.internal,DNS:admin.internal,IP:10.1.1.1")); });
        CHECK(refusal.code() == "not_granted");
        CHECK(refusal.http_status() == 403);
        CHECK_THAT(refusal.what(), Catch::Contains("DNS:admin.internal") && Catch::Contains("IP:10.1.1.1"));
        CHECK_THAT(refusal.what(), !Catch::Contains("DNS:api.internal,"));
        CHECK(snapshot(f.dir.path()) == before);
        CHECK_NOTHROW(ca.enroll(token, csr));
    }
    SECTION("a reused token") {
        ca.enroll(token, csr);
        const auto before = snapshot(f.dir.path());
        const auto refusal = refusal_of([&] { ca.enroll(token, csr); });
        CHECK(refusal.code() == "token_reused");
        CHECK(refusal.http_status() == 409);
        CHECK(snapshot(f.dir.path()) == before);
        // Another OnlineCa (another process of pki serve) reads the same ledger.
        OnlineCa again(f.ca_dir(), {});
        CHECK(refusal_of([&] { again.enroll(token, csr); }).code() == "token_reused");
    }
    SECTION("a CSR that does not parse, and a token signed by another key") {
        const auto before = snapshot(f.dir.path());
        CHECK(refusal_of([&] { ca.enroll(token, "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"); })
                  .code() == "bad_csr");
        TempDir other;
        pki_ok({"init", "--dir", other.path()});
        const auto forged = new_token(other, LeafKind::server, "api", {"api.internal"});
        CHECK(refusal_of([&] { ca.enroll(forged, csr); }).code() == "token_invalid");
        CHECK(snapshot(f.dir.path()) == before);
    }
    SECTION("an expired token") {
        const EnrollmentTokenVerifier verifier(mcpmtls::read_file(f.dir.file("provisioner.pub")));
        auto grant = verifier.verify(token, system_clock::now());
        grant.issued_at = grant.not_before = system_clock::now() - std::chrono::hours(1);
        grant.expires_at = system_clock::now() - std::chrono::minutes(30);
        const auto expired = sign_enrollment_token(PrivateKey::load(f.dir.file("provisioner.key"), ""), grant);
        const auto before = snapshot(f.dir.path());
        const auto refusal = refusal_of([&] { ca.enroll(expired, csr); });
        CHECK(refusal.code() == "token_expired");
        CHECK(snapshot(f.dir.path()) == before);
    }
}

TEST_CASE("enrolling a NAME again supersedes it; --max-ttl caps the token's lifetime", "[ca-core]") {
    OnlineFixture f;
    OnlineCaSettings settings;
    settings.max_ttl = std::chrono::hours(1);
    OnlineCa ca(f.ca_dir(), settings);
    const auto first = ca.enroll(new_token(f.dir, LeafKind::client, "vm1", {}, std::chrono::hours(48)), openssl_csr(f.host, "vm1"));
    const long lifetime = std::chrono::duration_cast<std::chrono::seconds>(first.not_after - system_clock::now()).count();
    CHECK(lifetime <= 3600);
    const auto second = ca.enroll(new_token(f.dir, LeafKind::client, "vm1"), openssl_csr(f.host, "vm1b"));
    CHECK(second.serial != first.serial);
    auto inventory = Inventory::load(f.dir.file("index.json"));
    CHECK(inventory.find_serial(first.serial)->status == "superseded");
    CHECK(inventory.find_current("vm1")->serial == second.serial);
    CHECK(log_verify(f.dir).exit_code == 0);

    // A NAME that pki issue made (its key in DIR): the stale key is moved aside, not left to
    // pair with the new NAME.crt.
    pki_ok({"issue", "client", "vm2", "--dir", f.dir.path()});
    const auto enrolled = ca.enroll(new_token(f.dir, LeafKind::client, "vm2"), openssl_csr(f.host, "vm2"));
    CHECK_FALSE(exists(f.dir.file("vm2.key")));
    CHECK(exists(f.dir.file("vm2.key.superseded")));
    CHECK(openssl_serial(f.dir.file("vm2.crt")) == enrolled.serial);
    CHECK(openssl_certificate_public_key(f.dir.file("vm2.crt")) == openssl_key_public_key(f.host.file("vm2.key")));
    CHECK(log_verify(f.dir).exit_code == 0);
}

TEST_CASE("the used-token ledger drops ids whose tokens can no longer be presented", "[ca-core]") {
    TempDir dir;
    const CaDirectory ca_dir(dir.path());
    const auto now = system_clock::now();
    record_used_token(ca_dir, "old", now - std::chrono::minutes(2));     // expired beyond the skew
    record_used_token(ca_dir, "recent", now - std::chrono::seconds(10));  // within the skew: still presentable
    record_used_token(ca_dir, "live", now + std::chrono::minutes(10));
    CHECK_FALSE(token_was_used(ca_dir, "old"));
    CHECK(token_was_used(ca_dir, "recent"));
    CHECK(token_was_used(ca_dir, "live"));
    CHECK_FALSE(token_was_used(ca_dir, "never"));
    struct stat st {};
    REQUIRE(::stat(dir.file("tokens-used.json").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("renew: a new certificate for the same name; superseded, revoked, expired and foreign ones refused", "[ca-core]") {
    OnlineFixture f;
    OnlineCa ca(f.ca_dir(), {});
    const auto issued = ca.enroll(new_token(f.dir, LeafKind::server, "svc", {"svc.internal"}, std::chrono::hours(3)),
                                  openssl_csr(f.host, "svc"));
    const auto presented = Certificate::parse_all(issued.certificate_pem, "issued").front();

    SECTION("keeping the key, then with a new key; the old one is superseded and refused") {
        const auto renewed = ca.renew(presented, "");
        CHECK(renewed.serial != issued.serial);
        CHECK(renewed.name == "svc");
        CHECK(renewed.kind == "server");
        const auto renewed_cert = Certificate::parse_all(renewed.certificate_pem, "renewed").front();
        CHECK(renewed_cert.subject_alt_names().dns == std::vector<std::string>{"svc.internal"});
        mcpmtls::write_file_atomic(f.host.file("renewed.crt"), renewed.certificate_pem, 0644);
        CHECK(openssl_certificate_public_key(f.host.file("renewed.crt")) == openssl_key_public_key(f.host.file("svc.key")));
        const long lifetime = std::chrono::duration_cast<std::chrono::seconds>(renewed.not_after - system_clock::now()).count();
        CHECK(lifetime <= 3 * 3600);
        CHECK(lifetime > 3 * 3600 - 120);

        const auto before = snapshot(f.dir.path());
        const auto refusal = refusal_of([&] { ca.renew(presented, ""); });
        CHECK(refusal.code() == "certificate_refused");
        CHECK_THAT(refusal.what(), Catch::Contains("superseded"));
        CHECK(snapshot(f.dir.path()) == before);

        // A new key; a CSR asking for a name the certificate lacks is refused, naming it.
        CHECK_THAT(refusal_of([&] { ca.renew(renewed_cert, openssl_csr(f.host, "svc3", "DNS:svc.internal,DNS:other.internal")); }).what(),
                   Catch::Contains("DNS:other.internal"));
        CHECK(snapshot(f.dir.path()) == before);
        const auto rekeyed = ca.renew(renewed_cert, openssl_csr(f.host, "svc2", "DNS:svc.internal"));
        mcpmtls::write_file_atomic(f.host.file("rekeyed.crt"), rekeyed.certificate_pem, 0644);
        CHECK(openssl_certificate_public_key(f.host.file("rekeyed.crt")) == openssl_key_public_key(f.host.file("svc2.key")));

        const auto last = json::parse(lines_of(f.dir.file("issuance.log")).back());
        CHECK(last["event"] == "renew");
        CHECK(last["by"] == "certificate:" + renewed.serial);
        CHECK(log_verify(f.dir).exit_code == 0);
    }
    SECTION("a revoked certificate: revoke by the holder, then renew and revoke again refused") {
        const auto revoked = ca.revoke(presented, "keyCompromise");
        CHECK(revoked.serial == issued.serial);
        const auto crl = run_command({"openssl", "crl", "-inform", "DER", "-in", f.dir.file("ca.crl.der"), "-noout", "-text"});
        REQUIRE(crl.exit_code == 0);
        CHECK(contains(crl.out, "Key Compromise"));
        const auto before = snapshot(f.dir.path());
        CHECK_THAT(refusal_of([&] { ca.renew(presented, ""); }).what(), Catch::Contains("revoked"));
        CHECK(refusal_of([&] { ca.revoke(presented, "unspecified"); }).code() == "certificate_refused");
        CHECK(refusal_of([&] { ca.revoke(presented, "because"); }).code() == "bad_request");
        CHECK(snapshot(f.dir.path()) == before);
        const auto last = json::parse(lines_of(f.dir.file("issuance.log")).back());
        CHECK(last["event"] == "revoke");
        CHECK(last["by"] == "certificate:" + issued.serial);
        CHECK(log_verify(f.dir).exit_code == 0);
    }
    SECTION("an expired certificate of this CA, and one of another CA") {
        OpensslCa::issue_with(f.dir.file("ca.crt"), f.dir.file("ca.key"), f.host.path(), "old", "clientAuth", "",
                              "20200101000000Z", "20200201000000Z");
        const auto old = Certificate::load(f.host.file("old.crt"));
        {
            mcpmtls::FileLock lock(f.ca_dir().lock());
            auto inventory = Inventory::load(f.dir.file("index.json"));
            inventory.add(InventoryEntry::from_certificate(old, "old", "client", Certificate::load(f.dir.file("ca.crt")).fingerprint_sha256()));
            inventory.save(f.dir.file("index.json"));
        }
        const auto before = snapshot(f.dir.path());
        const auto expired = refusal_of([&] { ca.renew(old, ""); });
        CHECK(expired.code() == "certificate_refused");
        CHECK_THAT(expired.what(), Catch::Contains("expired"));

        TempDir foreign;
        pki_ok({"init", "--dir", foreign.path()});
        pki_ok({"issue", "server", "svc", "--dns", "svc.internal", "--dir", foreign.path()});
        const auto stranger = Certificate::load(foreign.file("svc.crt"));
        const auto refusal = refusal_of([&] { ca.renew(stranger, ""); });
        CHECK(refusal.code() == "certificate_refused");
        CHECK_THAT(refusal.what(), Catch::Contains("not issued by this CA"));
        CHECK(snapshot(f.dir.path()) == before);
    }
}

TEST_CASE("50 enrollments from 50 threads: 50 distinct serials, index has 50, the log verifies", "[ca-core]") {
    OnlineFixture f;
    const std::string csr = openssl_csr(f.host, "shared");
    std::vector<std::string> tokens;
    for (int i = 0; i < 50; ++i) tokens.push_back(new_token(f.dir, LeafKind::client, "node" + std::to_string(i)));
    OnlineCa ca(f.ca_dir(), {});
    std::vector<std::string> serials(50);
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 50; ++i)
        threads.emplace_back([&, i] {
            try {
                serials[i] = ca.enroll(tokens[i], csr).serial;
            } catch (const std::exception&) {
                ++failures;
            }
        });
    for (auto& t : threads) t.join();
    CHECK(failures == 0);
    CHECK(std::set<std::string>(serials.begin(), serials.end()).size() == 50);
    CHECK(leaf_count(f.dir) == 50);
    CHECK(lines_of(f.dir.file("issuance.log")).size() == 51);  // the CA, then 50
    const auto r = log_verify(f.dir);
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, "51 lines, chain intact, index.json agrees"));
}

TEST_CASE("8 processes (enrolling children and pki issue) never corrupt the log or repeat a serial", "[ca-core]") {
    OnlineFixture f;
    const std::string csr = openssl_csr(f.host, "shared");
    constexpr int kChildren = 6, kEach = 5;
    std::vector<std::vector<std::string>> tokens(kChildren);
    for (int c = 0; c < kChildren; ++c)
        for (int i = 0; i < kEach; ++i)
            tokens[c].push_back(new_token(f.dir, LeafKind::client, "p" + std::to_string(c) + "-" + std::to_string(i)));
    // Two more processes: shell loops of pki issue, running while the children enroll.
    const std::string pki_bin = bin_path("pki");
    std::string loops = "pids=''; ";
    for (int p = 0; p < 2; ++p)
        loops += "(for i in 1 2 3 4 5; do '" + pki_bin + "' issue client cli" + std::to_string(p) +
                 "-$i --dir '" + f.dir.path() + "' >/dev/null || exit 1; done) & pids=\"$pids $!\"; ";
    std::vector<pid_t> children;
    for (int c = 0; c < kChildren; ++c) {
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            int status = 0;
            try {
                OnlineCa ca(f.ca_dir(), {});
                for (const auto& token : tokens[c]) ca.enroll(token, csr);
            } catch (...) {
                status = 1;
            }
            ::_exit(status);
        }
        children.push_back(pid);
    }
    const auto shell = run_shell(loops + "for p in $pids; do wait $p || exit 1; done");
    CHECK(shell.exit_code == 0);
    for (const pid_t pid : children) {
        int status = 0;
        REQUIRE(::waitpid(pid, &status, 0) == pid);
        CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
    }
    const auto inventory = Inventory::load(f.dir.file("index.json"));
    std::set<std::string> serials;
    for (const auto& entry : inventory.entries()) serials.insert(entry.serial);
    CHECK(serials.size() == inventory.entries().size());
    CHECK(leaf_count(f.dir) == kChildren * kEach + 10);
    const auto r = log_verify(f.dir);
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, std::to_string(1 + kChildren * kEach + 10) + " lines"));
}

TEST_CASE("pki token prints only the JWS, with the claims asked for; a passphrase protects a new provisioner key", "[ca-core]") {
    TempDir dir, secrets;
    pki_ok({"init", "--dir", dir.path()});
    const auto r = pki({"token", "server", "weather", "--dns", "weather.internal", "--ip", "10.0.0.9", "--ttl", "2h",
                        "--token-ttl", "10m", "--dir", dir.path()});
    REQUIRE(r.exit_code == 0);
    CHECK(line_count(r.out) == 1);
    const std::string token = trimmed(r.out);
    const auto parts = split_token(token);
    REQUIRE(parts.size() == 3);
    CHECK(json::parse(b64url_decode(parts[0]))["alg"] == "ES256");
    CHECK(b64url_decode(parts[2]).size() == 64);
    const auto claims = claims_of(token);
    CHECK(claims["iss"] == "mcp-mtls-pki");
    CHECK(claims["aud"] == "mcp-mtls-enroll");
    CHECK(claims["sub"] == "weather");
    CHECK(claims["kind"] == "server");
    CHECK(claims["dns"] == json::array({"weather.internal"}));
    CHECK(claims["ip"] == json::array({"10.0.0.9"}));
    CHECK(claims["max_ttl"] == 7200);
    CHECK(claims["exp"].get<long>() - claims["iat"].get<long>() == 600);
    CHECK(claims["jti"].get<std::string>().size() == 32);
    CHECK(contains(r.err, "provisioner"));
    CHECK_FALSE(contains(r.err, token));
    // Nothing in DIR holds the token.
    for (const auto& [file, content] : snapshot(dir.path())) CHECK_FALSE(contains(content, parts[2]));
    // The token verifies with provisioner.pub (the key openssl reads as P-256).
    const auto pub = run_command({"openssl", "pkey", "-pubin", "-in", dir.file("provisioner.pub"), "-noout", "-text"});
    CHECK(contains(pub.out, "prime256v1"));

    // Refusals: a bad kind, a bad name, no CA.
    CHECK(pki({"token", "root", "x", "--dir", dir.path()}).exit_code == 2);
    CHECK(pki({"token", "client", "provisioner", "--dir", dir.path()}).exit_code == 2);
    TempDir empty;
    const auto no_ca = pki({"token", "client", "x", "--dir", empty.path()});
    CHECK(no_ca.exit_code == 2);
    CHECK(no_ca.out.empty());

    // An encrypted provisioner key: needed again for the next token.
    TempDir locked;
    pki_ok({"init", "--dir", locked.path()});
    mcpmtls::write_file_atomic(secrets.file("pass"), "provisioner secret\n", 0600);
    pki_ok({"token", "client", "a", "--passphrase-file", secrets.file("pass"), "--dir", locked.path()});
    CHECK(contains(mcpmtls::read_file(locked.file("provisioner.key")), "ENCRYPTED PRIVATE KEY"));
    const auto without = pki({"token", "client", "b", "--dir", locked.path()});
    CHECK(without.exit_code == 2);
    CHECK(contains(without.err, "PKI_PROVISIONER_PASSPHRASE"));
    CHECK(pki({"token", "client", "b", "--dir", locked.path()}, {{"PKI_PROVISIONER_PASSPHRASE", "provisioner secret"}}).exit_code == 0);
}

TEST_CASE("pki log verify: OK after offline issue, sign, revoke, rotate and renew", "[ca-core][issuance-log]") {
    TempDir dir, host;
    pki_ok({"init", "--dir", dir.path()});
    pki_ok({"issue", "server", "a", "--dir", dir.path()});
    pki_ok({"issue", "client", "b", "--days", "5", "--dir", dir.path()});
    openssl_csr(host, "c");
    pki_ok({"sign", "client", "c", "--csr", host.file("c.csr"), "--dir", dir.path()});
    pki_ok({"issue", "client", "d", "--days", "5", "--dir", dir.path()});
    pki_ok({"revoke", "b", "--dir", dir.path()});
    pki_ok({"rotate", "a", "--dir", dir.path()});
    pki_ok({"renew", "--within", "30d", "--dir", dir.path()});  // d (b is revoked)
    std::vector<std::string> events;
    for (const auto& line : lines_of(dir.file("issuance.log"))) events.push_back(json::parse(line)["event"].get<std::string>());
    CHECK(events == std::vector<std::string>{"issue", "issue", "issue", "sign", "issue", "revoke", "rotate", "renew"});
    CHECK(json::parse(lines_of(dir.file("issuance.log"))[5])["reason"] == "unspecified");
    const auto r = log_verify(dir);
    CHECK(r.exit_code == 0);
    CHECK(trimmed(r.out) == "issuance.log: 8 lines, chain intact, index.json agrees");
    const auto first = json::parse(lines_of(dir.file("issuance.log")).front());
    CHECK(first["prev"] == std::string(64, '0'));
    CHECK(first["seq"] == 1);
    CHECK(first["by"] == "offline");
}

TEST_CASE("pki log verify names the first bad line: an edited byte, a deleted line, reordered lines, an unlogged entry", "[ca-core][issuance-log]") {
    TempDir dir;
    pki_ok({"init", "--dir", dir.path()});
    for (const char* name : {"a", "b", "c"}) pki_ok({"issue", "client", name, "--dir", dir.path()});
    const std::string log = dir.file("issuance.log");
    const auto lines = lines_of(log);
    REQUIRE(lines.size() == 4);
    REQUIRE(log_verify(dir).exit_code == 0);

    SECTION("one byte of line 2 changed") {
        auto edited = lines;
        const auto at = edited[1].find("\"name\":\"a\"");
        REQUIRE(at != std::string::npos);
        edited[1][at + 8] = 'z';
        write_lines(log, edited);
        const auto r = log_verify(dir);
        CHECK(r.exit_code == 1);
        CHECK(contains(r.err, "issuance.log line 3: prev does not match the SHA-256 of line 2"));
    }
    SECTION("line 2 deleted") {
        auto fewer = lines;
        fewer.erase(fewer.begin() + 1);
        write_lines(log, fewer);
        const auto r = log_verify(dir);
        CHECK(r.exit_code == 1);
        CHECK(contains(r.err, "issuance.log line 2: seq is 3, expected 2"));
    }
    SECTION("lines 2 and 3 swapped") {
        auto swapped = lines;
        std::swap(swapped[1], swapped[2]);
        write_lines(log, swapped);
        const auto r = log_verify(dir);
        CHECK(r.exit_code == 1);
        CHECK(contains(r.err, "issuance.log line 2: seq is 3, expected 2"));
    }
    SECTION("the last line edited (no line after it to break): the cross-check catches it") {
        auto edited = lines;
        const auto at = edited[3].find("\"serial\":\"");
        REQUIRE(at != std::string::npos);
        char& c = edited[3][at + 10];
        c = c == 'a' ? 'b' : 'a';
        write_lines(log, edited);
        const auto r = log_verify(dir);
        CHECK(r.exit_code == 1);
        CHECK(contains(r.err, "issuance.log line 4: serial"));
    }
    SECTION("index.json gains an entry the log lacks") {
        pki_ok({"issue", "client", "d", "--dir", dir.path()});
        write_lines(log, lines);  // the log as it was before d
        const auto r = log_verify(dir);
        CHECK(r.exit_code == 1);
        CHECK(contains(r.err, "index.json: 'd'"));
        CHECK(contains(r.err, "has no line in issuance.log"));
    }
    SECTION("a torn last line; and no log at all beside an inventory") {
        mcpmtls::write_file_atomic(log, mcpmtls::read_file(log) + "{\"seq\":5", 0644);
        CHECK(contains(log_verify(dir).err, "line 5: torn"));
        // Nothing is appended to a log that does not verify: pki issue fails and writes nothing.
        const auto before = snapshot(dir.path());
        CHECK(pki({"issue", "client", "e", "--dir", dir.path()}).exit_code == 1);
        CHECK(snapshot(dir.path()) == before);
        ::unlink(log.c_str());
        const auto r = log_verify(dir);
        CHECK(r.exit_code == 1);
        CHECK(contains(r.err, "no issuance.log"));
        CHECK(contains(r.err, "4 certificates in index.json predate it"));
        TempDir empty;
        CHECK(log_verify(empty).exit_code == 2);
    }
}

TEST_CASE("init --intermediate logs in ROOTDIR; the intermediate's DIR starts its own log", "[ca-core][issuance-log]") {
    TempDir root, mid;
    pki_ok({"init", "--path-len", "1", "--dir", root.path()});
    pki_ok({"init", "--intermediate", "--root-dir", root.path(), "--dir", mid.path()});
    CHECK(lines_of(root.file("issuance.log")).size() == 2);
    CHECK(json::parse(lines_of(root.file("issuance.log")).back())["kind"] == "intermediate");
    CHECK(log_verify(root).exit_code == 0);
    pki_ok({"issue", "server", "s", "--dir", mid.path()});
    CHECK(log_verify(mid).exit_code == 0);
    // The online CA's chain for an intermediate: leaf + intermediate, the root left to the trust bundle.
    new_token(mid, LeafKind::client, "warm");
    OnlineCa ca(CaDirectory(mid.path()), {});
    TempDir host;
    const auto issued = ca.enroll(new_token(mid, LeafKind::client, "x"), openssl_csr(host, "x"));
    CHECK(Certificate::parse_all(issued.chain_pem, "chain").size() == 2);
    CHECK(issued.roots_pem == mcpmtls::read_file(root.file("ca.crt")));
}

TEST_CASE("the online CA's CRL in DER is written when missing and served as is while fresh", "[ca-core]") {
    OnlineFixture f;
    OnlineCa ca(f.ca_dir(), {});
    CHECK_FALSE(exists(f.dir.file("ca.crl.der")));
    const std::string der = ca.crl_der();
    CHECK(exists(f.dir.file("ca.crl.der")));
    CHECK(run_command({"openssl", "crl", "-inform", "DER", "-in", f.dir.file("ca.crl.der"), "-noout"}).exit_code == 0);
    CHECK(ca.crl_der() == der);  // fresh: not signed again
    CHECK(ca.roots_pem() == mcpmtls::read_file(f.dir.file("ca-bundle.crt")));
    // No provisioner key: the online CA refuses to start, naming what to run.
    TempDir bare;
    pki_ok({"init", "--dir", bare.path()});
    CHECK_THROWS_WITH(OnlineCa(CaDirectory(bare.path()), {}), Catch::Contains("pki token"));
}
