// The TLS configuration as an outside scanner (sslscan) sees it.
#include "test/support/fixtures.hpp"

#include <catch2/catch.hpp>
#include <regex>
#include <sstream>

using namespace mcpmtls::testing;

TEST_CASE("sslscan finds nothing below TLS 1.2, no non-AEAD or non-forward-secret suite, no compression or renegotiation",
          "[audit]") {
    DemoPki pki;
    ServerProcess echo(pki, "echo");
    auto scan = run_command({"sslscan", "--no-colour", "127.0.0.1:" + std::to_string(echo.port())}, {}, std::chrono::seconds(120));
    REQUIRE(scan.exit_code == 0);
    const std::string& out = scan.out;
    INFO(out);
    for (const char* line : {"SSLv2     disabled", "SSLv3     disabled", "TLSv1.0   disabled", "TLSv1.1   disabled", "TLSv1.3   enabled"})
        CHECK(out.find(line) != std::string::npos);
    CHECK(out.find("Insecure session renegotiation supported") == std::string::npos);
    CHECK(out.find("Compression enabled") == std::string::npos);
    CHECK(out.find("vulnerable to heartbleed") != std::string::npos);
    CHECK(out.find(" is vulnerable to heartbleed") == std::string::npos);
    std::istringstream lines(out);
    std::string line;
    int suites = 0;
    while (std::getline(lines, line)) {
        if (line.rfind("Accepted", 0) != 0 && line.rfind("Preferred", 0) != 0) continue;
        ++suites;
        INFO(line);
        CHECK(std::regex_search(line, std::regex("GCM|CHACHA20|CCM")));           // AEAD only
        CHECK_FALSE(std::regex_search(line, std::regex("CBC|RC4|NULL|EXPORT|DES|MD5")));
        CHECK(std::regex_search(line, std::regex("TLSv1\\.3|ECDHE")));          // forward secrecy
    }
    CHECK(suites >= 3);
    std::smatch key;
    REQUIRE(std::regex_search(out, key, std::regex(R"((ECC|RSA) Key Strength:\s+(\d+))")));
    CHECK(std::stoi(key[2].str()) >= (key[1].str() == "RSA" ? 2048 : 128));
}
