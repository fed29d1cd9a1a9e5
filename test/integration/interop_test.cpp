// Certificates made by other tools work in both directions: our servers accept their client
// certificates and our client accepts their server certificates, in strict mode, trusting only
// their CA. The tools as people use them: the openssl CLI (req -x509 for the CA, x509 -req with
// and without an extension file for leaves), Python's cryptography with its defaults (no key
// identifiers), and Go's crypto/x509 (test/tools/certgen).
#include "test/support/fixtures.hpp"

#include <catch2/catch.hpp>

using namespace mcpmtls::testing;

namespace {

// In DIR: ca.crt/key, server.crt/key (localhost, 127.0.0.1), client.crt/key.
void make_with_openssl(const std::string& dir) {
    const auto r = run_shell("set -e; cd '" + dir + "'\n"
                             "key() { openssl ecparam -name prime256v1 -genkey -noout -out \"$1.key\"; }\n"
                             "key ca; openssl req -x509 -new -key ca.key -subj '/CN=openssl interop CA' -days 30 -out ca.crt\n"
                             "key server; openssl req -new -key server.key -subj /CN=localhost -out server.csr\n"
                             "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > server.ext\n"
                             "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 7 -extfile server.ext -out server.crt\n"
                             "key client; openssl req -new -key client.key -subj /CN=openssl-client -out client.csr\n"
                             "printf 'extendedKeyUsage=clientAuth\\n' > client.ext\n"
                             "openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 7 -extfile client.ext -out client.crt\n"
                             // Without an extension file: a v1 certificate, no extensions at all.
                             // It can only be a client certificate: a server needs a SAN for its host.
                             "key plain; openssl req -new -key plain.key -subj /CN=openssl-plain -out plain.csr\n"
                             "openssl x509 -req -in plain.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 7 -out plain.crt 2>/dev/null\n");
    INFO(r.all());
    REQUIRE(r.exit_code == 0);
}

void make_with_python(const std::string& dir) {
    // Debian's python3: python3-cryptography is installed by the test setup (Makefile).
    const auto r = run_command({"/usr/bin/python3", source_path("test/tools/pycert.py"), dir});
    INFO(r.all());
    REQUIRE(r.exit_code == 0);
}

void make_with_go(const std::string& dir, const std::string& key_type) {
    const auto r = run_command({"go", "run", source_path("test/tools/certgen/main.go"), "-out", dir, "-key", key_type},
                               {{"GOCACHE", dir + "/gocache"}, {"GOPATH", dir + "/gopath"}, {"GOFLAGS", "-mod=mod"}},
                               std::chrono::seconds(300));
    INFO(r.all());
    REQUIRE(r.exit_code == 0);
}

// Our echo server with the tool's server certificate, trusting only the tool's CA; our client
// with the tool's client certificate (`client_name`), trusting only the tool's CA. Strict mode.
void check_both_directions(const std::string& dir, const std::string& client_name = "client") {
    INFO("certificates in " << dir << ", client " << client_name);
    // The openssl CLI as a second opinion: what the tool made is a valid chain.
    CHECK(run_shell("openssl verify -CAfile '" + dir + "/ca.crt' -purpose sslserver '" + dir + "/server.crt'").exit_code == 0);
    CHECK(run_shell("openssl verify -CAfile '" + dir + "/ca.crt' -purpose sslclient '" + dir + "/" + client_name + ".crt'").exit_code == 0);
    ServerProcess echo("echo-server", dir + "/server.crt", dir + "/server.key", dir + "/ca.crt");
    const auto r = run_command({bin_path("client"), "--ca", dir + "/ca.crt", "--cert", dir + "/" + client_name + ".crt", "--key",
                                dir + "/" + client_name + ".key", "--server", "echo=" + echo.url(), "call", "echo", "echo",
                                "message=interop"});
    INFO(r.all() << echo.log());
    CHECK(r.exit_code == 0);
    CHECK(r.out == "interop\n");
    CHECK(echo.log().find("verdict=accepted") != std::string::npos);
}

}  // namespace

TEST_CASE("certificates from the openssl CLI work both ways, with and without extension files", "[interop]") {
    TempDir dir;
    make_with_openssl(dir.path());
    check_both_directions(dir.path());
    check_both_directions(dir.path(), "plain");
}

TEST_CASE("certificates from Python's cryptography with its defaults (no key identifiers) work both ways", "[interop]") {
    TempDir dir;
    make_with_python(dir.path());
    const auto text = run_shell("openssl x509 -noout -text -in '" + dir.file("server.crt") + "'").out;
    CHECK(text.find("Authority Key Identifier") == std::string::npos);  // the case that used to fail
    check_both_directions(dir.path());
}

TEST_CASE("certificates from Go's crypto/x509 work both ways, ECDSA and RSA", "[interop]") {
    TempDir ecdsa, rsa;
    make_with_go(ecdsa.path(), "ecdsa");
    check_both_directions(ecdsa.path());
    make_with_go(rsa.path(), "rsa");
    check_both_directions(rsa.path());
}
