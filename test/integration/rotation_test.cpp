// Rotation, revocation and hot reload while the servers serve: zero failed requests.
#include "client/mcp_session.hpp"
#include "common/files.hpp"
#include "test/support/fixtures.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <csignal>
#include <mutex>
#include <thread>

using namespace mcpmtls;
using namespace mcpmtls::testing;

namespace {

// Clients that keep calling echo: some on one kept-alive connection, some with a new
// connection (and a fresh look at the certificate files) for every call.
class ContinuousLoad {
public:
    ContinuousLoad(const DemoPki& pki, std::string url) : pki_(pki), url_(std::move(url)) {
        for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { reused_connection(); });
        for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { new_connections(); });
    }
    ~ContinuousLoad() { stop(); }

    void stop() {
        running_ = false;
        for (auto& t : threads_)
            if (t.joinable()) t.join();
    }
    int ok() const { return ok_; }
    std::vector<std::string> failures() {
        std::lock_guard<std::mutex> lock(mutex_);
        return failures_;
    }
    // Waits until at least `n` more calls have succeeded.
    bool progress(int n, std::chrono::seconds timeout = std::chrono::seconds(20)) {
        const int target = ok_ + n;
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (ok_ < target && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        return ok_ >= target;
    }

private:
    std::shared_ptr<const tls::ClientTlsContext> context() {
        // A reloading client: re-read the files; if they are mid-update, keep the last good set.
        try {
            tls::ClientTlsSettings settings;
            settings.ca_path = pki_.path("ca-bundle.crt");
            settings.cert_path = pki_.path("coordinator.crt");
            settings.key_path = pki_.path("coordinator.key");
            last_ = std::make_shared<const tls::ClientTlsContext>(settings);
        } catch (const std::exception&) {
        }
        return last_;
    }
    void record(const std::string& what) {
        std::lock_guard<std::mutex> lock(mutex_);
        failures_.push_back(what);
    }
    void reused_connection() {
        std::shared_ptr<const tls::ClientTlsContext> ctx;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            ctx = context();
        }
        client::McpSession session("echo", client::Url::parse(url_), ctx);
        session.set_protocol(client::VersionChoice{"2025-11-25"});
        while (running_) {
            try {
                auto r = session.call_tool("echo", {{"message", "kept"}});
                if (r.value("isError", true)) record("tool error"); else ++ok_;
            } catch (const std::exception& e) {
                record(std::string("reused: ") + e.what());
            }
        }
    }
    void new_connections() {
        while (running_) {
            std::shared_ptr<const tls::ClientTlsContext> ctx;
            {
                std::lock_guard<std::mutex> lock(mutex_);
                ctx = context();
            }
            try {
                client::McpSession session("echo", client::Url::parse(url_), ctx);
                session.set_protocol(client::VersionChoice{"2025-11-25"});
                auto r = session.call_tool("echo", {{"message", "fresh"}});
                if (r.value("isError", true)) record("tool error"); else ++ok_;
            } catch (const std::exception& e) {
                record(std::string("new connection: ") + e.what());
            }
        }
    }

    const DemoPki& pki_;
    std::string url_;
    std::atomic<bool> running_{true};
    std::atomic<int> ok_{0};
    std::mutex mutex_;
    std::vector<std::string> failures_;
    std::shared_ptr<const tls::ClientTlsContext> last_;
    std::vector<std::thread> threads_;
};

// The serial the server presents to a new connection.
std::string presented_serial(const DemoPki& pki, const std::string& url) {
    tls::ClientTlsSettings settings;
    settings.ca_path = pki.path("ca-bundle.crt");
    settings.cert_path = pki.path("coordinator.crt");
    settings.key_path = pki.path("coordinator.key");
    auto ctx = std::make_shared<const tls::ClientTlsContext>(settings);
    client::HttpConnection connection(client::Url::parse(url), ctx);
    connection.connect();
    return connection.verdict().chain.front().serial_hex();
}

std::string current_serial(const std::string& cert) {
    auto r = run_shell("openssl x509 -noout -serial -in '" + cert + "' | cut -d= -f2 | tr A-F a-f");
    return r.out.substr(0, r.out.find('\n'));
}

void require_no_failures(ContinuousLoad& load) {
    load.stop();
    auto failures = load.failures();
    INFO("first failure: " << (failures.empty() ? "" : failures.front()));
    CHECK(failures.empty());
    CHECK(load.ok() > 0);
}

}  // namespace

TEST_CASE("pki rotate plus SIGHUP under load: zero failed requests, new handshakes see the new serial", "[rotation]") {
    DemoPki pki;
    ServerProcess echo(pki, "echo", {"--reload-interval", "3600"});
    ContinuousLoad load(pki, echo.url());
    REQUIRE(load.progress(20));
    const std::string old_serial = current_serial(pki.path("echo.crt"));
    REQUIRE(pki.pki({"rotate", "echo"}).exit_code == 0);
    const std::string new_serial = current_serial(pki.path("echo.crt"));
    REQUIRE(old_serial != new_serial);
    CHECK(presented_serial(pki, echo.url()) == old_serial);  // no reload yet: the old snapshot serves
    echo.process().signal(SIGHUP);
    REQUIRE(echo.process().wait_for_log("tls_reloaded"));
    CHECK(presented_serial(pki, echo.url()) == new_serial);
    REQUIRE(load.progress(20));
    require_no_failures(load);
}

TEST_CASE("a certificate file change is picked up without SIGHUP, with zero failed requests", "[rotation]") {
    DemoPki pki;
    ServerProcess echo(pki, "echo", {"--reload-interval", "1"});
    ContinuousLoad load(pki, echo.url());
    REQUIRE(load.progress(20));
    REQUIRE(pki.pki({"rotate", "echo"}).exit_code == 0);
    const std::string new_serial = current_serial(pki.path("echo.crt"));
    REQUIRE(echo.process().wait_for_log("\"file change\"") | echo.process().wait_for_log("trigger=\"file change\""));
    REQUIRE(echo.process().wait_for_log("certificate_serial=" + new_serial));
    CHECK(presented_serial(pki, echo.url()) == new_serial);
    REQUIRE(load.progress(20));
    require_no_failures(load);
}

TEST_CASE("a full CA rotation under load causes zero failures; afterwards the old CA's client certificate is refused",
          "[rotation]") {
    DemoPki pki;
    ServerProcess echo(pki, "echo", {"--reload-interval", "1"});
    // A client certificate that will stay on the old CA.
    REQUIRE(pki.pki({"issue", "client", "straggler"}).exit_code == 0);
    write_file_atomic(pki.path("straggler-old.crt"), read_text(pki.path("straggler.crt")));
    write_file_atomic(pki.path("straggler-old.key"), read_text(pki.path("straggler.key")), 0600);
    ContinuousLoad load(pki, echo.url());
    REQUIRE(load.progress(20));

    REQUIRE(pki.pki({"rotate-ca"}).exit_code == 0);
    REQUIRE(echo.process().wait_for_log("trusted_cas=2"));
    REQUIRE(load.progress(10));
    for (const char* name : {"echo", "coordinator", "straggler", "weather", "datetime"}) REQUIRE(pki.pki({"rotate", name}).exit_code == 0);
    REQUIRE(echo.process().wait_for_log("certificate_serial=" + current_serial(pki.path("echo.crt"))));
    REQUIRE(load.progress(20));
    auto finish = pki.pki({"rotate-ca", "--finish"});
    REQUIRE(finish.exit_code == 0);
    REQUIRE(echo.process().wait_for_log("trusted_cas=1"));
    REQUIRE(load.progress(20));
    require_no_failures(load);

    auto refused = curl_mcp(echo.url(), pki.path("ca-bundle.crt"), pki.path("straggler-old.crt"), pki.path("straggler-old.key"),
                            initialize_body());
    CHECK(refused.exit_code != 0);
    CHECK(echo.process().wait_for_log("reason=\"issuer not found\""));
    auto fresh = curl_mcp(echo.url(), pki.path("ca-bundle.crt"), pki.path("straggler.crt"), pki.path("straggler.key"), initialize_body());
    CHECK(fresh.out.find("HTTP/1.1 200") != std::string::npos);
}

TEST_CASE("rotate-ca --finish refuses while valid certificates from the old CA remain", "[rotation]") {
    DemoPki pki;
    REQUIRE(pki.pki({"rotate-ca"}).exit_code == 0);
    auto early = pki.pki({"rotate-ca", "--finish"});
    CHECK(early.exit_code == 1);
    CHECK(early.err.find("coordinator") != std::string::npos);
    CHECK(pki.pki({"rotate-ca"}).exit_code == 1);  // one rotation at a time
}

TEST_CASE("a revoked client is refused within 5 seconds, session resumption included; others are unaffected", "[rotation]") {
    DemoPki pki;
    REQUIRE(pki.pki({"issue", "client", "bystander"}).exit_code == 0);
    REQUIRE(pki.pki({"crl"}).exit_code == 0);  // servers start with a CRL in place
    ServerProcess echo(pki, "echo", {"--reload-interval", "1"});

    tls::ClientTlsSettings settings;
    settings.ca_path = pki.path("ca-bundle.crt");
    settings.cert_path = pki.path("coordinator.crt");
    settings.key_path = pki.path("coordinator.key");
    auto ctx = std::make_shared<const tls::ClientTlsContext>(settings);
    client::McpSession session("echo", client::Url::parse(echo.url()), ctx);
    session.set_protocol(client::VersionChoice{"2025-11-25"});
    session.call_tool("echo", {{"message", "before"}});
    // Resumption works before the revocation (so the check below means something).
    session.connection().close();
    session.call_tool("echo", {{"message", "resumed"}});
    CHECK(session.connection().session_info().resumed);
    session.connection().close();  // keeps the session ticket for the next attempt

    REQUIRE(pki.pki({"revoke", "coordinator", "--reason", "keyCompromise"}).exit_code == 0);
    const auto revoked_at = std::chrono::steady_clock::now();
    REQUIRE(echo.process().wait_for_log("trust_changed=true", std::chrono::milliseconds(5000)));
    CHECK(std::chrono::steady_clock::now() - revoked_at < std::chrono::seconds(5));

    CHECK_THROWS(session.call_tool("echo", {{"message", "after"}}));  // the saved ticket must not help
    CHECK(echo.process().wait_for_log("reason=\"certificate is revoked\""));
    auto bystander = curl_mcp(echo.url(), pki.path("ca-bundle.crt"), pki.path("bystander.crt"), pki.path("bystander.key"), initialize_body());
    CHECK(bystander.out.find("HTTP/1.1 200") != std::string::npos);
}

TEST_CASE("a corrupt certificate dropped in place is rejected and logged; the old one keeps serving", "[rotation]") {
    DemoPki pki;
    ServerProcess echo(pki, "echo", {"--reload-interval", "1"});
    const std::string serial = current_serial(pki.path("echo.crt"));
    const std::string good_certificate = read_text(pki.path("echo.crt"));
    write_text(pki.path("echo.crt"), "-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n");
    REQUIRE(echo.process().wait_for_log("tls_reload_rejected"));
    CHECK(echo.log().find("error tls_reload_rejected") != std::string::npos);
    CHECK(presented_serial(pki, echo.url()) == serial);
    // A key that does not match its certificate is rejected the same way.
    REQUIRE(pki.pki({"issue", "client", "spare"}).exit_code == 0);
    write_file_atomic(pki.path("echo.key"), read_text(pki.path("spare.key")), 0600);
    write_file_atomic(pki.path("echo.crt"), good_certificate);
    echo.process().signal(SIGHUP);
    REQUIRE(echo.process().wait_for_log("does not match", std::chrono::milliseconds(5000)));
    CHECK(presented_serial(pki, echo.url()) == serial);
    CHECK(echo.process().running());
}
