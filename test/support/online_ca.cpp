#include "test/support/online_ca.hpp"

#include "common/strings.hpp"

#include <algorithm>
#include <cctype>
#include <regex>
#include <stdexcept>

namespace mcpmtls::testing {

OnlineCaProcess::OnlineCaProcess(const DemoPki& pki, std::vector<std::string> extra) : pki_(pki) {
    std::vector<std::string> argv{bin_path("pki"), "serve", "--dir", pki.dir(), "--port", "0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    process_ = std::make_unique<BackgroundProcess>(argv, work_.file("pki-serve.log"));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!process_->wait_for_log("ca_started", std::chrono::milliseconds(100)))
        if (!process_->running() || std::chrono::steady_clock::now() > deadline)
            throw std::runtime_error("pki serve did not start: " + process_->log());
    std::smatch match;
    const std::string log = process_->log();
    if (!std::regex_search(log, match, std::regex("ca_started .*port=([0-9]+)")))
        throw std::runtime_error("pki serve logged no port: " + log);
    port_ = std::stoi(match[1]);
}

std::string enrollment_token(const DemoPki& pki, std::vector<std::string> args) {
    args.insert(args.begin(), "token");
    const auto result = pki.pki(args);
    if (result.exit_code != 0) throw std::runtime_error("pki token failed: " + result.all());
    return trim(result.out);
}

std::string OnlineCaProcess::root_fingerprint() const {
    const auto result = run_shell("openssl x509 -in '" + pki_.path("ca.crt") + "' -noout -fingerprint -sha256");
    if (result.exit_code != 0) throw std::runtime_error("openssl x509 -fingerprint: " + result.all());
    std::string hex = trim(result.out.substr(result.out.find('=') + 1));
    hex.erase(std::remove(hex.begin(), hex.end(), ':'), hex.end());
    std::transform(hex.begin(), hex.end(), hex.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return "sha256:" + hex;
}

HttpAnswer OnlineCaProcess::curl(std::vector<std::string> options) const {
    const std::string headers = work_.file("headers");
    std::vector<std::string> argv{"curl", "-sS", "-o", "-", "-D", headers, "-w", "\n%{http_code}", "--cacert",
                                  pki_.path("ca-bundle.crt"), "--max-time", "30"};
    argv.insert(argv.end(), options.begin(), options.end());
    const auto result = run_command(argv);
    HttpAnswer answer;
    const auto newline = result.out.rfind('\n');
    if (newline == std::string::npos) throw std::runtime_error("curl: " + result.all());
    answer.status = std::atoi(result.out.c_str() + newline + 1);
    answer.body = result.out.substr(0, newline);
    answer.headers = read_text(headers);
    return answer;
}

HttpAnswer OnlineCaProcess::get(const std::string& path, const std::vector<std::string>& curl_options) const {
    std::vector<std::string> options = curl_options;
    options.push_back(url() + path);
    return curl(options);
}

HttpAnswer OnlineCaProcess::post(const std::string& path, const std::string& body, const std::string& cert,
                                 const std::string& key) const {
    const std::string body_file = work_.file("body.json");
    write_text(body_file, body);
    std::vector<std::string> options{"-H", "Content-Type: application/json", "--data-binary", "@" + body_file};
    if (!cert.empty()) options.insert(options.end(), {"--cert", cert, "--key", key});
    options.push_back(url() + path);
    return curl(options);
}

}  // namespace mcpmtls::testing
