#include "test/support/cluster.hpp"

#include "client/mcp_session.hpp"

#include <cstdio>
#include <fcntl.h>
#include <regex>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace mcpmtls::testing {

void KubeletVolume::project(const std::map<std::string, std::string>& files) {
    // kubelet names them ..YYYY_MM_DD_HH_MM_SS.NNNNNNNNN; a counter keeps ours distinct.
    char name[64];
    std::snprintf(name, sizeof name, "..2026_11_30_12_00_%02d.%09d", updates_ % 60, 100000000 + updates_);
    ++updates_;
    const std::string next = name;
    if (::mkdir((dir_ + "/" + next).c_str(), 0755) != 0) throw std::runtime_error("mkdir " + next);
    for (const auto& [file, content] : files) write_text(dir_ + "/" + next + "/" + file, content);
    const std::string tmp = dir_ + "/..data_tmp";
    ::unlink(tmp.c_str());
    if (::symlink(next.c_str(), tmp.c_str()) != 0) throw std::runtime_error("symlink ..data_tmp");
    if (::rename(tmp.c_str(), (dir_ + "/..data").c_str()) != 0) throw std::runtime_error("rename ..data_tmp");
    for (const auto& [file, content] : files) {
        const std::string visible = dir_ + "/" + file;
        struct stat st {};
        if (::lstat(visible.c_str(), &st) != 0 && ::symlink(("..data/" + file).c_str(), visible.c_str()) != 0)
            throw std::runtime_error("symlink " + file);
    }
    if (!current_.empty()) run_shell("rm -rf '" + dir_ + "/" + current_ + "'");
    current_ = next;
}

void write_in_place(const std::string& path, const std::string& content) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) throw std::runtime_error("cannot open " + path);
    const bool written = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
    ::close(fd);
    if (!written) throw std::runtime_error("cannot write " + path);
}

EchoLoad::EchoLoad(std::string url, std::string ca, std::string cert, std::string key)
    : url_(std::move(url)), ca_(std::move(ca)), cert_(std::move(cert)), key_(std::move(key)) {
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { run(true); });
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { run(false); });
}

EchoLoad::~EchoLoad() { stop(); }

void EchoLoad::stop() {
    running_ = false;
    for (auto& t : threads_)
        if (t.joinable()) t.join();
}

std::vector<std::string> EchoLoad::failures() {
    std::lock_guard<std::mutex> lock(mutex_);
    return failures_;
}

bool EchoLoad::progress(int n, std::chrono::seconds timeout) {
    const int target = ok_ + n;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (ok_ < target && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return ok_ >= target;
}

void EchoLoad::run(bool reuse_connection) {
    tls::ClientTlsSettings settings;
    settings.ca_path = ca_;
    settings.cert_path = cert_;
    settings.key_path = key_;
    const auto context = std::make_shared<const tls::ClientTlsContext>(settings);
    std::unique_ptr<client::McpSession> session;
    while (running_) {
        try {
            if (!session || !reuse_connection) session = std::make_unique<client::McpSession>("echo", client::Url::parse(url_), context);
            const auto result = session->call_tool("echo", {{"message", "load"}});
            if (result.value("isError", true)) throw std::runtime_error("tool error");
            ++ok_;
        } catch (const std::exception& e) {
            std::lock_guard<std::mutex> lock(mutex_);
            failures_.push_back(std::string(reuse_connection ? "kept-alive: " : "new connection: ") + e.what());
            session.reset();
        }
    }
}

std::string presented_serial(const std::string& url, const std::string& ca, const std::string& cert, const std::string& key) {
    tls::ClientTlsSettings settings;
    settings.ca_path = ca;
    settings.cert_path = cert;
    settings.key_path = key;
    try {
        client::HttpConnection connection(client::Url::parse(url), std::make_shared<const tls::ClientTlsContext>(settings));
        connection.connect();
        return connection.verdict().chain.front().serial_hex();
    } catch (const std::exception&) {
        return "";
    }
}

std::string serial_of(const std::string& cert_path) {
    const auto r = run_shell("openssl x509 -noout -serial -in '" + cert_path + "' | cut -d= -f2 | tr A-F a-f");
    return r.out.substr(0, r.out.find('\n'));
}

long long not_after_of(const std::string& cert_path) {
    const auto r = run_shell("date -u -d \"$(openssl x509 -noout -enddate -in '" + cert_path + "' | cut -d= -f2)\" +%s");
    if (r.exit_code != 0) throw std::runtime_error("openssl x509 -enddate: " + r.all());
    return std::stoll(r.out);
}

HttpAnswer http_request(const std::string& url, const std::string& method) {
    std::vector<std::string> argv = {"curl", "-s", "--max-time", "10", "-X", method, "-w", "\n%{http_code}", url};
    if (method != "GET") argv.insert(argv.end(), {"--data", "{}"});
    const auto r = run_command(argv);
    HttpAnswer answer;
    const auto last = r.out.rfind('\n');
    if (last == std::string::npos) return answer;
    answer.status = std::atoi(r.out.c_str() + last + 1);
    answer.body = r.out.substr(0, last);
    return answer;
}

long long metric_value(const std::string& exposition, const std::string& series) {
    size_t at = 0;
    while ((at = exposition.find(series + " ", at)) != std::string::npos) {
        if (at == 0 || exposition[at - 1] == '\n') return std::stoll(exposition.substr(at + series.size() + 1));
        at += series.size();
    }
    return -1;
}

std::string metrics_url_of(const ServerProcess& server) {
    std::smatch m;
    const std::string log = server.log();
    if (!std::regex_search(log, m, std::regex(R"re(metrics"?[=:]"?(http://[^" \n]+))re")))
        throw std::runtime_error("no metrics URL in: " + log);
    return m[1].str();
}

std::string base_of(const std::string& metrics_url) { return metrics_url.substr(0, metrics_url.rfind('/')); }

}  // namespace mcpmtls::testing
