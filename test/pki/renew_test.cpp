// pki renew for a timer: only what expires within the window changes serial, --dry-run changes
// nothing, a failure exits 1 with every file intact; and the CRL in DER that HTTP servers publish.
#include "test/pki/pki_support.hpp"

#include <catch2/catch.hpp>

#include <cctype>
#include <ctime>

using namespace mcpmtls::testing;

namespace {

// soon (10 days), later (60 days), brief (2 hours), held (from a CSR, 5 days), gone (revoked, 5 days).
void populate(const TempDir& dir, const TempDir& host, const std::map<std::string, std::string>& env = {}) {
    pki_ok({"issue", "server", "soon", "--days", "10", "--dir", dir.path()}, env);
    pki_ok({"issue", "client", "later", "--days", "60", "--dir", dir.path()}, env);
    pki_ok({"issue", "client", "brief", "--ttl", "2h", "--dir", dir.path()}, env);
    run_shell("cd '" + host.path() + "' && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout held.key "
              "-subj /CN=held -out held.csr 2>/dev/null");
    pki_ok({"sign", "client", "held", "--csr", host.file("held.csr"), "--days", "5", "--dir", dir.path()}, env);
    pki_ok({"issue", "client", "gone", "--days", "5", "--dir", dir.path()}, env);
    pki_ok({"revoke", "gone", "--dir", dir.path()}, env);
}

std::string upper(std::string text) {
    for (auto& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return text;
}

std::map<std::string, std::string> serials(const TempDir& dir) {
    std::map<std::string, std::string> out;
    for (const char* name : {"soon", "later", "brief", "held", "gone"}) out[name] = openssl_serial(dir.file(std::string(name) + ".crt"));
    return out;
}

}  // namespace

TEST_CASE("renew --within rotates exactly the leaves inside the window; --dry-run changes nothing", "[pki]") {
    TempDir dir, host;
    pki_ok({"init", "--dir", dir.path()});
    populate(dir, host);
    const auto before = serials(dir);
    const auto files_before = snapshot(dir.path());

    const auto dry = pki({"renew", "--within", "30d", "--dry-run", "--dir", dir.path()});
    CHECK(dry.exit_code == 0);
    CHECK(line_count(dry.out) == 3);
    for (const char* name : {"soon", "brief", "held"}) CHECK(contains(dry.out, std::string("would renew ") + name + " "));
    CHECK(snapshot(dir.path()) == files_before);

    const auto renewed = pki({"renew", "--within", "30d", "--dir", dir.path()});
    INFO(renewed.all());
    CHECK(renewed.exit_code == 0);
    CHECK(line_count(renewed.out) == 3);
    CHECK(contains(renewed.out, "renewed held: serial " + before.at("held")));
    CHECK(contains(renewed.out, "(same key, from its CSR)"));
    const auto after = serials(dir);
    for (const char* name : {"soon", "brief", "held"}) CHECK(after.at(name) != before.at(name));
    for (const char* name : {"later", "gone"}) CHECK(after.at(name) == before.at(name));

    // New keys where the key is ours; the holder's key where it came from a CSR.
    CHECK(read_text(dir.file("soon.key")) != files_before.at("soon.key"));
    CHECK(openssl_certificate_public_key(dir.file("soon.crt")) == openssl_key_public_key(dir.file("soon.key")));
    CHECK(openssl_certificate_public_key(dir.file("held.crt")) == openssl_key_public_key(host.file("held.key")));
    CHECK_FALSE(exists(dir.file("held.key")));
    // Same lifetime as requested (2 hours stays 2 hours), and openssl accepts the new chain.
    CHECK(std::labs(openssl_not_after(dir.file("brief.crt")) - (static_cast<long>(std::time(nullptr)) + 7200)) <= 60);
    for (const char* name : {"soon", "brief", "held"})
        CHECK(run_command({"openssl", "verify", "-CAfile", dir.file("ca-bundle.crt"), dir.file(std::string(name) + ".crt")}).exit_code == 0);

    // Nothing left in the window: exit 0 and a line that says so.
    const auto again = pki({"renew", "--within", "1h", "--dir", dir.path()});
    CHECK(again.exit_code == 0);
    CHECK(contains(again.out, "nothing expires within 1h"));
    CHECK(pki({"renew", "--dir", dir.path()}).exit_code == 2);
    CHECK(pki({"renew", "--within", "soon", "--dir", dir.path()}).exit_code == 2);
}

TEST_CASE("renew with a locked CA key exits 1, one line per certificate, and leaves every file intact", "[pki]") {
    TempDir dir, host;
    const std::map<std::string, std::string> secret = {{"PKI_PASSPHRASE", "ca secret"}};
    pki_ok({"init", "--dir", dir.path()}, secret);
    populate(dir, host, secret);
    const auto files_before = snapshot(dir.path());

    const auto locked = pki({"renew", "--within", "30d", "--dir", dir.path()});
    CHECK(locked.exit_code == 1);
    CHECK(line_count(locked.out) == 3);
    for (const char* name : {"soon", "brief", "held"}) CHECK(contains(locked.out, std::string("failed ") + name + " "));
    CHECK(contains(locked.out, "is encrypted"));
    CHECK(line_count(locked.err) == 1);
    CHECK(snapshot(dir.path()) == files_before);

    const auto wrong = pki({"renew", "--within", "30d", "--dir", dir.path()}, {{"PKI_PASSPHRASE", "not it"}});
    CHECK(wrong.exit_code == 1);
    CHECK(snapshot(dir.path()) == files_before);

    CHECK(pki({"renew", "--within", "30d", "--dir", dir.path()}, secret).exit_code == 0);
    CHECK(snapshot(dir.path()) != files_before);
}

TEST_CASE("crl --der writes the DER form that openssl reads, and keeps it in step with later revocations", "[pki]") {
    TempDir dir;
    pki_ok({"init", "--dir", dir.path()});
    pki_ok({"issue", "client", "first", "--dir", dir.path()});
    pki_ok({"issue", "client", "second", "--dir", dir.path()});
    pki_ok({"crl", "--dir", dir.path()});
    CHECK_FALSE(exists(dir.file("ca.crl.der")));  // only when asked for

    pki_ok({"revoke", "first", "--dir", dir.path()});
    const auto r = pki({"crl", "--der", "--dir", dir.path()});
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, dir.file("ca.crl.der")));
    auto der_text = [&] {
        return run_command({"openssl", "crl", "-inform", "DER", "-in", dir.file("ca.crl.der"), "-noout", "-text"});
    };
    const auto first = der_text();
    CHECK(first.exit_code == 0);
    CHECK(contains(first.out, upper(openssl_serial(dir.file("first.crt")))));
    CHECK(run_command({"openssl", "crl", "-inform", "DER", "-in", dir.file("ca.crl.der"), "-CAfile", dir.file("ca.crt"), "-noout"})
              .exit_code == 0);
    // Same CRL as the PEM file.
    CHECK(run_command({"openssl", "crl", "-in", dir.file("ca.crl"), "-outform", "DER"}).out == read_text(dir.file("ca.crl.der")));

    pki_ok({"revoke", "second", "--dir", dir.path()});
    const auto later = der_text();
    CHECK(contains(later.out, upper(openssl_serial(dir.file("second.crt")))));
}
