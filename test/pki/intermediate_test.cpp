// An offline root with an intermediate that signs day to day: mutual TLS with our servers and
// client trusting only the root, openssl as the second opinion, name constraints enforced by
// pki at issue time and by every verifier (ours in the servers and the client, openssl's) on a
// certificate forced past them with the openssl CLI.
#include "test/pki/pki_support.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace mcpmtls::testing;

namespace {

// ROOT (pathLen 1) and DIR, an intermediate it signed; `extra` goes to init --intermediate.
struct TwoLevelPki {
    TempDir root, dir;
    explicit TwoLevelPki(const std::vector<std::string>& extra = {}) {
        pki_ok({"init", "--dir", root.path(), "--cn", "test root", "--path-len", "1"});
        std::vector<std::string> args = {"init", "--intermediate", "--root-dir", root.path(), "--dir", dir.path(),
                                         "--cn", "test issuing CA"};
        args.insert(args.end(), extra.begin(), extra.end());
        pki_ok(args);
    }
    std::string path(const std::string& file) const { return dir.file(file); }
    std::string root_cert() const { return root.file("ca.crt"); }
    std::string issue(const std::vector<std::string>& args) const {
        std::vector<std::string> all = {"issue"};
        all.insert(all.end(), args.begin(), args.end());
        all.insert(all.end(), {"--dir", dir.path()});
        return pki(all).all();
    }
};

int openssl_verify(const std::string& root, const std::string& untrusted, const std::string& purpose, const std::string& cert,
                   std::string* output = nullptr) {
    std::vector<std::string> argv = {"openssl", "verify", "-CAfile", root};
    if (!untrusted.empty()) argv.insert(argv.end(), {"-untrusted", untrusted});
    argv.insert(argv.end(), {"-purpose", purpose, cert});
    const auto r = run_command(argv);
    if (output) *output = r.all();
    return r.exit_code;
}

CommandResult our_client(const std::string& ca, const std::string& cert, const std::string& key, const std::string& url,
                         const std::string& message) {
    return run_command({bin_path("client"), "--ca", ca, "--cert", cert, "--key", key, "--server", "echo=" + url, "--timeout",
                        "5", "call", "echo", "echo", "message=" + message});
}

bool handshake_refused(const CommandResult& curl) {
    return curl.exit_code != 0 && !contains(curl.out, "HTTP/1.1 200");
}

}  // namespace

TEST_CASE("two-level PKI: leaves of the intermediate complete mutual TLS with peers that trust only the root", "[pki]") {
    TempDir root, dir, offline;
    const std::map<std::string, std::string> root_secret = {{"PKI_PASSPHRASE", "root secret"}};
    pki_ok({"init", "--dir", root.path(), "--cn", "offline root", "--path-len", "1"}, root_secret);
    write_text(offline.file("root-pass"), "root secret\n");
    pki_ok({"init", "--intermediate", "--root-dir", root.path(), "--root-passphrase-file", offline.file("root-pass"), "--dir",
            dir.path(), "--cn", "issuing CA"});

    // The root key goes offline: everything below is done without it.
    REQUIRE(std::rename(root.file("ca.key").c_str(), offline.file("ca.key").c_str()) == 0);
    pki_ok({"issue", "server", "echo", "--dns", "localhost", "--ip", "127.0.0.1", "--dir", dir.path()});
    pki_ok({"issue", "client", "coordinator", "--uri", "spiffe://demo/coordinator", "--dir", dir.path()});

    // DIR's trust bundle is the root; each chain file is the leaf and the intermediate.
    CHECK(read_text(dir.file("ca-bundle.crt")) == read_text(root.file("ca.crt")));
    const std::string chain = read_text(dir.file("echo.crt"));
    CHECK(chain.find("BEGIN CERTIFICATE") != chain.rfind("BEGIN CERTIFICATE"));
    CHECK(contains(chain, read_text(dir.file("ca.crt"))));
    CHECK(contains(openssl_text(dir.file("ca.crt")), "CA:TRUE, pathlen:0"));
    CHECK(contains(openssl_text(root.file("ca.crt")), "CA:TRUE, pathlen:1"));

    // openssl agrees, and needs the intermediate to do so.
    CHECK(openssl_verify(root.file("ca.crt"), dir.file("ca.crt"), "sslserver", dir.file("echo.crt")) == 0);
    CHECK(openssl_verify(root.file("ca.crt"), dir.file("ca.crt"), "sslclient", dir.file("coordinator.crt")) == 0);
    write_text(dir.file("echo-leaf-only.crt"), chain.substr(0, chain.find("-----END CERTIFICATE-----") + 26));
    CHECK(openssl_verify(root.file("ca.crt"), "", "sslserver", dir.file("echo-leaf-only.crt")) != 0);

    // Our server and client, each trusting only the root, each sending its chain.
    ServerProcess echo("echo-server", dir.file("echo.crt"), dir.file("echo.key"), dir.file("ca-bundle.crt"));
    auto call = our_client(dir.file("ca-bundle.crt"), dir.file("coordinator.crt"), dir.file("coordinator.key"), echo.url(), "two levels");
    CHECK(call.exit_code == 0);
    CHECK(call.out == "two levels\n");
    const auto curl = curl_mcp(echo.url(), root.file("ca.crt"), dir.file("coordinator.crt"), dir.file("coordinator.key"),
                               initialize_body());
    CHECK(contains(curl.out, "HTTP/1.1 200"));

    // The root recorded what it signed; the intermediate's inventory names its issuer.
    const auto root_index = nlohmann::json::parse(read_text(root.file("index.json")));
    REQUIRE(root_index["certificates"].size() == 2);
    CHECK(root_index["certificates"][1]["kind"] == "intermediate");
    CHECK(root_index["certificates"][1]["serial"] == openssl_serial(dir.file("ca.crt")));
}

TEST_CASE("two-level PKI: a client revoked by the intermediate's CRL is refused by a server that trusts only the root",
          "[pki]") {
    TempDir root, dir;
    pki_ok({"init", "--dir", root.path(), "--path-len", "1"});
    pki_ok({"init", "--intermediate", "--root-dir", root.path(), "--dir", dir.path()});
    pki_ok({"issue", "server", "echo", "--dns", "localhost", "--ip", "127.0.0.1", "--dir", dir.path()});
    pki_ok({"issue", "client", "coordinator", "--dir", dir.path()});
    pki_ok({"issue", "client", "leaver", "--dir", dir.path()});
    pki_ok({"revoke", "leaver", "--reason", "cessationOfOperation", "--dir", dir.path()});
    // DIR/ca.crl is signed by the intermediate, which the server's own chain holds; the server
    // loads it beside DIR/ca-bundle.crt (the root) by default.
    ServerProcess echo("echo-server", dir.file("echo.crt"), dir.file("echo.key"), dir.file("ca-bundle.crt"));
    CHECK(our_client(dir.file("ca-bundle.crt"), dir.file("coordinator.crt"), dir.file("coordinator.key"), echo.url(), "still in")
              .exit_code == 0);
    const auto refused = our_client(dir.file("ca-bundle.crt"), dir.file("leaver.crt"), dir.file("leaver.key"), echo.url(), "x");
    CHECK(refused.exit_code == 3);
    CHECK(echo.process().wait_for_log("certificate is revoked"));
}

TEST_CASE("init --intermediate refuses a root that can sign only leaves, naming the fix, and writes nothing", "[pki]") {
    TempDir root, dir;
    pki_ok({"init", "--dir", root.path()});  // pathLen 0, the default
    const auto before = snapshot(root.path());
    const auto r = pki({"init", "--intermediate", "--root-dir", root.path(), "--dir", dir.path()});
    CHECK(r.exit_code == 1);
    CHECK(line_count(r.err) == 1);
    CHECK(contains(r.err, "pathLen 0"));
    CHECK(contains(r.err, "pki init --path-len 1 --dir " + root.path()));
    CHECK(snapshot(root.path()) == before);
    CHECK(snapshot(dir.path()).count("ca.crt") == 0);

    // A root that allows one CA below it cannot have an intermediate that allows another.
    TempDir root1, dir1;
    pki_ok({"init", "--dir", root1.path(), "--path-len", "1"});
    const auto deep = pki({"init", "--intermediate", "--root-dir", root1.path(), "--dir", dir1.path(), "--path-len", "1"});
    CHECK(deep.exit_code == 2);
    CHECK(contains(deep.err, "at most 0"));

    // An encrypted root key without its passphrase: the root's own variable is named.
    TempDir locked, dir2;
    pki_ok({"init", "--dir", locked.path(), "--path-len", "1"}, {{"PKI_PASSPHRASE", "s"}});
    const auto no_pass = pki({"init", "--intermediate", "--root-dir", locked.path(), "--dir", dir2.path()});
    CHECK(no_pass.exit_code == 2);
    CHECK(contains(no_pass.err, "PKI_ROOT_PASSPHRASE"));
    CHECK(snapshot(dir2.path()).count("ca.crt") == 0);
    CHECK(pki({"init", "--intermediate", "--root-dir", locked.path(), "--dir", dir2.path()}, {{"PKI_ROOT_PASSPHRASE", "s"}})
              .exit_code == 0);

    // Options of an intermediate are refused without --intermediate, and the reverse.
    TempDir plain;
    CHECK(pki({"init", "--dir", plain.path(), "--permit-dns", "example.com"}).exit_code == 2);
    CHECK(pki({"init", "--dir", plain.path(), "--intermediate"}).exit_code == 2);
    CHECK(pki({"init", "--dir", root1.path(), "--intermediate", "--root-dir", root1.path(), "--force"}).exit_code == 2);
}

TEST_CASE("name constraints: pki issue refuses names outside them, naming the constraint", "[pki]") {
    TwoLevelPki ca({"--permit-dns", "example.com", "--permit-uri", "prod.example", "--permit-ip", "10.0.0.0/8"});
    const std::string text = openssl_text(ca.path("ca.crt"));
    CHECK(contains(text, "X509v3 Name Constraints: critical"));
    CHECK(contains(text, "DNS:example.com"));
    CHECK(contains(text, "URI:prod.example"));
    CHECK(contains(text, "IP:10.0.0.0/255.0.0.0"));

    struct Case {
        std::vector<std::string> args;
        bool allowed;
    };
    const std::vector<Case> cases = {
        {{"server", "web", "--dns", "web.example.com", "--ip", "10.1.2.3"}, true},
        {{"server", "apex", "--dns", "example.com"}, true},
        {{"client", "agent", "--uri", "spiffe://prod.example/agent"}, true},
        {{"server", "outside", "--dns", "web.example.org"}, false},
        {{"server", "lookalike", "--dns", "badexample.com"}, false},
        {{"server", "local", "--ip", "192.168.1.1", "--dns", "x.example.com"}, false},
        {{"client", "dev", "--uri", "spiffe://dev.example/agent"}, false},
        {{"client", "mail", "--uri", "spiffe://prod.example/a", "--email", "a@example.com"}, false},
    };
    for (const auto& c : cases) {
        INFO(c.args[1]);
        std::vector<std::string> args = {"issue"};
        args.insert(args.end(), c.args.begin(), c.args.end());
        args.insert(args.end(), {"--dir", ca.dir.path()});
        const auto r = pki(args);
        if (c.allowed) {
            CHECK(r.exit_code == 0);
            CHECK(openssl_verify(ca.root_cert(), ca.path("ca.crt"), "any", ca.path(c.args[1] + ".crt")) == 0);
        } else {
            CHECK(r.exit_code == 1);
            CHECK(line_count(r.err) == 1);
            CHECK(contains(r.err, "permitted DNS example.com, URI prod.example, IP 10.0.0.0/8"));
            CHECK_FALSE(exists(ca.path(c.args[1] + ".crt")));
            CHECK_FALSE(exists(ca.path(c.args[1] + ".key")));
        }
    }
    // Without --permit-ip every address is excluded: an IP SAN cannot slip past DNS constraints.
    TwoLevelPki dns_only({"--permit-dns", "example.com"});
    CHECK(contains(openssl_text(dns_only.path("ca.crt")), "IP:0.0.0.0/0.0.0.0"));
    CHECK(pki({"issue", "server", "s", "--dns", "s.example.com", "--ip", "127.0.0.1", "--dir", dns_only.dir.path()}).exit_code == 1);
    // Bad constraints are input errors.
    TempDir bad;
    for (const char* flag : {"--permit-ip=10.0.0.1/8", "--permit-ip=10.0.0.0/33", "--permit-uri=spiffe://prod.example",
                                    "--permit-dns=*.example.com"}) {
        INFO(flag);
        const auto r = pki({"init", "--intermediate", "--root-dir", ca.root.path(), "--dir", bad.path(), flag});
        CHECK(r.exit_code == 2);
        CHECK(line_count(r.err) == 1);
    }
}

TEST_CASE("name constraints: a leaf forced past them with openssl is refused by the servers, the client and openssl verify",
          "[pki]") {
    TwoLevelPki ca({"--permit-dns", "example.com", "--permit-uri", "prod.example", "--permit-ip", "127.0.0.1/32"});
    REQUIRE(contains(ca.issue({"server", "svc", "--ip", "127.0.0.1", "--dns", "svc.example.com"}), "issued"));
    REQUIRE(contains(ca.issue({"client", "agent", "--uri", "spiffe://prod.example/agent"}), "issued"));
    // What pki refuses to issue, the openssl CLI signs with the intermediate's key.
    OpensslCa::issue_with(ca.path("ca.crt"), ca.path("ca.key"), ca.dir.path(), "forced-server", "serverAuth", "DNS:localhost",
                          "", "");
    OpensslCa::issue_with(ca.path("ca.crt"), ca.path("ca.key"), ca.dir.path(), "forced-client", "clientAuth",
                          "URI:spiffe://dev.example/intruder", "", "");
    for (const char* name : {"forced-server", "forced-client"})  // leaf + intermediate, as servers and clients send
        write_text(ca.path(std::string(name) + "-chain.crt"),
                   read_text(ca.path(std::string(name) + ".crt")) + read_text(ca.path("ca.crt")));

    std::string why;
    CHECK(openssl_verify(ca.root_cert(), ca.path("ca.crt"), "sslserver", ca.path("forced-server.crt"), &why) != 0);
    CHECK(contains(why, "permitted subtree violation"));
    CHECK(openssl_verify(ca.root_cert(), ca.path("ca.crt"), "sslclient", ca.path("forced-client.crt"), &why) != 0);
    CHECK(contains(why, "permitted subtree violation"));
    CHECK(openssl_verify(ca.root_cert(), ca.path("ca.crt"), "sslclient", ca.path("agent.crt")) == 0);

    SECTION("our server refuses the forced client certificate at the handshake, and admits the valid one") {
        ServerProcess echo("echo-server", ca.path("svc.crt"), ca.path("svc.key"), ca.path("ca-bundle.crt"));
        const auto url = echo.url("127.0.0.1");
        CHECK(handshake_refused(
            curl_mcp(url, ca.root_cert(), ca.path("forced-client-chain.crt"), ca.path("forced-client.key"), initialize_body())));
        CHECK(echo.process().wait_for_log("name constraints violated"));
        CHECK(contains(curl_mcp(url, ca.root_cert(), ca.path("agent.crt"), ca.path("agent.key"), initialize_body()).out,
                       "HTTP/1.1 200"));
    }
    SECTION("our client refuses a server presenting the forced certificate; curl (OpenSSL) does too") {
        ServerProcess forced("echo-server", ca.path("forced-server-chain.crt"), ca.path("forced-server.key"),
                             ca.path("ca-bundle.crt"));
        const auto refused = our_client(ca.path("ca-bundle.crt"), ca.path("agent.crt"), ca.path("agent.key"), forced.url(), "x");
        CHECK(refused.exit_code == 3);
        CHECK(contains(refused.err, "name constraints violated"));
        CHECK(handshake_refused(curl_mcp(forced.url(), ca.root_cert(), ca.path("agent.crt"), ca.path("agent.key"), initialize_body())));
        // The same client reaches the valid server: the refusal is about the forced certificate.
        ServerProcess valid("echo-server", ca.path("svc.crt"), ca.path("svc.key"), ca.path("ca-bundle.crt"));
        CHECK(our_client(ca.path("ca-bundle.crt"), ca.path("agent.crt"), ca.path("agent.key"), valid.url("127.0.0.1"), "ok").exit_code == 0);
    }
}

TEST_CASE("--crl-url is written into every certificate issued, signed, rotated or renewed from the directory", "[pki]") {
    TempDir root, dir, work;
    pki_ok({"init", "--dir", root.path(), "--path-len", "1", "--crl-url", "http://pki.example/root.crl"});
    pki_ok({"init", "--intermediate", "--root-dir", root.path(), "--dir", dir.path(), "--crl-url",
            "http://pki.example/issuing.crl"});
    auto distribution_point = [](const std::string& cert) {
        const std::string text = openssl_text(cert);
        const auto at = text.find("X509v3 CRL Distribution Points");
        return at == std::string::npos ? std::string() : text.substr(at, text.find("X509v3", at + 10) - at);
    };
    CHECK(contains(distribution_point(dir.file("ca.crt")), "URI:http://pki.example/root.crl"));  // signed in ROOT
    pki_ok({"issue", "client", "issued", "--dir", dir.path()});
    run_shell("cd '" + work.path() + "' && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout h.key "
              "-subj /CN=h -out h.csr 2>/dev/null");
    pki_ok({"sign", "server", "signed", "--csr", work.file("h.csr"), "--dns", "h.example", "--dir", dir.path()});
    pki_ok({"issue", "client", "rotated", "--dir", dir.path()});
    pki_ok({"rotate", "rotated", "--dir", dir.path()});
    pki_ok({"issue", "client", "renewed", "--days", "3", "--dir", dir.path()});
    pki_ok({"renew", "--within", "5d", "--dir", dir.path()});
    for (const char* name : {"issued", "signed", "rotated", "renewed"}) {
        INFO(name);
        const std::string point = distribution_point(dir.file(std::string(name) + ".crt"));
        CHECK(contains(point, "Full Name"));
        CHECK(contains(point, "URI:http://pki.example/issuing.crl"));
    }
    CHECK(contains(pki({"inspect", dir.file("issued.crt")}).out, "CRL Distribution Points: http://pki.example/issuing.crl"));

    // The intermediate's CRL revokes what it issued, for pki verify and for openssl alike.
    pki_ok({"revoke", "issued", "--dir", dir.path()});
    auto verdict = [&](const std::string& name) {
        return pki({"verify", "--ca", dir.file("ca-bundle.crt"), "--crl", dir.file("ca.crl"), "--purpose", "client",
                    dir.file(name + ".crt")});
    };
    CHECK(verdict("issued").out == "certificate is revoked\n");
    CHECK(verdict("rotated").out == "OK\n");
    auto openssl_crl_check = [&](const std::string& name) {
        return run_command({"openssl", "verify", "-crl_check", "-CRLfile", dir.file("ca.crl"), "-CAfile", root.file("ca.crt"),
                            "-untrusted", dir.file("ca.crt"), dir.file(name + ".crt")});
    };
    CHECK(contains(openssl_crl_check("issued").all(), "certificate revoked"));
    CHECK(openssl_crl_check("rotated").exit_code == 0);

    // Certificates without the option carry none; a URL that is not http(s) is refused.
    TempDir plain;
    pki_ok({"init", "--dir", plain.path()});
    pki_ok({"issue", "client", "c", "--dir", plain.path()});
    CHECK(distribution_point(plain.file("c.crt")).empty());
    // A CRL of a CA that is neither trusted nor in the chain is still refused as input.
    CHECK(pki({"verify", "--ca", plain.file("ca.crt"), "--crl", dir.file("ca.crl"), plain.file("c.crt")}).exit_code == 2);
    TempDir refused;
    CHECK(pki({"init", "--dir", refused.path(), "--crl-url", "ldap://x/crl"}).exit_code == 2);
}
