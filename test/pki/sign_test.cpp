// pki sign with CSRs made by two independent implementations (the openssl CLI and Go's
// x509.CreateCertificateRequest, test/tools/csr), the refusals that must leave nothing behind,
// and short lifetimes (--ttl) for issue and sign.
#include "test/pki/pki_support.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <ctime>

using namespace mcpmtls::testing;

namespace {

// openssl req -newkey KEYSPEC: a key and a CSR asking for `san` (may be empty).
void openssl_csr(const TempDir& dir, const std::string& name, const std::string& key_spec, const std::string& san) {
    std::string command = "cd '" + dir.path() + "' && openssl req -new -newkey " + key_spec + " -nodes -keyout " + name +
                          ".key -subj /CN=" + name + " -out " + name + ".csr";
    if (!san.empty()) command += " -addext 'subjectAltName=" + san + "'";
    const auto r = run_shell(command + " 2>&1");
    if (r.exit_code != 0) throw std::runtime_error("openssl req failed: " + r.all());
}

// test/tools/csr built with the Go toolchain into `dir` (standard library only, no network).
class GoCsrTool {
public:
    explicit GoCsrTool(const TempDir& dir) : dir_(dir) {
        const auto r = run_command({"go", "build", "-o", dir_.file("csrgen"), source_path("test/tools/csr/main.go")}, env(),
                                   std::chrono::seconds(300));
        if (r.exit_code != 0) throw std::runtime_error("go build test/tools/csr failed: " + r.all());
    }
    void make(const std::string& name, const std::vector<std::string>& args) const {
        std::vector<std::string> argv = {dir_.file("csrgen"), "-cn", name, "-out-key", dir_.file(name + ".key"), "-out-csr",
                                         dir_.file(name + ".csr")};
        argv.insert(argv.end(), args.begin(), args.end());
        const auto r = run_command(argv, env());
        if (r.exit_code != 0) throw std::runtime_error("csrgen failed: " + r.all());
    }

private:
    std::map<std::string, std::string> env() const {
        return {{"HOME", dir_.path()}, {"GOCACHE", dir_.file("gocache")}, {"GOPATH", dir_.file("gopath")}, {"GO111MODULE", "off"},
                {"GOFLAGS", ""}};
    }
    const TempDir& dir_;
};

}  // namespace

TEST_CASE("pki sign accepts CSRs from openssl (EC, RSA 3072, Ed25519) and Go; names come only from the flags", "[pki]") {
    TempDir ca, csrs;
    pki_ok({"init", "--dir", ca.path()});
    openssl_csr(csrs, "ec", "ec -pkeyopt ec_paramgen_curve:P-256", "DNS:ec.example,DNS:evil.example,IP:10.9.9.9");
    openssl_csr(csrs, "rsa", "rsa:3072", "");
    openssl_csr(csrs, "ed", "ed25519", "URI:spiffe://demo/ed");
    GoCsrTool go(csrs);
    go.make("go", {"-key", "ec256", "-dns", "go.example", "-uri", "spiffe://demo/go"});
    go.make("gorsa", {"-key", "rsa2048"});

    struct Case {
        std::string name, kind;
        std::vector<std::string> names;
        std::string purpose;
    };
    const std::vector<Case> cases = {
        {"ec", "server", {"--dns", "ec.example"}, "sslserver"},
        {"rsa", "server", {"--dns", "rsa.example", "--ip", "10.0.0.7"}, "sslserver"},
        {"ed", "client", {"--uri", "spiffe://demo/ed"}, "sslclient"},
        {"go", "client", {"--uri", "spiffe://demo/go"}, "sslclient"},
        {"gorsa", "client", {"--uri", "spiffe://demo/gorsa"}, "sslclient"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        std::vector<std::string> args = {"sign", c.kind, c.name, "--csr", csrs.file(c.name + ".csr"), "--dir", ca.path()};
        args.insert(args.end(), c.names.begin(), c.names.end());
        const auto r = pki(args);
        REQUIRE(r.exit_code == 0);
        const std::string cert = ca.file(c.name + ".crt");
        CHECK(run_command({"openssl", "verify", "-CAfile", ca.file("ca-bundle.crt"), "-purpose", c.purpose, cert}).exit_code == 0);
        // The certificate is for the CSR's key, and no key was written here.
        CHECK(openssl_certificate_public_key(cert) == openssl_key_public_key(csrs.file(c.name + ".key")));
        CHECK_FALSE(exists(ca.file(c.name + ".key")));
        // Our profile: EKU of the kind, digitalSignature, CA:FALSE, subject CN=NAME.
        const std::string text = openssl_text(cert);
        CHECK(contains(text, c.kind == "server" ? "TLS Web Server Authentication" : "TLS Web Client Authentication"));
        CHECK(contains(text, "X509v3 Key Usage: critical\n                Digital Signature"));
        CHECK(contains(text, "CA:FALSE"));
        CHECK(contains(text, "Subject: CN = " + c.name));
    }
    // The names the EC request asked for beyond the flags are reported on one line, not signed.
    const std::string ec = openssl_text(ca.file("ec.crt"));
    CHECK(contains(ec, "DNS:ec.example"));
    CHECK_FALSE(contains(ec, "evil.example"));
    CHECK_FALSE(contains(ec, "10.9.9.9"));
    TempDir again;
    pki_ok({"init", "--dir", again.path()});
    const auto reported = pki({"sign", "server", "ec", "--csr", csrs.file("ec.csr"), "--dns", "ec.example", "--dir", again.path()});
    CHECK(reported.exit_code == 0);
    CHECK(line_count(reported.err) == 1);
    CHECK(contains(reported.err, "DNS:evil.example, IP:10.9.9.9"));
    CHECK(contains(reported.err, "not included"));
    // Go's request asked for a DNS name that a client certificate was not given.
    const std::string go_text = openssl_text(ca.file("go.crt"));
    CHECK(contains(go_text, "URI:spiffe://demo/go"));
    CHECK_FALSE(contains(go_text, "go.example"));

    // The inventory records it like an issued certificate, marked as signed from a CSR.
    const auto index = nlohmann::json::parse(read_text(ca.file("index.json")));
    const auto& entry = index["certificates"][3];  // ca, ec, rsa, ed
    CHECK(entry["name"] == "ed");
    CHECK(entry["from_csr"] == true);
    CHECK(entry["key_type"] == "Ed25519");
    CHECK(entry["serial"] == openssl_serial(ca.file("ed.crt")));
    CHECK(contains(pki({"list", "--dir", ca.path()}).out, "gorsa"));
}

TEST_CASE("pki sign refuses a bad signature, a weak key or a PEM that is not a CSR: exit 2, one line, nothing written",
          "[pki]") {
    TempDir ca, csrs;
    pki_ok({"init", "--dir", ca.path()});
    pki_ok({"issue", "client", "existing", "--dir", ca.path()});
    GoCsrTool go(csrs);
    go.make("corrupt", {"-key", "ec256", "-corrupt-signature"});
    go.make("gorsa1024", {"-key", "rsa1024"});
    openssl_csr(csrs, "rsa1024", "rsa:1024", "");
    openssl_csr(csrs, "fine", "ec -pkeyopt ec_paramgen_curve:P-256", "");
    write_text(csrs.file("garbage.csr"), "-----BEGIN CERTIFICATE REQUEST-----\nbm90IGEgQ1NS\n-----END CERTIFICATE REQUEST-----\n");
    // The openssl CLI's own verdicts (its exit status is 0 either way), so that each case is what
    // its name says.
    auto self_signature = [&](const std::string& csr) {
        return run_command({"openssl", "req", "-in", csrs.file(csr), "-noout", "-verify"}).all();
    };
    CHECK(contains(self_signature("corrupt.csr"), "verify failure"));
    CHECK(contains(self_signature("fine.csr"), "verify OK"));

    const auto before = snapshot(ca.path());
    struct Case {
        std::string csr, message;
    };
    const std::vector<Case> cases = {
        {csrs.file("corrupt.csr"), "signature does not verify"},
        {csrs.file("rsa1024.csr"), "weak key: RSA 1024 (80-bit security, need 112)"},
        {csrs.file("gorsa1024.csr"), "weak key: RSA 1024"},
        {csrs.file("fine.key"), "not a certificate signing request (it holds a PEM PRIVATE KEY)"},
        {ca.file("existing.crt"), "not a certificate signing request (it holds a PEM CERTIFICATE)"},
        {csrs.file("garbage.csr"), "not a valid certificate signing request"},
        {csrs.file("missing.csr"), "cannot read"},
    };
    for (const auto& c : cases) {
        INFO(c.csr);
        const auto r = pki({"sign", "client", "newcomer", "--csr", c.csr, "--dir", ca.path()});
        CHECK(r.exit_code == 2);
        CHECK(line_count(r.err) == 1);
        CHECK(contains(r.err, c.message));
    }
    CHECK(snapshot(ca.path()) == before);
    // Usage errors and a taken name, nothing written either.
    CHECK(pki({"sign", "client", "newcomer", "--dir", ca.path()}).exit_code == 2);  // no --csr
    CHECK(pki({"sign", "robot", "newcomer", "--csr", csrs.file("fine.csr"), "--dir", ca.path()}).exit_code == 2);
    CHECK(pki({"sign", "client", "existing", "--csr", csrs.file("fine.csr"), "--dir", ca.path()}).exit_code == 1);
    CHECK(snapshot(ca.path()) == before);
    // The good request signs, so the refusals above were about the requests.
    CHECK(pki({"sign", "client", "newcomer", "--csr", csrs.file("fine.csr"), "--dir", ca.path()}).exit_code == 0);
}

TEST_CASE("--ttl gives issue and sign lifetimes in minutes, hours or days, and refuses --days beside it", "[pki]") {
    TempDir ca, csrs;
    pki_ok({"init", "--dir", ca.path()});
    openssl_csr(csrs, "host", "ec -pkeyopt ec_paramgen_curve:P-256", "");
    const long now = static_cast<long>(std::time(nullptr));
    pki_ok({"issue", "client", "short", "--ttl", "90m", "--dir", ca.path()});
    pki_ok({"issue", "server", "day", "--ttl", "24h", "--dir", ca.path()});
    pki_ok({"sign", "server", "week", "--csr", csrs.file("host.csr"), "--ttl", "7d", "--dir", ca.path()});
    CHECK(std::labs(openssl_not_after(ca.file("short.crt")) - (now + 90 * 60)) <= 60);
    CHECK(std::labs(openssl_not_after(ca.file("day.crt")) - (now + 24 * 3600)) <= 60);
    CHECK(std::labs(openssl_not_after(ca.file("week.crt")) - (now + 7 * 86400)) <= 60);

    // Rotation keeps the short lifetime.
    pki_ok({"rotate", "short", "--dir", ca.path()});
    CHECK(std::labs(openssl_not_after(ca.file("short.crt")) - (static_cast<long>(std::time(nullptr)) + 90 * 60)) <= 60);

    const auto before = snapshot(ca.path());
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"issue", "client", "both", "--ttl", "1h", "--days", "3"},
             {"sign", "client", "both", "--csr", csrs.file("host.csr"), "--ttl", "1h", "--days", "3"},
             {"issue", "client", "bad", "--ttl", "90x"},
             {"issue", "client", "tiny", "--ttl", "30s"},
             {"issue", "client", "huge", "--ttl", "3651d"}}) {
        std::vector<std::string> with_dir = args;
        with_dir.insert(with_dir.end(), {"--dir", ca.path()});
        const auto r = pki(with_dir);
        INFO(args[2] << ": " << r.err);
        CHECK(r.exit_code == 2);
        CHECK(line_count(r.err) == 1);
    }
    CHECK(contains(pki({"issue", "client", "both", "--ttl", "1h", "--days", "3", "--dir", ca.path()}).err,
                   "give --days or --ttl, not both"));
    CHECK(snapshot(ca.path()) == before);
}
