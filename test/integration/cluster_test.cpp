// Certificates as a cluster delivers them: --cert-dir's two layouts, kubelet's atomic writer and
// spiffe-helper's in-place writes while a client keeps calling, and the deployment manifests
// checked against the servers' --help.
#include "test/support/cluster.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <csignal>
#include <thread>

using namespace mcpmtls;
using namespace mcpmtls::testing;

namespace {

size_t occurrences(const std::string& text, const std::string& what) {
    size_t count = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
    return count;
}

bool initialize_succeeds(const std::string& url, const std::string& ca, const std::string& cert, const std::string& key) {
    return curl_mcp(url, ca, cert, key, initialize_body()).out.find("HTTP/1.1 200") != std::string::npos;
}

void require_no_failures(EchoLoad& load) {
    load.stop();
    const auto failures = load.failures();
    INFO("failures: " << failures.size() << "; first: " << (failures.empty() ? "" : failures.front()));
    CHECK(failures.empty());
    CHECK(load.ok() > 0);
}

// Waits until the server presents `serial` to new connections; how long that took.
std::chrono::milliseconds time_until_served(const DemoPki& pki, const std::string& url, const std::string& serial) {
    const auto start = std::chrono::steady_clock::now();
    while (presented_serial(url, pki.path("ca-bundle.crt"), pki.path("coordinator.crt"), pki.path("coordinator.key")) != serial &&
           std::chrono::steady_clock::now() - start < std::chrono::seconds(15))
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
}

}  // namespace

TEST_CASE("--cert-dir reads cert-manager's and spiffe-helper's layouts, --ca may name another bundle", "[k8s]") {
    DemoPki pki;
    TempDir cert_manager, spiffe_helper, no_bundle, trust_manager;
    write_text(cert_manager.file("tls.crt"), read_text(pki.path("echo.crt")));
    write_text(cert_manager.file("tls.key"), read_text(pki.path("echo.key")));
    write_text(cert_manager.file("ca.crt"), read_text(pki.path("ca.crt")));
    write_text(spiffe_helper.file("svid.pem"), read_text(pki.path("echo.crt")));
    write_text(spiffe_helper.file("svid_key.pem"), read_text(pki.path("echo.key")));
    write_text(spiffe_helper.file("svid_bundle.pem"), read_text(pki.path("ca.crt")));
    write_text(no_bundle.file("tls.crt"), read_text(pki.path("echo.crt")));
    write_text(no_bundle.file("tls.key"), read_text(pki.path("echo.key")));
    write_text(trust_manager.file("ca-bundle.crt"), read_text(pki.path("ca-bundle.crt")));

    for (const auto& args : std::vector<std::vector<std::string>>{
             {"--cert-dir", cert_manager.path()},
             {"--cert-dir", spiffe_helper.path()},
             {"--cert-dir", no_bundle.path(), "--ca", trust_manager.file("ca-bundle.crt")}}) {
        INFO(args[1]);
        ServerProcess echo("echo-server", args);
        CHECK(initialize_succeeds(echo.url(), pki.path("ca-bundle.crt"), pki.path("coordinator.crt"), pki.path("coordinator.key")));
        CHECK(echo.log().find(args[1]) != std::string::npos);
    }

    // The client takes the same directories (here with its own certificate).
    TempDir client_dir;
    write_text(client_dir.file("svid.pem"), read_text(pki.path("coordinator.crt")));
    write_text(client_dir.file("svid_key.pem"), read_text(pki.path("coordinator.key")));
    write_text(client_dir.file("svid_bundle.pem"), read_text(pki.path("ca.crt")));
    ServerProcess echo("echo-server", {"--cert-dir", cert_manager.path()});
    const auto called = run_command({bin_path("client"), "--cert-dir", client_dir.path(), "--server", "echo=" + echo.url(), "call",
                                     "echo", "echo", "message=hello"});
    INFO(called.all());
    CHECK(called.exit_code == 0);
    CHECK(called.out.find("hello") != std::string::npos);
}

TEST_CASE("--cert-dir with neither layout, or a certificate without its key, is a one-line usage error", "[k8s]") {
    TempDir empty, key_missing;
    write_text(key_missing.file("tls.crt"), "x");
    DemoPki pki;
    TempDir no_bundle;
    write_text(no_bundle.file("tls.crt"), read_text(pki.path("echo.crt")));
    write_text(no_bundle.file("tls.key"), read_text(pki.path("echo.key")));
    struct Case {
        std::vector<std::string> argv;
        std::string says;
    };
    const std::vector<Case> cases = {
        {{bin_path("echo-server"), "--port", "0", "--cert-dir", empty.path()}, "holds neither cert-manager's tls.crt"},
        {{bin_path("echo-server"), "--port", "0", "--cert-dir", key_missing.path()}, "no tls.key"},
        {{bin_path("echo-server"), "--port", "0", "--cert-dir", no_bundle.path()}, "give --ca"},
        {{bin_path("echo-server"), "--port", "0", "--cert-dir", no_bundle.path(), "--cert", pki.path("echo.crt")}, "give one or the other"},
        {{bin_path("client"), "--cert-dir", empty.path(), "tools"}, "holds neither cert-manager's tls.crt"},
    };
    for (const auto& c : cases) {
        const auto r = run_command(c.argv, {}, std::chrono::seconds(20));
        INFO(c.argv[0] << " " << c.argv.back() << ": " << r.all());
        CHECK(r.exit_code == 2);
        CHECK(r.err.find(c.says) != std::string::npos);
        CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    }
}

TEST_CASE("kubelet's atomic writer, five rotations: each new serial served within --reload-interval + 1 s, no failed request",
          "[k8s]") {
    DemoPki pki;
    TempDir mount;
    KubeletVolume volume(mount.path());
    auto project_secret = [&] {
        volume.project({{"tls.crt", read_text(pki.path("echo.crt"))},
                        {"tls.key", read_text(pki.path("echo.key"))},
                        {"ca.crt", read_text(pki.path("ca.crt"))}});
    };
    project_secret();
    ServerProcess echo("echo-server", {"--cert-dir", mount.path(), "--reload-interval", "1"});
    EchoLoad load(echo.url(), pki.path("ca-bundle.crt"), pki.path("coordinator.crt"), pki.path("coordinator.key"));
    REQUIRE(load.progress(20));
    for (int rotation = 1; rotation <= 5; ++rotation) {
        INFO("rotation " << rotation);
        REQUIRE(pki.pki({"rotate", "echo"}).exit_code == 0);
        const std::string serial = serial_of(pki.path("echo.crt"));
        project_secret();
        CHECK(time_until_served(pki, echo.url(), serial) <= std::chrono::milliseconds(2000));
        REQUIRE(load.progress(10));
    }
    require_no_failures(load);
    const std::string log = echo.log();
    CHECK(occurrences(log, "tls_reloaded") == 5);
    CHECK(log.find("tls_reload_rejected") == std::string::npos);
}

TEST_CASE("spiffe-helper's order (certificate, a pause, then the key): no failed handshake, no mismatched pair loaded, "
          "the final pair served; one WARNING when the pair stays torn for seconds",
          "[k8s]") {
    DemoPki pki;
    TempDir svid;
    write_in_place(svid.file("svid.pem"), read_text(pki.path("echo.crt")));
    write_in_place(svid.file("svid_key.pem"), read_text(pki.path("echo.key")));
    write_in_place(svid.file("svid_bundle.pem"), read_text(pki.path("ca.crt")));
    ServerProcess echo("echo-server", {"--cert-dir", svid.path(), "--reload-interval", "1"});
    EchoLoad load(echo.url(), pki.path("ca-bundle.crt"), pki.path("coordinator.crt"), pki.path("coordinator.key"));
    REQUIRE(load.progress(20));

    // A pause shorter than the settling time: waited for quietly. A long one: one WARNING.
    for (const auto pause : {std::chrono::milliseconds(1500), std::chrono::milliseconds(6000)}) {
        INFO("pause " << pause.count() << " ms");
        const std::string old_serial = serial_of(svid.file("svid.pem"));
        REQUIRE(pki.pki({"rotate", "echo"}).exit_code == 0);
        const std::string serial = serial_of(pki.path("echo.crt"));
        write_in_place(svid.file("svid.pem"), read_text(pki.path("echo.crt")));
        std::this_thread::sleep_for(pause);
        CHECK(presented_serial(echo.url(), pki.path("ca-bundle.crt"), pki.path("coordinator.crt"), pki.path("coordinator.key")) ==
              old_serial);
        write_in_place(svid.file("svid_key.pem"), read_text(pki.path("echo.key")));
        write_in_place(svid.file("svid_bundle.pem"), read_text(pki.path("ca.crt")));
        time_until_served(pki, echo.url(), serial);
        CHECK(presented_serial(echo.url(), pki.path("ca-bundle.crt"), pki.path("coordinator.crt"), pki.path("coordinator.key")) ==
              serial);
        REQUIRE(load.progress(10));
    }
    require_no_failures(load);
    const std::string log = echo.log();
    CHECK(occurrences(log, "tls_reloaded") == 2);  // the two complete pairs, nothing in between
    CHECK(log.find("tls_reload_rejected") == std::string::npos);
    CHECK(occurrences(log, "tls_credentials_torn") == 1);
    CHECK(log.find("warning tls_credentials_torn") != std::string::npos);
}

TEST_CASE("SIGUSR1 reloads, as SIGHUP does", "[k8s]") {
    DemoPki pki;
    ServerProcess echo(pki, "echo", {"--reload-interval", "3600"});
    REQUIRE(pki.pki({"rotate", "echo"}).exit_code == 0);
    echo.process().signal(SIGUSR1);
    REQUIRE(echo.process().wait_for_log("trigger=SIGUSR1"));
    CHECK(presented_serial(echo.url(), pki.path("ca-bundle.crt"), pki.path("coordinator.crt"), pki.path("coordinator.key")) ==
          serial_of(pki.path("echo.crt")));
}

TEST_CASE("every deployment manifest parses as YAML, and every flag and file it gives a server exists", "[k8s]") {
    const auto r = run_command({"/usr/bin/python3", source_path("test/support/check_manifests.py"), source_path("deploy/kubernetes"),
                                bin_path("")});
    INFO(r.all());
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("manifests checked") != std::string::npos);
}
