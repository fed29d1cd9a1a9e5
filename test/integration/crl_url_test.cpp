// --crl-url: the CRL published over HTTPS by a small server in the test (openssl s_server -WWW,
// serving the directory `pki crl --der` writes to), fetched by every replica, verified, and
// applied; a stale CRL handled as --crl-stale says.
#include "test/support/cluster.hpp"

#include <catch2/catch.hpp>
#include <thread>

using namespace mcpmtls;
using namespace mcpmtls::testing;

namespace {

// openssl s_server -WWW in `dir` (files served by path) with the PKI's certificate "crl-server".
class CrlServer {
public:
    CrlServer(const DemoPki& pki, const std::string& dir) : port_(free_tcp_port()) {
        process_ = std::make_unique<BackgroundProcess>(
            std::vector<std::string>{"/bin/bash", "-c",
                                     "cd '" + dir + "' && exec openssl s_server -quiet -WWW -accept " + std::to_string(port_) +
                                         " -cert '" + pki.path("crl-server.crt") + "' -key '" + pki.path("crl-server.key") + "'"},
            log_.file("s_server.log"));
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (std::chrono::steady_clock::now() < deadline) {
            try {
                TcpConnection probe(port_);
                return;
            } catch (const std::exception&) {
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
        }
        throw std::runtime_error("openssl s_server did not start: " + process_->log());
    }
    std::string url(const std::string& file, const std::string& host = "localhost") const {
        return "https://" + host + ":" + std::to_string(port_) + "/" + file;
    }

private:
    TempDir log_;
    int port_;
    std::unique_ptr<BackgroundProcess> process_;
};

bool admitted(const DemoPki& pki, const ServerProcess& server, const std::string& client) {
    return curl_mcp(server.url(), pki.path("ca-bundle.crt"), pki.path(client + ".crt"), pki.path(client + ".key"), initialize_body())
               .out.find("HTTP/1.1 200") != std::string::npos;
}

// The servers trust a copy of the bundle in a directory without ca.crl, so that only --crl-url
// brings them a CRL.
std::string isolated_bundle(const DemoPki& pki, const TempDir& dir) {
    write_text(dir.file("ca-bundle.crt"), read_text(pki.path("ca-bundle.crt")));
    return dir.file("ca-bundle.crt");
}

// A CRL of the PKI's CA that goes stale `seconds` after now, made by `openssl ca -gencrl` (an
// hour old, so that the CRL `pki crl` makes later is newer).
void write_short_lived_crl(const DemoPki& pki, const std::string& out, int seconds) {
    const std::string db = pki.dir() + "/openssl-crl";
    const auto r = run_shell("set -e; mkdir -p '" + db + "'; : > '" + db + "/index.txt'; printf '[ca]\\ndefault_ca=c\\n[c]\\ndatabase=" +
                             db + "/index.txt\\ndefault_md=sha256\\n' > '" + db + "/ca.cnf'; openssl ca -gencrl -batch -config '" + db +
                             "/ca.cnf' -cert '" + pki.path("ca.crt") + "' -keyfile '" + pki.path("ca.key") +
                             "' -crl_lastupdate $(date -u -d '-1 hour' +%Y%m%d%H%M%SZ) -crl_nextupdate $(date -u -d '+" +
                             std::to_string(seconds) + " seconds' +%Y%m%d%H%M%SZ) -out '" + db + "/crl.pem' 2>&1; openssl crl -in '" + db +
                             "/crl.pem' -outform DER -out '" + out + "'");
    if (r.exit_code != 0) throw std::runtime_error("openssl ca -gencrl: " + r.all());
}

}  // namespace

TEST_CASE("a client revoked at the CRL URL is refused within --crl-refresh + 1 s by every replica", "[crl-url]") {
    DemoPki pki;
    REQUIRE(pki.pki({"issue", "server", "crl-server", "--dns", "localhost"}).exit_code == 0);
    REQUIRE(pki.pki({"issue", "client", "victim"}).exit_code == 0);
    REQUIRE(pki.pki({"crl", "--der"}).exit_code == 0);
    CrlServer publisher(pki, pki.dir());
    TempDir trust;
    const std::string bundle = isolated_bundle(pki, trust);
    std::vector<std::unique_ptr<ServerProcess>> replicas;
    for (int i = 0; i < 3; ++i)
        replicas.push_back(std::make_unique<ServerProcess>(
            "echo-server", pki.path("echo.crt"), pki.path("echo.key"), bundle,
            std::vector<std::string>{"--crl-url", publisher.url("ca.crl.der"), "--crl-refresh", "2", "--metrics-bind", "127.0.0.1:0"}));
    for (auto& replica : replicas) {
        INFO(replica->log());
        CHECK(replica->log().find("crl_installed") != std::string::npos);
        CHECK(admitted(pki, *replica, "victim"));
        CHECK(http_request(metrics_url_of(*replica)).body.find("mcp_mtls_crl_next_update_timestamp_seconds ") != std::string::npos);
    }

    REQUIRE(pki.pki({"revoke", "victim", "--reason", "keyCompromise"}).exit_code == 0);
    const auto revoked_at = std::chrono::steady_clock::now();
    std::vector<bool> refused(replicas.size(), false);
    while (std::count(refused.begin(), refused.end(), false) > 0 &&
           std::chrono::steady_clock::now() - revoked_at < std::chrono::seconds(10)) {
        for (size_t i = 0; i < replicas.size(); ++i)
            if (!refused[i]) refused[i] = !admitted(pki, *replicas[i], "victim");
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    CHECK(std::chrono::steady_clock::now() - revoked_at <= std::chrono::seconds(3));
    for (auto& replica : replicas) {
        INFO(replica->log());
        CHECK(replica->process().wait_for_log("reason=\"certificate is revoked\""));
        CHECK(admitted(pki, *replica, "coordinator"));
    }
}

TEST_CASE("a stale CRL from the URL: fail-closed refuses and says why, fail-open admits; a fresh one ends it", "[crl-url]") {
    DemoPki pki;
    REQUIRE(pki.pki({"issue", "server", "crl-server", "--dns", "localhost"}).exit_code == 0);
    write_short_lived_crl(pki, pki.path("ca.crl.der"), 4);
    CrlServer publisher(pki, pki.dir());
    TempDir trust;
    const std::string bundle = isolated_bundle(pki, trust);
    const std::vector<std::string> common = {"--crl-url", publisher.url("ca.crl.der"), "--crl-refresh", "1",
                                             "--reload-interval", "1", "--metrics-bind", "127.0.0.1:0"};
    auto with = [&](const std::string& policy) {
        auto args = common;
        if (!policy.empty()) args.insert(args.end(), {"--crl-stale", policy});
        return std::make_unique<ServerProcess>("echo-server", pki.path("echo.crt"), pki.path("echo.key"), bundle, args);
    };
    auto closed = with("");  // the default
    auto open = with("fail-open");
    CHECK(admitted(pki, *closed, "coordinator"));
    CHECK(admitted(pki, *open, "coordinator"));

    REQUIRE(closed->process().wait_for_log("crl_stale", std::chrono::milliseconds(10000)));
    REQUIRE(open->process().wait_for_log("crl_stale", std::chrono::milliseconds(10000)));
    CHECK_FALSE(admitted(pki, *closed, "coordinator"));
    CHECK(closed->process().wait_for_log("error crl_stale"));
    CHECK(closed->process().wait_for_log("--crl-stale fail-closed"));
    const auto not_ready = http_request(base_of(metrics_url_of(*closed)) + "/readyz");
    CHECK(not_ready.status == 503);
    CHECK(not_ready.body.find("the CRL is stale") != std::string::npos);
    CHECK(admitted(pki, *open, "coordinator"));
    CHECK(open->process().wait_for_log("warning crl_stale"));
    CHECK(http_request(base_of(metrics_url_of(*open)) + "/readyz").status == 200);

    REQUIRE(pki.pki({"crl", "--der"}).exit_code == 0);  // a fresh CRL (7 days) at the same URL
    REQUIRE(closed->process().wait_for_log("crl_fresh", std::chrono::milliseconds(5000)));
    CHECK(admitted(pki, *closed, "coordinator"));
    CHECK(http_request(base_of(metrics_url_of(*closed)) + "/readyz").status == 200);
}

TEST_CASE("until a CRL comes from the URL, fail-closed refuses; a CRL server with the wrong name is refused", "[crl-url]") {
    DemoPki pki;
    REQUIRE(pki.pki({"issue", "server", "crl-server", "--dns", "localhost"}).exit_code == 0);
    REQUIRE(pki.pki({"crl", "--der"}).exit_code == 0);
    CrlServer publisher(pki, pki.dir());
    TempDir trust;
    // 127.0.0.1 is not a name of the CRL server's certificate (localhost only).
    ServerProcess echo("echo-server", pki.path("echo.crt"), pki.path("echo.key"), isolated_bundle(pki, trust),
                       {"--crl-url", publisher.url("ca.crl.der", "127.0.0.1"), "--metrics-bind", "127.0.0.1:0"});
    CHECK(echo.process().wait_for_log("crl_fetch_failed"));
    CHECK(echo.log().find("certificate was refused") != std::string::npos);
    CHECK_FALSE(admitted(pki, echo, "coordinator"));
    CHECK(echo.process().wait_for_log("no CRL fetched from"));
    const auto not_ready = http_request(base_of(metrics_url_of(echo)) + "/readyz");
    CHECK(not_ready.status == 503);
    CHECK(not_ready.body.find("no CRL fetched") != std::string::npos);
}

TEST_CASE("--crl-url takes https URLs only", "[crl-url]") {
    DemoPki pki;
    for (const char* url : {"http://localhost/ca.crl", "https://localhost", "https://:443/x", "https://h:99999/x"}) {
        const auto r = run_command({bin_path("echo-server"), "--port", "0", "--cert", pki.path("echo.crt"), "--key", pki.path("echo.key"),
                                    "--ca", pki.path("ca-bundle.crt"), "--crl-url", url});
        INFO(url << ": " << r.all());
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("--crl-url") != std::string::npos);
    }
}
