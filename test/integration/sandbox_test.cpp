// Landlock, seen from outside the server: the kernel's no_new_privs flag in /proc/PID/status,
// and what the server itself logs when a reload would read a file outside the directories it
// kept. Reloads of its own files, and a kubelet `..data` swap, still work.
#include "test/support/cluster.hpp"

#include <catch2/catch.hpp>
#include <csignal>
#include <cstdio>
#include <regex>
#include <unistd.h>

using namespace mcpmtls::testing;
using namespace std::chrono_literals;

namespace {

// "NoNewPrivs:\t1" of /proc/PID/status: set by the sandbox (Landlock requires it), never by a
// server without one.
int no_new_privs(int pid) {
    std::smatch m;
    const std::string status = read_text("/proc/" + std::to_string(pid) + "/status");
    return std::regex_search(status, m, std::regex(R"(NoNewPrivs:\s+(\d))")) ? std::stoi(m[1].str()) : -1;
}

// The kernel may lack Landlock (then the server says so once and runs without it).
bool sandboxed(ServerProcess& server) {
    if (server.log().find("sandbox_unavailable") != std::string::npos) return false;
    REQUIRE(server.process().wait_for_log("landlock_abi="));
    return true;
}

// Replaces `path` with `target` (a symlink when `link`, else a copy) in one rename.
void replace(const std::string& path, const std::string& target, bool link) {
    const std::string staged = path + ".new";
    std::remove(staged.c_str());
    if (link) REQUIRE(::symlink(target.c_str(), staged.c_str()) == 0);
    else write_text(staged, read_text(target));
    REQUIRE(std::rename(staged.c_str(), path.c_str()) == 0);
}

}  // namespace

TEST_CASE("a sandboxed server reloads its own files, and a reload reaching outside its directories is refused", "[sandbox]") {
    DemoPki pki;
    TempDir served, elsewhere;
    for (const char* file : {"echo.crt", "echo.key"}) write_text(served.file(file), read_text(pki.path(file)));
    REQUIRE(pki.pki({"issue", "server", "echo-next", "--dns", "localhost", "--ip", "127.0.0.1"}).exit_code == 0);
    for (const char* ext : {".crt", ".key"}) write_text(elsewhere.file(std::string("echo") + ext), read_text(pki.path("echo-next" + std::string(ext))));
    ServerProcess echo("echo-server", served.file("echo.crt"), served.file("echo.key"), pki.path("ca-bundle.crt"),
                       {"--reload-interval", "3600"});
    if (!sandboxed(echo)) {
        WARN("this kernel has no Landlock: only the best-effort message is checked");
        const std::string log = echo.log();
        CHECK(log.find("sandbox_unavailable") == log.rfind("sandbox_unavailable"));  // once
        return;
    }
    CHECK(no_new_privs(echo.process().pid()) == 1);
    const auto client = [&] {
        return presented_serial(echo.url(), pki.path("ca.crt"), pki.path("coordinator.crt"), pki.path("coordinator.key"));
    };
    const std::string first = serial_of(pki.path("echo.crt"));
    const std::string next = serial_of(pki.path("echo-next.crt"));
    REQUIRE(client() == first);

    // The files now name a pair outside the allowed directories: the kernel refuses to open it.
    replace(served.file("echo.crt"), elsewhere.file("echo.crt"), true);
    replace(served.file("echo.key"), elsewhere.file("echo.key"), true);
    echo.process().signal(SIGHUP);
    REQUIRE(echo.process().wait_for_log("tls_reload_rejected"));
    CHECK(std::regex_search(echo.log(), std::regex(R"(tls_reload_rejected reason="cannot read [^"]*: Permission denied")")));
    CHECK(client() == first);  // the last good pair keeps serving

    // The same pair copied into the server's own directory loads.
    replace(served.file("echo.crt"), elsewhere.file("echo.crt"), false);
    replace(served.file("echo.key"), elsewhere.file("echo.key"), false);
    echo.process().signal(SIGHUP);
    REQUIRE(echo.process().wait_for_log("tls_reloaded"));
    CHECK(client() == next);
    CHECK(echo.process().running());
}

TEST_CASE("a sandboxed server follows a kubelet ..data swap of its --cert-dir", "[sandbox]") {
    DemoPki pki;
    TempDir mount;
    KubeletVolume volume(mount.path());
    const auto project = [&](const std::string& name) {
        volume.project({{"tls.crt", read_text(pki.path(name + ".crt"))},
                        {"tls.key", read_text(pki.path(name + ".key"))},
                        {"ca.crt", read_text(pki.path("ca.crt"))}});
    };
    project("echo");
    ServerProcess echo("echo-server", {"--cert-dir", mount.path(), "--reload-interval", "1"});
    if (!sandboxed(echo)) return;
    REQUIRE(pki.pki({"rotate", "echo"}).exit_code == 0);
    project("echo");
    REQUIRE(echo.process().wait_for_log("tls_reloaded"));
    CHECK(presented_serial(echo.url(), pki.path("ca.crt"), pki.path("coordinator.crt"), pki.path("coordinator.key")) ==
          serial_of(pki.path("echo.crt")));
    CHECK(echo.log().find("tls_reload_rejected") == std::string::npos);
}

TEST_CASE("--no-sandbox leaves the server unrestricted, and says so", "[sandbox]") {
    DemoPki pki;
    ServerProcess echo(pki, "echo", {"--no-sandbox"});
    CHECK(echo.process().wait_for_log("sandbox_off reason=--no-sandbox"));
    CHECK(no_new_privs(echo.process().pid()) == 0);
}
