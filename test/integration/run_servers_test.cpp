// `make run-servers` (scripts/run-servers.sh) says that servers are listening only when they
// are: a demo port that is taken makes it fail with the reason, and stop the servers it started.
// These tests use the demo's fixed ports 8443-8445 (every other test uses ephemeral ports).
#include "test/support/fixtures.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace mcpmtls::testing;

namespace {

// A listening socket on 127.0.0.1:PORT for as long as it lives (-1 if the port was taken).
class HeldPort {
public:
    explicit HeldPort(int port) {
        fd_ = socket(AF_INET, SOCK_STREAM, 0);
        // As the servers bind: a connection they closed lingers in TIME_WAIT on the port, which
        // must not count as the port being taken (a listening socket still does).
        const int on = 1;
        setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<uint16_t>(port));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd_, 4) != 0) {
            close(fd_);
            fd_ = -1;
        }
    }
    ~HeldPort() {
        if (fd_ >= 0) close(fd_);
    }
    HeldPort(const HeldPort&) = delete;
    HeldPort& operator=(const HeldPort&) = delete;
    bool held() const { return fd_ >= 0; }

private:
    int fd_ = -1;
};

bool file_exists_here(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

std::string bin_dir() {
    const auto pki = bin_path("pki");
    return pki.substr(0, pki.rfind('/'));
}

}  // namespace

TEST_CASE("run-servers fails with the reason, and stops the others, when a demo port is taken", "[run-servers]") {
    TempDir certs;
    HeldPort taken(8443);
    for (int port : {8444, 8445}) REQUIRE(HeldPort(port).held());  // the rest of the demo ports are free

    const auto r = run_command({"bash", source_path("scripts/run-servers.sh")},
                               {{"BIN", bin_dir()}, {"CERTS", certs.path()}}, std::chrono::seconds(120));
    INFO(r.all());
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("weather-server did not start on port 8443") != std::string::npos);
    CHECK(r.err.find("port in use") != std::string::npos);
    CHECK(r.out.find("are listening") == std::string::npos);
    CHECK(r.out.find("https://localhost:8444/mcp") == std::string::npos);
    // The two servers that did start were stopped again.
    CHECK(HeldPort(8444).held());
    CHECK(HeldPort(8445).held());
}

TEST_CASE("run-servers names the servers once they listen and stops them all on SIGTERM", "[run-servers]") {
    TempDir certs, logs;
    for (int port : {8443, 8444, 8445}) REQUIRE(HeldPort(port).held());

    BackgroundProcess script({"env", "BIN=" + bin_dir(), "CERTS=" + certs.path(), "bash", source_path("scripts/run-servers.sh")},
                             logs.file("run-servers.log"));
    REQUIRE(script.wait_for_log("Press Ctrl-C", std::chrono::seconds(60)));
    const auto log = script.log();
    INFO(log);
    CHECK(log.find("Three MCP servers are listening") != std::string::npos);
    // The banner comes after every server's own start-up line.
    CHECK(log.rfind("server_started") < log.find("are listening"));
    for (int port : {8443, 8444, 8445}) CHECK_FALSE(HeldPort(port).held());
    // The curl lines in the banner set SESSION themselves, and work as printed.
    const auto from = log.find("or with curl");
    const auto to = log.find("Press Ctrl-C");
    REQUIRE((from != std::string::npos && to != std::string::npos));
    std::string lines = log.substr(log.find('\n', from) + 1, to - log.find('\n', from) - 1);
    CHECK(lines.find("SESSION=$(curl") != std::string::npos);
    const auto curl = run_command({"bash", "-euo", "pipefail", "-c", lines});
    INFO(curl.all());
    CHECK(curl.exit_code == 0);
    CHECK(curl.out.find("hello") != std::string::npos);

    CHECK(script.stop() == 0);
    for (int port : {8443, 8444, 8445}) CHECK(HeldPort(port).held());
}

namespace {

// The body of the first ```sh block after `heading` in the README.
std::string readme_block(const std::string& heading) {
    const std::string readme = read_text(source_path("README.md"));
    const auto at = readme.find(heading);
    REQUIRE(at != std::string::npos);
    const auto open = readme.find("```sh\n", at);
    const auto close = readme.find("```", open + 6);
    return readme.substr(open + 6, close - open - 6);
}

}  // namespace

TEST_CASE("the README's PKI blocks, run from the checkout as written, leave nothing in it", "[readme]") {
    const std::vector<std::string> demo_files = {"mycerts", "root", "issuing", "offline", "agent-7.key", "agent-7.csr", "weather.p12"};
    for (const auto& file : demo_files) REQUIRE_FALSE(file_exists_here(source_path(file)));
    for (const std::string heading : {"### A PKI of your own", "### An offline root and an intermediate"}) {
        std::string block = readme_block(heading);
        // The binaries under test (a sanitizer build's folder, say) in place of the checkout's.
        const std::string written = "pki=$PWD/bin/pki";
        REQUIRE(block.find(written) != std::string::npos);
        block.replace(block.find(written), written.size(), "pki=" + bin_path("pki"));
        const auto r = run_command({"bash", "-e", "-c", block}, {{"PKI_EXPORT_PASSPHRASE", "readme"}});
        INFO(heading << "\n" << block << "\n" << r.all());
        CHECK(r.exit_code == 0);
        for (const auto& file : demo_files) CHECK_FALSE(file_exists_here(source_path(file)));
    }
    // And what a demo would write in the checkout is git-ignored all the same.
    const std::string ignore = read_text(source_path(".gitignore"));
    for (const char* pattern : {"/mycerts/", "/root/", "/issuing/", "/offline/", "/*.key", "/*.p12", "/*.csr"})
        CHECK(ignore.find(pattern) != std::string::npos);
}
