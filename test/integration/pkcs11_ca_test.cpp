// A CA whose key is in a token: `pki init --key-in pkcs11:...` makes the key in a SoftHSM2 token
// (non-extractable, sensitive), every signing command signs there through Botan, and openssl
// verifies what comes out. No file of the CA directory holds the CA key.
#include "test/support/fixtures.hpp"
#include "test/support/online_ca.hpp"
#include "test/support/softhsm.hpp"

#include <catch2/catch.hpp>
#include <filesystem>

using namespace mcpmtls::testing;
using namespace std::chrono_literals;

namespace {

bool file_exists(const std::string& path) { return std::filesystem::exists(path); }

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

size_t line_count(const std::string& text) {
    size_t lines = 0;
    for (char c : text) lines += c == '\n';
    return lines + (!text.empty() && text.back() != '\n');
}

// A CA directory (not yet made) whose key lives in the token's object "ca".
struct TokenCa {
    SoftHsmToken token;
    TempDir parent;
    std::string dir = parent.file("ca");

    // bin/pki ARGS --dir DIR --pkcs11-module M --pin-file F
    CommandResult pki(std::vector<std::string> args, const std::vector<std::string>& token_flags) const {
        args.insert(args.begin(), bin_path("pki"));
        args.insert(args.end(), {"--dir", dir});
        args.insert(args.end(), token_flags.begin(), token_flags.end());
        return run_command(args);
    }
    CommandResult pki(std::vector<std::string> args) const { return pki(std::move(args), token.flags()); }
    std::string path(const std::string& file) const { return dir + "/" + file; }
    CommandResult openssl_verify(const std::string& cert, const std::string& crl_flags = "") const {
        return run_shell("openssl verify -CAfile '" + path("ca.crt") + "' " + crl_flags + " '" + cert + "' 2>&1");
    }
};

}  // namespace

TEST_CASE("a CA whose key is in a token issues, signs a CSR, writes a CRL and rotates a leaf; openssl verify accepts them",
          "[pkcs11-ca]") {
    TokenCa ca;
    const auto made = ca.pki({"init", "--cn", "token CA", "--key-in", SoftHsmToken::uri("ca")});
    INFO(made.all());
    REQUIRE(made.exit_code == 0);
    CHECK(contains(made.out, "in the token: pkcs11:token=mcp;object=ca"));
    CHECK(!file_exists(ca.path("ca.key")));
    CHECK(read_text(ca.path("ca.key.uri")) == "pkcs11:token=mcp;object=ca\n");

    // The key object: made in the token, never extractable, sensitive, for signing.
    const std::string objects = ca.token.list_objects();
    INFO(objects);
    CHECK(contains(objects, "label:      ca"));
    CHECK(contains(objects, "sensitive, always sensitive, never extractable, local"));

    REQUIRE(ca.pki({"issue", "server", "web", "--dns", "localhost", "--ip", "127.0.0.1"}).exit_code == 0);
    CHECK(contains(ca.openssl_verify(ca.path("web.crt")).out, "web.crt: OK"));

    const std::string csr = ca.parent.file("agent.csr");
    REQUIRE(run_shell("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout '" + ca.parent.file("agent.key") +
                      "' -subj /CN=agent -out '" + csr + "' 2>&1")
                .exit_code == 0);
    const auto signed_csr = ca.pki({"sign", "client", "agent", "--csr", csr, "--uri", "spiffe://demo/agent"});
    INFO(signed_csr.all());
    REQUIRE(signed_csr.exit_code == 0);
    CHECK(contains(ca.openssl_verify(ca.path("agent.crt")).out, "agent.crt: OK"));

    const std::string before = read_text(ca.path("web.crt"));
    REQUIRE(ca.pki({"rotate", "web"}).exit_code == 0);
    CHECK(read_text(ca.path("web.crt")) != before);
    CHECK(contains(ca.openssl_verify(ca.path("web.crt")).out, "web.crt: OK"));

    REQUIRE(ca.pki({"revoke", "agent"}).exit_code == 0);
    REQUIRE(ca.pki({"crl"}).exit_code == 0);
    const std::string crl_check = "-crl_check -CRLfile '" + ca.path("ca.crl") + "'";
    CHECK(contains(ca.openssl_verify(ca.path("web.crt"), crl_check).out, "web.crt: OK"));
    CHECK(contains(ca.openssl_verify(ca.path("agent.crt"), crl_check).out, "certificate revoked"));
    CHECK(run_shell("openssl crl -noout -in '" + ca.path("ca.crl") + "' -CAfile '" + ca.path("ca.crt") + "' 2>&1").out ==
          "verify OK\n");

    // Only the leaves' own keys (pki issue and rotate make those) are files; nothing of the CA's.
    const auto with_keys = run_shell("grep -rl 'PRIVATE KEY' '" + ca.dir + "' | grep -v '/web[^/]*\\.key$'");
    CHECK(with_keys.out.empty());
    CHECK(run_shell("grep -rl 4711 '" + ca.dir + "'").out.empty());
}

TEST_CASE("a server with a certificate from a token CA serves our client", "[pkcs11-ca]") {
    TokenCa ca;
    REQUIRE(ca.pki({"init", "--key-in", SoftHsmToken::uri("ca")}).exit_code == 0);
    REQUIRE(ca.pki({"issue", "server", "echo", "--dns", "localhost", "--ip", "127.0.0.1"}).exit_code == 0);
    REQUIRE(ca.pki({"issue", "client", "coordinator", "--uri", "spiffe://demo/coordinator"}).exit_code == 0);
    ServerProcess echo("echo-server", ca.path("echo.crt"), ca.path("echo.key"), ca.path("ca-bundle.crt"));
    const auto called = run_command({bin_path("client"), "--ca", ca.path("ca-bundle.crt"), "--cert", ca.path("coordinator.crt"), "--key",
                                     ca.path("coordinator.key"), "--server", "echo=" + echo.url(), "call", "echo", "echo",
                                     "message=signed by a token"});
    INFO(called.all());
    CHECK(called.exit_code == 0);
    CHECK(contains(called.out, "signed by a token"));
}

TEST_CASE("a CA key in a token is refused with one line and exit 1, nothing written: wrong PIN, missing module, unknown "
          "token or object, a label already taken",
          "[pkcs11-ca]") {
    TokenCa ca;
    write_text(ca.parent.file("wrong-pin"), "0000\n");
    const std::vector<std::string> wrong_pin = {"--pkcs11-module", kSoftHsmModule, "--pin-file", ca.parent.file("wrong-pin")};
    const std::vector<std::string> no_module = {"--pkcs11-module", ca.parent.file("no-such-module.so"), "--pin-file",
                                                ca.token.pin_file()};
    ca.token.generate_key("taken", "07");
    struct Case {
        std::string what;
        std::vector<std::string> args;
        std::vector<std::string> flags;
        std::string says;
    };
    const std::vector<Case> cases = {
        {"wrong PIN", {"init", "--key-in", SoftHsmToken::uri("ca")}, wrong_pin, "wrong PIN for token 'mcp'"},
        {"missing module", {"init", "--key-in", SoftHsmToken::uri("ca")}, no_module, "no-such-module.so does not exist"},
        {"unknown token", {"init", "--key-in", "pkcs11:token=other;object=ca"}, ca.token.flags(), "no token matches pkcs11:token=other;object=ca"},
        {"unknown object", {"init", "--key", SoftHsmToken::uri("nowhere")}, ca.token.flags(),
         "no private key pkcs11:token=mcp;object=nowhere in token 'mcp'"},
        {"label taken", {"init", "--key-in", SoftHsmToken::uri("taken")}, ca.token.flags(),
         "token 'mcp' already holds an object labelled 'taken'"},
    };
    for (const auto& c : cases) {
        SECTION(c.what) {
            const auto refused = ca.pki(c.args, c.flags);
            INFO(refused.all());
            CHECK(refused.exit_code == 1);
            CHECK(line_count(refused.err) == 1);
            CHECK(contains(refused.err, c.says));
            CHECK(!contains(refused.all(), "4711"));
            CHECK(!file_exists(ca.dir));
        }
    }
    SECTION("issue with a wrong PIN") {
        REQUIRE(ca.pki({"init", "--key-in", SoftHsmToken::uri("ca")}).exit_code == 0);
        const auto refused = ca.pki({"issue", "server", "web"}, wrong_pin);
        CHECK(refused.exit_code == 1);
        CHECK(line_count(refused.err) == 1);
        CHECK(contains(refused.err, "wrong PIN for token 'mcp'"));
        CHECK(!file_exists(ca.path("web.crt")));
        CHECK(!file_exists(ca.path("web.key")));
    }
    SECTION("a passphrase for a key in a token") {
        write_text(ca.parent.file("passphrase"), "secret\n");
        const auto refused = ca.pki({"init", "--key-in", SoftHsmToken::uri("ca"), "--passphrase-file", ca.parent.file("passphrase")});
        CHECK(refused.exit_code == 2);
        CHECK(contains(refused.err, "a key in a token has a PIN (--pin-file), not a passphrase"));
        CHECK(!file_exists(ca.dir));
    }
}

TEST_CASE("client enroll --key pkcs11: makes the key in the token, tls.key.uri names it, --cert-dir then uses it, and "
          "client renew keeps it",
          "[pkcs11-ca]") {
    DemoPki pki;
    OnlineCaProcess ca(pki);
    SoftHsmToken token;
    TempDir out;
    const std::string dir = out.file("agent");
    std::vector<std::string> enroll = {bin_path("client"), "enroll", "--ca-url", ca.url(),
                                       "--token", ca.token({"client", "agent", "--uri", "spiffe://demo/agent", "--ttl", "1h"}),
                                       "--out-dir", dir, "--fingerprint", ca.root_fingerprint(), "--key", SoftHsmToken::uri("agent")};
    for (const auto& flag : token.flags()) enroll.push_back(flag);
    const auto enrolled = run_command(enroll);
    INFO(enrolled.all());
    REQUIRE(enrolled.exit_code == 0);
    CHECK(contains(enrolled.out, "made the key in the token: pkcs11:token=mcp;object=agent"));
    CHECK(!file_exists(dir + "/tls.key"));
    CHECK(read_text(dir + "/tls.key.uri") == "pkcs11:token=mcp;object=agent\n");
    CHECK(run_shell("openssl verify -CAfile '" + dir + "/ca.crt' '" + dir + "/tls.crt'").exit_code == 0);
    CHECK(run_shell("grep -rl 'PRIVATE KEY' '" + dir + "'").out.empty());
    CHECK(contains(token.list_objects(), "never extractable"));

    ServerProcess echo(pki, "echo");
    std::vector<std::string> call = {bin_path("client"), "--cert-dir", dir, "--server", "echo=" + echo.url(),
                                     "call", "echo", "echo", "message=enrolled into a token"};
    for (const auto& flag : token.flags()) call.push_back(flag);
    const auto called = run_command(call);
    INFO(called.all());
    CHECK(called.exit_code == 0);
    CHECK(contains(called.out, "enrolled into a token"));

    // client renew keeps the key in the token: a new certificate for the same public key.
    auto public_key = [&] { return run_shell("openssl x509 -noout -pubkey -in '" + dir + "/tls.crt'").out; };
    auto serial = [&] { return run_shell("openssl x509 -noout -serial -in '" + dir + "/tls.crt'").out; };
    const std::string key_before = public_key(), serial_before = serial();
    std::vector<std::string> renew = {bin_path("client"), "renew", "--ca-url", ca.url(), "--out-dir", dir};
    for (const auto& flag : token.flags()) renew.push_back(flag);
    const auto renewed = run_command(renew);
    INFO(renewed.all());
    CHECK(renewed.exit_code == 0);
    CHECK(contains(renewed.out, "kept the key in the token: pkcs11:token=mcp;object=agent"));
    CHECK(serial() != serial_before);
    CHECK(public_key() == key_before);
    CHECK(!file_exists(dir + "/tls.key"));
    CHECK(read_text(dir + "/tls.key.uri") == "pkcs11:token=mcp;object=agent\n");
    CHECK(run_shell("openssl verify -CAfile '" + dir + "/ca.crt' '" + dir + "/tls.crt'").exit_code == 0);
}

TEST_CASE("a client enroll into a token that the CA refuses leaves no key object and no directory", "[pkcs11-ca]") {
    DemoPki pki;
    OnlineCaProcess ca(pki);
    SoftHsmToken token;
    TempDir out;
    const std::string dir = out.file("agent");
    std::vector<std::string> enroll = {bin_path("client"), "enroll", "--ca-url", ca.url(), "--token", "not-a-token", "--out-dir", dir,
                                       "--fingerprint", ca.root_fingerprint(), "--key", SoftHsmToken::uri("agent")};
    for (const auto& flag : token.flags()) enroll.push_back(flag);
    const auto refused = run_command(enroll);
    INFO(refused.all());
    CHECK(refused.exit_code == 1);
    CHECK(line_count(refused.err) == 1);
    CHECK(!file_exists(dir));
    CHECK(!contains(token.list_objects(), "agent"));
}

TEST_CASE("pki issue --key pkcs11:... signs with the named token key, and refuses one that is not the CA certificate's",
          "[pkcs11-ca]") {
    TokenCa ca;
    REQUIRE(ca.pki({"init", "--key-in", SoftHsmToken::uri("ca")}).exit_code == 0);
    ca.token.generate_key("other", "09");
    const auto issued = ca.pki({"issue", "server", "web", "--key", SoftHsmToken::uri("ca")});
    INFO(issued.all());
    CHECK(issued.exit_code == 0);
    CHECK(contains(ca.openssl_verify(ca.path("web.crt")).out, "web.crt: OK"));

    const auto refused = ca.pki({"issue", "server", "api", "--key", SoftHsmToken::uri("other")});
    INFO(refused.all());
    CHECK(refused.exit_code == 1);
    CHECK(line_count(refused.err) == 1);
    CHECK(contains(refused.err, "the key pkcs11:token=mcp;object=other in the token does not belong to"));
    CHECK(!file_exists(ca.path("api.crt")));
}
