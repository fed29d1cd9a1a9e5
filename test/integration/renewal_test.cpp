// Enrollment and renewal against the real online CA (`bin/pki serve`): `client enroll` with a
// one-time token, a server on two-minute certificates renewing itself under load, and the
// refusals (no trust yet, a wrong pin, a reused token, a revoked or expired certificate), each
// with one clear line and no file changed.
#include "common/files.hpp"
#include "test/support/cluster.hpp"
#include "test/support/online_ca.hpp"
#include "test/support/stdio_process.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <algorithm>
#include <regex>
#include <sys/stat.h>
#include <thread>

using namespace mcpmtls;
using namespace mcpmtls::testing;
using namespace std::chrono_literals;

namespace {

CommandResult client(std::vector<std::string> args) {
    args.insert(args.begin(), bin_path("client"));
    return run_command(args);
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::string line;
    for (char c : text) {
        if (c == '\n') {
            lines.push_back(line);
            line.clear();
        } else {
            line.push_back(c);
        }
    }
    if (!line.empty()) lines.push_back(line);
    return lines;
}

std::string snapshot_of(const TempDir& dir) {
    return run_shell("cd '" + dir.path() + "' && for f in $(ls -A); do echo \"== $f\"; cat \"$f\"; done").out;
}

}  // namespace

TEST_CASE("client enroll: a token, the CA pinned by its root's fingerprint, the --cert-dir layout written", "[renewal]") {
    DemoPki pki;
    OnlineCaProcess ca(pki);
    TempDir out;
    const std::string dir = out.file("laptop");
    const std::string token = ca.token({"client", "laptop", "--uri", "spiffe://demo/laptop", "--ttl", "1h"});

    SECTION("without --ca or --fingerprint nothing is sent: the roots are shown with a WARNING") {
        const auto r = client({"enroll", "--ca-url", ca.url(), "--token", token, "--out-dir", dir});
        INFO(r.all());
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("WARNING") != std::string::npos);
        CHECK(r.err.find(ca.root_fingerprint()) != std::string::npos);
        CHECK_FALSE(file_exists(dir));
        // The token was not used: it still enrolls.
        CHECK(client({"enroll", "--ca-url", ca.url(), "--token", token, "--out-dir", dir, "--fingerprint", ca.root_fingerprint()})
                  .exit_code == 0);
    }
    SECTION("a fingerprint that is not the CA's root: exit 3, the token not sent") {
        const std::string wrong = "sha256:" + std::string(64, 'a');
        const auto r = client({"enroll", "--ca-url", ca.url(), "--token", token, "--out-dir", dir, "--fingerprint", wrong});
        INFO(r.all());
        CHECK(r.exit_code == 3);
        CHECK(r.err.find("not the CA you meant") != std::string::npos);
        CHECK_FALSE(file_exists(dir));
        CHECK(client({"enroll", "--ca-url", ca.url(), "--token", token, "--out-dir", dir, "--ca", pki.path("ca.crt")})
                  .exit_code == 0);
    }
    SECTION("pinned: key 0600, certificate and bundle written, one line each; the token cannot be used twice") {
        const auto r = client({"enroll", "--ca-url", ca.url(), "--token", token, "--out-dir", dir, "--fingerprint", ca.root_fingerprint(),
                               "--key-type", "ed25519"});
        INFO(r.all());
        REQUIRE(r.exit_code == 0);
        const auto lines = lines_of(r.out);
        REQUIRE(lines.size() == 3);
        CHECK(lines[0] == "wrote " + dir + "/tls.key (private key, 0600)");
        CHECK(lines[1].rfind("wrote " + dir + "/tls.crt (client laptop", 0) == 0);
        CHECK(lines[2].rfind("wrote " + dir + "/ca.crt", 0) == 0);
        struct stat key_stat {};
        REQUIRE(::stat((dir + "/tls.key").c_str(), &key_stat) == 0);
        CHECK((key_stat.st_mode & 0777) == 0600);
        CHECK(run_shell("openssl verify -CAfile '" + dir + "/ca.crt' '" + dir + "/tls.crt'").exit_code == 0);
        CHECK(run_shell("openssl x509 -in '" + dir + "/tls.crt' -noout -text | grep -c ED25519").out != "0\n");
        CHECK(run_shell("openssl x509 -in '" + dir + "/tls.crt' -noout -ext subjectAltName").out.find("spiffe://demo/laptop") !=
              std::string::npos);

        TempDir again;
        const auto reused = client({"enroll", "--ca-url", ca.url(), "--token", token, "--out-dir", again.file("second"),
                                    "--fingerprint", ca.root_fingerprint()});
        INFO(reused.all());
        CHECK(reused.exit_code == 1);
        CHECK(reused.err.find("token_reused") != std::string::npos);
        CHECK(lines_of(reused.err).size() == 1);
        CHECK_FALSE(file_exists(again.file("second")));

        // client renew: the same folder, a new key and serial.
        const std::string serial = serial_of(dir + "/tls.crt");
        const std::string key = read_text(dir + "/tls.key");
        const auto renewed = client({"renew", "--ca-url", ca.url(), "--out-dir", dir});
        INFO(renewed.all());
        CHECK(renewed.exit_code == 0);
        CHECK(serial_of(dir + "/tls.crt") != serial);
        CHECK(read_text(dir + "/tls.key") != key);
        CHECK(run_shell("openssl verify -CAfile '" + dir + "/ca.crt' '" + dir + "/tls.crt'").exit_code == 0);
    }
}

TEST_CASE("client renew refuses a revoked or an expired certificate with one line, files untouched", "[renewal]") {
    DemoPki pki;
    OnlineCaProcess ca(pki);
    TempDir out;
    const std::string dir = out.file("holder");
    REQUIRE(client({"enroll", "--ca-url", ca.url(), "--token", ca.token({"client", "holder", "--ttl", "1h"}), "--out-dir", dir,
                    "--ca", pki.path("ca.crt")})
                .exit_code == 0);

    SECTION("revoked (by its holder, POST /v1/revoke)") {
        const auto revoked = run_command({"curl", "-s", "--fail", "--cacert", dir + "/ca.crt", "--cert", dir + "/tls.crt", "--key",
                                          dir + "/tls.key", "-X", "POST", "-H", "Content-Type: application/json", "-d", "{}",
                                          ca.url() + "/v1/revoke"});
        REQUIRE(revoked.exit_code == 0);
    }
    SECTION("expired") {
        OpensslCa::issue_with(pki.path("ca.crt"), pki.path("ca.key"), out.path(), "old", "clientAuth",
                              "URI:spiffe://demo/old", "20200101000000Z", "20200201000000Z");
        write_text(dir + "/tls.crt", read_text(out.file("old.crt")));
        write_text(dir + "/tls.key", read_text(out.file("old.key")));
    }
    const std::string before = snapshot_of(out);
    const auto r = client({"renew", "--ca-url", ca.url(), "--out-dir", dir});
    INFO(r.all());
    CHECK(r.exit_code == 1);
    CHECK(lines_of(r.err).size() == 1);
    CHECK((r.err.find("cannot renew itself") != std::string::npos || r.err.find("certificate_refused") != std::string::npos));
    CHECK(snapshot_of(out) == before);
}

TEST_CASE("a server on two-minute certificates renews itself under load: no failed call, metrics show it", "[renewal][slow]") {
    DemoPki pki;
    OnlineCaProcess ca(pki);
    TempDir out;
    const std::string good = out.file("echo"), gone = out.file("gone");
    for (const auto& [dir, name] : {std::pair{good, std::string("echo")}, std::pair{gone, std::string("echo-gone")}}) {
        const auto token = ca.token({"server", name, "--dns", "localhost", "--ip", "127.0.0.1", "--ttl", "2m"});
        const auto r = client({"enroll", "--ca-url", ca.url(), "--token", token, "--out-dir", dir, "--ca", pki.path("ca.crt")});
        REQUIRE(r.exit_code == 0);
    }
    // The second server's certificate is revoked by its holder: its renewals must fail.
    REQUIRE(run_command({"curl", "-s", "--fail", "--cacert", gone + "/ca.crt", "--cert", gone + "/tls.crt", "--key", gone + "/tls.key",
                         "-X", "POST", "-H", "Content-Type: application/json", "-d", "{}", ca.url() + "/v1/revoke"})
                .exit_code == 0);
    const std::string first_serial = serial_of(good + "/tls.crt");
    const std::string gone_before = read_text(gone + "/tls.crt") + read_text(gone + "/tls.key");

    // A laptop's bridge on a two-minute client certificate, renewing too.
    const std::string laptop = out.file("laptop");
    REQUIRE(client({"enroll", "--ca-url", ca.url(), "--token", ca.token({"client", "laptop", "--ttl", "2m"}), "--out-dir", laptop,
                    "--ca", pki.path("ca.crt")})
                .exit_code == 0);
    const std::string laptop_serial = serial_of(laptop + "/tls.crt");

    ServerProcess echo("echo-server", {"--cert-dir", good, "--renew-from", ca.url(), "--metrics-bind", "127.0.0.1:0"});
    ServerProcess refused("echo-server", {"--cert-dir", gone, "--renew-from", ca.url()});
    EchoLoad load(echo.url(), pki.path("ca-bundle.crt"), pki.path("coordinator.crt"), pki.path("coordinator.key"));
    StdioProcess bridge({bin_path("client"), "--cert-dir", laptop, "--renew-from", ca.url(), "--server", "echo=" + echo.url(),
                         "bridge", "echo"},
                        out.file("bridge.log"));
    int bridge_id = 0, bridge_failures = 0;
    auto bridge_request = [&](const std::string& method, nlohmann::json params) {
        const int id = ++bridge_id;
        bridge.write_line(nlohmann::json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}.dump());
        while (auto line = bridge.read_line(20s)) {
            const auto message = nlohmann::json::parse(*line, nullptr, false);
            if (message.is_object() && message.value("id", -1) == id) {
                if (message.contains("error") || message["result"].value("isError", false)) ++bridge_failures;
                return;
            }
        }
        ++bridge_failures;
    };
    bridge_request("initialize", {{"protocolVersion", "2025-11-25"}, {"capabilities", nlohmann::json::object()},
                                  {"clientInfo", {{"name", "renewal-test"}, {"version", "1"}}}});
    bridge.write_line(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
    REQUIRE(load.progress(5));

    // Due at 80 s (74..86 with jitter); the bridge calls a tool every half second meanwhile.
    const auto deadline = std::chrono::steady_clock::now() + 100s;
    while (std::chrono::steady_clock::now() < deadline &&
           !(echo.process().wait_for_log("certificate_renewed", 0ms) && bridge.wait_for_log("certificate_renewed", 0ms))) {
        bridge_request("tools/call", {{"name", "echo"}, {"arguments", {{"message", "tick"}}}});
        std::this_thread::sleep_for(500ms);
    }
    REQUIRE(echo.process().wait_for_log("certificate_renewed", 1s));
    REQUIRE(bridge.wait_for_log("certificate_renewed", 1s));
    for (int i = 0; i < 6; ++i) {
        bridge_request("tools/call", {{"name", "echo"}, {"arguments", {{"message", "after"}}}});
        std::this_thread::sleep_for(500ms);
    }
    REQUIRE(load.progress(20));
    load.stop();
    CHECK(load.failures().empty());
    CHECK(load.ok() > 20);
    CHECK(bridge_failures == 0);
    CHECK(bridge_id > 100);  // about 160 ticks in 80 s
    CHECK(serial_of(laptop + "/tls.crt") != laptop_serial);
    const std::string second_serial = serial_of(good + "/tls.crt");
    CHECK(second_serial != first_serial);
    CHECK(presented_serial(echo.url(), pki.path("ca-bundle.crt"), pki.path("coordinator.crt"),
                           pki.path("coordinator.key")) == second_serial);
    const auto metrics = http_request(metrics_url_of(echo));
    INFO(metrics.body);
    CHECK(metric_value(metrics.body, R"(mcp_mtls_renewals_total{result="ok"})") >= 1);
    CHECK(metric_value(metrics.body, R"(mcp_mtls_renewals_total{result="failed"})") == 0);
    CHECK(std::regex_search(metrics.body, std::regex(R"(mcp_mtls_certificate_not_after_timestamp_seconds\{role="server",[^}]*serial=")" +
                                                     second_serial + "\"\\} " + std::to_string(not_after_of(good + "/tls.crt")))));

    // The revoked one: a WARNING that says how long its certificate has left, files untouched.
    REQUIRE(refused.process().wait_for_log("renewal_failed", 30s));
    const std::string log = refused.log();
    INFO(log);
    CHECK(std::regex_search(log, std::regex(R"(renewal from https://localhost:\d+ failed: .*; the certificate expires in (\d+m)?\d+s; next try in \d+s)")));
    CHECK(read_text(gone + "/tls.crt") + read_text(gone + "/tls.key") == gone_before);
}

TEST_CASE("servers and the client refuse a --renew-from URL that is not https, or files a renewal could not replace", "[renewal]") {
    DemoPki pki;
    auto start = [&](std::vector<std::string> extra) {
        std::vector<std::string> argv = {bin_path("echo-server"), "--port", "0", "--cert", pki.path("echo.crt"),
                                         "--key",            pki.path("echo.key"), "--ca", pki.path("ca-bundle.crt")};
        argv.insert(argv.end(), extra.begin(), extra.end());
        return run_command(argv, {}, std::chrono::seconds(10));
    };
    auto r = start({"--renew-from", "http://localhost:9443"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--renew-from 'http://localhost:9443': only https://") != std::string::npos);
    r = start({"--renew-from", "https://localhost:9443", "--key", "pkcs11:token=t;object=k"});
    CHECK(r.exit_code == 2);
    CHECK(lines_of(r.err).size() == 1);
    r = client({"--cert-dir", pki.dir() + "/nothing-here", "--renew-from", "https://localhost:9443", "tools"});
    CHECK(r.exit_code == 2);
    r = client({"renew", "--ca-url", "http://localhost:9443", "--out-dir", pki.dir()});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("only https://") != std::string::npos);
}
