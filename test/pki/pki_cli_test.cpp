// bin/pki end to end, with the openssl CLI as the independent second opinion.
#include "test/support/fixtures.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <set>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

using namespace mcpmtls::testing;
using nlohmann::json;

namespace {

CommandResult pki(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {}) {
    std::vector<std::string> argv = {bin_path("pki")};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, env);
}

int mode_of(const std::string& path) {
    struct stat st {};
    return stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 0777) : -1;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string openssl_text(const std::string& cert) { return run_shell("openssl x509 -noout -text -in '" + cert + "'").out; }

}  // namespace

TEST_CASE("certificates interoperate: openssl verify accepts them for their purpose only", "[pki]") {
    TempDir dir;
    const auto d = dir.path();
    REQUIRE(pki({"init", "--dir", d}).exit_code == 0);
    REQUIRE(pki({"issue", "server", "web", "--dir", d}).exit_code == 0);
    REQUIRE(pki({"issue", "client", "coordinator", "--uri", "spiffe://demo/coordinator", "--dir", d}).exit_code == 0);
    auto verify = [&](const std::string& purpose, const std::string& cert) {
        return run_command({"openssl", "verify", "-CAfile", dir.file("ca.crt"), "-purpose", purpose, dir.file(cert)}).exit_code;
    };
    CHECK(verify("sslserver", "web.crt") == 0);
    CHECK(verify("sslclient", "coordinator.crt") == 0);
    CHECK(verify("sslclient", "web.crt") != 0);
    CHECK(verify("sslserver", "coordinator.crt") != 0);
}

TEST_CASE("the CA and leaf profiles are what operators expect", "[pki]") {
    TempDir dir;
    const auto d = dir.path();
    REQUIRE(pki({"init", "--dir", d}).exit_code == 0);
    REQUIRE(pki({"issue", "server", "web", "--dir", d}).exit_code == 0);
    const std::string ca = openssl_text(dir.file("ca.crt"));
    CHECK(contains(ca, "Version: 3 (0x2)"));
    CHECK(contains(ca, "X509v3 Basic Constraints: critical\n                CA:TRUE"));
    CHECK(contains(ca, "X509v3 Key Usage: critical\n                Certificate Sign, CRL Sign"));
    CHECK(contains(ca, "X509v3 Subject Key Identifier"));
    CHECK(contains(ca, "X509v3 Authority Key Identifier"));
    CHECK(contains(ca, "ASN1 OID: prime256v1"));
    // A positive serial of at least 128 bits: 20 bytes, first byte below 0x80.
    auto serial = run_shell("openssl x509 -noout -serial -in '" + dir.file("ca.crt") + "' | cut -d= -f2").out;
    serial = serial.substr(0, serial.find('\n'));
    CHECK(serial.size() >= 32);
    CHECK(std::stoi(serial.substr(0, 1), nullptr, 16) < 8);
    // notBefore backdated a few minutes, ten years of validity.
    auto start = run_shell("date -d \"$(openssl x509 -noout -startdate -in '" + dir.file("ca.crt") + "' | cut -d= -f2)\" +%s").out;
    auto end = run_shell("date -d \"$(openssl x509 -noout -enddate -in '" + dir.file("ca.crt") + "' | cut -d= -f2)\" +%s").out;
    const long now = static_cast<long>(time(nullptr));
    CHECK(now - std::stol(start) >= 60);
    CHECK(now - std::stol(start) <= 3600);
    CHECK(std::stol(end) - now > 3649L * 86400);

    const std::string leaf = openssl_text(dir.file("web.crt"));
    CHECK(contains(leaf, "CA:FALSE"));
    CHECK(contains(leaf, "TLS Web Server Authentication"));
    CHECK(contains(leaf, "DNS:localhost, IP Address:127.0.0.1"));
    CHECK(contains(leaf, "X509v3 Key Usage: critical\n                Digital Signature"));
    auto leaf_end = run_shell("date -d \"$(openssl x509 -noout -enddate -in '" + dir.file("web.crt") + "' | cut -d= -f2)\" +%s").out;
    CHECK(std::abs(std::stol(leaf_end) - now - 90L * 86400) < 3600);
}

TEST_CASE("every key type makes a CA that issues certificates openssl accepts", "[pki]") {
    for (const std::string type : {"ecdsa-p256", "ecdsa-p384", "ed25519", "rsa-3072"}) {
        TempDir dir;
        INFO(type);
        REQUIRE(pki({"init", "--dir", dir.path(), "--key-type", type}).exit_code == 0);
        REQUIRE(pki({"issue", "client", "c", "--dir", dir.path(), "--key-type", type == "rsa-3072" ? "ecdsa-p256" : type}).exit_code == 0);
        CHECK(run_command({"openssl", "verify", "-CAfile", dir.file("ca.crt"), "-purpose", "sslclient", dir.file("c.crt")}).exit_code == 0);
    }
    CHECK(pki({"init", "--dir", "/tmp/never-made", "--key-type", "dsa-1024"}).exit_code == 2);
}

TEST_CASE("the directory holds the files of the contract, keys 0600, and an inventory", "[pki]") {
    TempDir dir;
    const auto d = dir.path();
    REQUIRE(pki({"init", "--dir", d}).exit_code == 0);
    REQUIRE(pki({"issue", "client", "coordinator", "--uri", "spiffe://demo/coordinator", "--dir", d}).exit_code == 0);
    CHECK(mode_of(dir.file("ca.key")) == 0600);
    CHECK(mode_of(dir.file("coordinator.key")) == 0600);
    CHECK(read_text(dir.file("ca-bundle.crt")) == read_text(dir.file("ca.crt")));
    const std::string chain = read_text(dir.file("coordinator.crt"));
    CHECK(chain.find("BEGIN CERTIFICATE") != chain.rfind("BEGIN CERTIFICATE"));  // leaf, then the CA
    CHECK(contains(chain, read_text(dir.file("ca.crt"))));
    auto index = json::parse(read_text(dir.file("index.json")));
    REQUIRE(index["certificates"].size() == 2);
    const auto& entry = index["certificates"][1];
    for (const char* field : {"name", "kind", "serial", "subject", "sans", "not_before", "not_after", "fingerprint_sha256", "status"})
        CHECK(entry.contains(field));
    CHECK(entry["sans"]["uri"][0] == "spiffe://demo/coordinator");
    auto ls = run_shell("ls -A '" + d + "' | grep -c tmp || true");
    CHECK(ls.out == "0\n");
}

TEST_CASE("pki init refuses to replace a CA without --force and changes nothing", "[pki]") {
    TempDir dir;
    REQUIRE(pki({"init", "--dir", dir.path()}).exit_code == 0);
    const std::string before = read_text(dir.file("ca.crt")) + read_text(dir.file("ca.key"));
    auto again = pki({"init", "--dir", dir.path()});
    CHECK(again.exit_code == 1);
    CHECK(contains(again.err, "--force"));
    CHECK(read_text(dir.file("ca.crt")) + read_text(dir.file("ca.key")) == before);
    CHECK(pki({"init", "--dir", dir.path(), "--force"}).exit_code == 0);
    CHECK(read_text(dir.file("ca.crt")) != before.substr(0, read_text(dir.file("ca.crt")).size()));
}

TEST_CASE("an encrypted CA key needs its passphrase, and a wrong one writes nothing", "[pki]") {
    TempDir dir;
    const auto d = dir.path();
    REQUIRE(pki({"init", "--dir", d}, {{"PKI_PASSPHRASE", "correct horse"}}).exit_code == 0);
    CHECK(contains(read_text(dir.file("ca.key")), "BEGIN ENCRYPTED PRIVATE KEY"));
    CHECK(run_command({"openssl", "pkey", "-in", dir.file("ca.key"), "-passin", "pass:correct horse", "-noout"}).exit_code == 0);

    auto missing = pki({"issue", "client", "a", "--dir", d});
    CHECK(missing.exit_code == 2);
    CHECK(contains(missing.err, "PKI_PASSPHRASE"));
    auto wrong = pki({"issue", "client", "a", "--dir", d}, {{"PKI_PASSPHRASE", "wrong"}});
    CHECK(wrong.exit_code == 2);
    CHECK(contains(wrong.err, "wrong passphrase"));
    CHECK_FALSE(run_shell("test -e '" + dir.file("a.crt") + "' || test -e '" + dir.file("a.key") + "'").exit_code == 0);

    write_text(dir.file("pass.txt"), "correct horse\n");
    CHECK(pki({"issue", "client", "a", "--dir", d, "--passphrase-file", dir.file("pass.txt")}).exit_code == 0);
}

TEST_CASE("bad input is one line on stderr, exit 2, and no partial file", "[pki]") {
    TempDir dir;
    const auto d = dir.path();
    REQUIRE(pki({"init", "--dir", d}).exit_code == 0);
    write_text(dir.file("garbage.pem"), "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
    const std::string files_before = run_shell("ls '" + d + "'").out;
    struct Case {
        std::vector<std::string> args;
        std::string message;
    };
    const std::vector<Case> cases = {
        {{"issue", "server", "s", "--ip", "999.1.1.1", "--dir", d}, "bad IP address"},
        {{"issue", "server", "s", "--dns", "bad_name!", "--dir", d}, "bad DNS name"},
        {{"issue", "client", "../x", "--dir", d}, "path separator"},
        {{"issue", "client", "", "--dir", d}, "cannot be empty"},
        {{"issue", "client", "c", "--bogus", "--dir", d}, "unknown flag --bogus"},
        {{"issue", "client", "c", "--days", "ten", "--dir", d}, "whole number"},
        {{"issue", "robot", "c", "--dir", d}, "'server' or 'client'"},
        {{"inspect", dir.file("missing.crt")}, "cannot read"},
        {{"inspect", dir.file("garbage.pem")}, "corrupt PEM"},
        {{"verify", "--ca", dir.file("garbage.pem"), dir.file("ca.crt")}, "corrupt PEM"},
        {{"frobnicate"}, "unknown command"},
    };
    for (const auto& c : cases) {
        auto r = pki(c.args);
        INFO(c.args.front() << " " << (c.args.size() > 2 ? c.args[2] : ""));
        CHECK(r.exit_code == 2);
        CHECK(contains(r.err, c.message));
        CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    }
    CHECK(run_shell("ls '" + d + "'").out == files_before);
    REQUIRE(pki({"issue", "client", "dup", "--dir", d}).exit_code == 0);
    CHECK(pki({"issue", "client", "dup", "--dir", d}).exit_code == 1);
}

TEST_CASE("20 concurrent pki issue runs leave 20 entries with distinct serials", "[pki]") {
    TempDir dir;
    REQUIRE(pki({"init", "--dir", dir.path()}).exit_code == 0);
    std::vector<pid_t> children;
    for (int i = 0; i < 20; ++i) {
        pid_t pid = fork();
        if (pid == 0) {
            std::string name = "c" + std::to_string(i);
            std::string bin = bin_path("pki");
            int null_fd = ::open("/dev/null", O_WRONLY);
            dup2(null_fd, 1);
            execl(bin.c_str(), bin.c_str(), "issue", "client", name.c_str(), "--dir", dir.path().c_str(), nullptr);
            _exit(127);
        }
        children.push_back(pid);
    }
    int failures = 0;
    for (pid_t pid : children) {
        int status = 0;
        waitpid(pid, &status, 0);
        failures += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    CHECK(failures == 0);
    auto index = json::parse(read_text(dir.file("index.json")));
    std::set<std::string> serials, names;
    for (const auto& entry : index["certificates"]) {
        if (entry["kind"] != "client") continue;
        serials.insert(entry["serial"].get<std::string>());
        names.insert(entry["name"].get<std::string>());
    }
    CHECK(names.size() == 20);
    CHECK(serials.size() == 20);
    for (int i = 0; i < 20; ++i)
        CHECK(pki({"verify", "--ca", dir.file("ca-bundle.crt"), "--purpose", "client", dir.file("c" + std::to_string(i) + ".crt")}).exit_code == 0);
}

TEST_CASE("pki list shows a table, JSON, and --expiring exits 1 when something expires soon", "[pki]") {
    TempDir dir;
    const auto d = dir.path();
    REQUIRE(pki({"init", "--dir", d}).exit_code == 0);
    REQUIRE(pki({"issue", "client", "long", "--dir", d}).exit_code == 0);
    auto table = pki({"list", "--dir", d});
    CHECK(contains(table.out, "NAME"));
    CHECK(contains(table.out, "long"));
    auto list = json::parse(pki({"list", "--dir", d, "--json"}).out);
    REQUIRE(list.is_array());
    for (const char* field : {"name", "kind", "serial", "not_after", "status"}) CHECK(list[1].contains(field));
    CHECK(pki({"list", "--dir", d, "--expiring", "30d"}).exit_code == 0);
    REQUIRE(pki({"issue", "client", "short", "--days", "10", "--dir", d}).exit_code == 0);
    auto soon = pki({"list", "--dir", d, "--expiring", "30d"});
    CHECK(soon.exit_code == 1);
    CHECK(contains(soon.out, "short"));
    CHECK_FALSE(contains(soon.out, "long "));
}

TEST_CASE("pki inspect agrees with openssl on the fingerprint and shows names and validity", "[pki]") {
    TempDir dir;
    REQUIRE(pki({"init", "--dir", dir.path()}).exit_code == 0);
    REQUIRE(pki({"issue", "server", "web", "--dns", "web.example", "--ip", "::1", "--dir", dir.path()}).exit_code == 0);
    auto shown = pki({"inspect", dir.file("web.crt")});
    CHECK(shown.exit_code == 0);
    CHECK(contains(shown.out, "Subject: CN=web"));
    CHECK(contains(shown.out, "DNS:web.example, IP:::1"));
    CHECK(contains(shown.out, "Not After"));
    auto fp = run_shell("openssl x509 -noout -fingerprint -sha256 -in '" + dir.file("web.crt") + "' | cut -d= -f2 | tr A-F a-f").out;
    CHECK(contains(shown.out, fp.substr(0, fp.find('\n'))));
}

TEST_CASE("pki revoke writes a CRL that openssl verifies, and pki crl increases its number", "[pki]") {
    TempDir dir;
    const auto d = dir.path();
    REQUIRE(pki({"init", "--dir", d}).exit_code == 0);
    REQUIRE(pki({"issue", "client", "gone", "--dir", d}).exit_code == 0);
    const auto serial = json::parse(read_text(dir.file("index.json")))["certificates"][1]["serial"].get<std::string>();
    REQUIRE(pki({"revoke", "gone", "--reason", "keyCompromise", "--dir", d}).exit_code == 0);
    CHECK(run_command({"openssl", "crl", "-in", dir.file("ca.crl"), "-CAfile", dir.file("ca.crt"), "-noout"}).exit_code == 0);
    auto crl_text = run_shell("openssl crl -in '" + dir.file("ca.crl") + "' -noout -text").out;
    CHECK(contains(crl_text, "Key Compromise"));
    auto shown = pki({"inspect", dir.file("ca.crl")});
    CHECK(contains(shown.out, serial));
    CHECK(contains(shown.out, "CRL Number: 1"));
    REQUIRE(pki({"crl", "--dir", d}).exit_code == 0);
    CHECK(contains(pki({"inspect", dir.file("ca.crl")}).out, "CRL Number: 2"));
    CHECK(pki({"revoke", "gone", "--dir", d}).exit_code == 1);
    CHECK(pki({"revoke", "nobody", "--dir", d}).exit_code == 1);
    CHECK(pki({"revoke", "gone", "--reason", "boredom", "--dir", d}).exit_code == 2);
}
