#include "test/support/fixtures.hpp"

#include <algorithm>
#include <cctype>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace mcpmtls::testing {

DemoPki::DemoPki() {
    auto check = [](const CommandResult& r) {
        if (r.exit_code != 0) throw std::runtime_error("pki failed: " + r.all());
    };
    check(pki({"init", "--cn", "test CA"}));
    for (const char* service : {"echo", "weather", "datetime"})
        check(pki({"issue", "server", service, "--dns", "localhost", "--ip", "127.0.0.1"}));
    check(pki({"issue", "client", "coordinator", "--uri", "spiffe://demo/coordinator"}));
}

CommandResult DemoPki::pki(std::vector<std::string> args) const {
    args.insert(args.begin(), bin_path("pki"));
    args.push_back("--dir");
    args.push_back(dir_.path());
    return run_command(args);
}

namespace {

std::string ext_file(const std::string& dir, const std::string& name, const std::string& eku, const std::string& san) {
    const std::string path = dir + "/" + name + ".ext";
    std::string text = "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=" + eku + "\n";
    if (!san.empty()) text += "subjectAltName=" + san + "\n";
    write_text(path, text);
    return path;
}

void must(const CommandResult& r, const std::string& what) {
    if (r.exit_code != 0) throw std::runtime_error(what + " failed: " + r.all());
}

}  // namespace

OpensslCa::OpensslCa() {
    must(run_shell("cd '" + dir_.path() +
                   "' && openssl ecparam -name prime256v1 -genkey -noout -out ca.key 2>/dev/null && "
                   "openssl req -x509 -new -key ca.key -sha256 -days 365 -subj '/CN=openssl test CA' "
                   "-addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' -out ca.crt"),
         "openssl CA");
}

void OpensslCa::issue_with(const std::string& ca_cert, const std::string& ca_key, const std::string& out_dir,
                           const std::string& name, const std::string& eku, const std::string& san, const std::string& start,
                           const std::string& end) {
    const std::string ext = ext_file(out_dir, name, eku, san);
    // `openssl ca` is the CLI's way to set arbitrary validity dates (expired, not yet valid).
    const std::string db = out_dir + "/db-" + name;
    write_text(out_dir + "/" + name + ".cnf",
               "[ca]\ndefault_ca=test\n[test]\ndatabase=" + db + "/index.txt\nserial=" + db + "/serial\nnew_certs_dir=" + db +
                   "\ndefault_md=sha256\npolicy=any\nunique_subject=no\ncopy_extensions=none\n[any]\ncommonName=supplied\n");
    const std::string dates = start.empty() ? std::string(" -days 30") : " -startdate " + start + " -enddate " + end;
    must(run_shell("set -e; mkdir -p '" + db + "'; : > '" + db + "/index.txt'; echo 01 > '" + db + "/serial'; cd '" + out_dir +
                   "'; openssl ecparam -name prime256v1 -genkey -noout -out " + name + ".key 2>/dev/null; "
                   "openssl req -new -key " + name + ".key -subj '/CN=" + name + "' -out " + name + ".csr; "
                   "openssl ca -batch -notext -config " + name + ".cnf -cert '" + ca_cert + "' -keyfile '" + ca_key +
                   "' -in " + name + ".csr -out " + name + ".crt -extfile '" + ext + "'" + dates + " 2>&1"),
         "openssl ca for " + name);
}

void OpensslCa::issue(const std::string& name, const std::string& eku, const std::string& san, const std::string& start,
                      const std::string& end) {
    issue_with(path("ca.crt"), path("ca.key"), dir_.path(), name, eku, san, start, end);
}

void OpensslCa::self_signed(const std::string& name, const std::string& eku, const std::string& san) {
    std::string cmd = "cd '" + dir_.path() + "' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " +
                      name + ".key -out " + name + ".crt -days 30 -subj '/CN=" + name + "' -addext 'extendedKeyUsage=" + eku +
                      "' -addext 'keyUsage=critical,digitalSignature'";
    if (!san.empty()) cmd += " -addext 'subjectAltName=" + san + "'";
    must(run_shell(cmd + " 2>&1"), "self-signed " + name);
}

ServerProcess::ServerProcess(const std::string& program, const std::string& cert, const std::string& key, const std::string& ca,
                             std::vector<std::string> extra_args) {
    std::vector<std::string> argv = {bin_path(program), "--cert", cert, "--key", key, "--ca", ca};
    // An ephemeral port unless the test names one (a server restarted where its clients expect it).
    if (std::find(extra_args.begin(), extra_args.end(), "--port") == extra_args.end()) argv.insert(argv.begin() + 1, {"--port", "0"});
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    start(program, argv);
}

ServerProcess::ServerProcess(const std::string& program, std::vector<std::string> args) {
    args.insert(args.begin(), {bin_path(program), "--port", "0"});
    start(program, args);
}

void ServerProcess::start(const std::string& program, const std::vector<std::string>& argv) {
    process_ = std::make_unique<BackgroundProcess>(argv, log_dir_.file("server.log"));
    if (!process_->wait_for_log("server_started")) throw std::runtime_error(program + " did not start: " + process_->log());
    std::smatch m;
    const std::string log = process_->log();
    // Text logs say "port=N", JSON logs "\"port\":N".
    if (!std::regex_search(log, m, std::regex(R"(server_started.*[ "]port"?[=:](\d+))")))
        throw std::runtime_error("no port in: " + log);
    port_ = std::stoi(m[1].str());
}

ServerProcess::ServerProcess(const DemoPki& pki, const std::string& service, std::vector<std::string> extra_args)
    : ServerProcess(service + "-server", pki.path(service + ".crt"), pki.path(service + ".key"), pki.path("ca-bundle.crt"),
                    std::move(extra_args)) {}

std::string ServerProcess::url(const std::string& host) const { return "https://" + host + ":" + std::to_string(port_) + "/mcp"; }

CommandResult curl_mcp(const std::string& url, const std::string& ca, const std::string& cert, const std::string& key,
                       const std::string& body, const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {"curl", "-sS", "--max-time", "10", "--cacert", ca, "-H", "Content-Type: application/json",
                                     "-H", "Accept: application/json, text/event-stream", "-D", "-"};
    if (!cert.empty()) {
        argv.insert(argv.end(), {"--cert", cert, "--key", key});
    }
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.insert(argv.end(), {url, "-d", body});
    return run_command(argv);
}

std::string HttpReply::header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
}

HttpReply parse_http_reply(const std::string& out) {
    HttpReply reply;
    std::smatch m;
    if (!std::regex_search(out, m, std::regex(R"(HTTP/[0-9.]+ ([0-9]{3}))"))) throw std::runtime_error("no HTTP status line in: " + out);
    reply.status = std::stoi(m[1].str());
    const auto blank = out.find("\r\n\r\n");
    std::istringstream lines(out.substr(0, blank));
    for (std::string line; std::getline(lines, line);) {
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string name = line.substr(0, colon);
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        while (!value.empty() && value.back() == '\r') value.pop_back();
        reply.headers[name] = value;
    }
    reply.body = nlohmann::json::parse(blank == std::string::npos ? "" : out.substr(blank + 4), nullptr, false);
    return reply;
}

std::string initialize_body() {
    return R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test","version":"1"}}})";
}

}  // namespace mcpmtls::testing

namespace mcpmtls::testing {

ImpostorServer::ImpostorServer(const DemoPki& pki, Impostor kind) {
    std::string cert, key;
    switch (kind) {
    case Impostor::self_signed:
        other_.self_signed("selfsigned", "serverAuth", "DNS:localhost,IP:127.0.0.1");
        cert = other_.path("selfsigned.crt"), key = other_.path("selfsigned.key");
        reason_ = "self-signed certificate is not trusted", skipped_ = "issuer";
        break;
    case Impostor::other_ca:
        other_.issue("foreign", "serverAuth", "DNS:localhost,IP:127.0.0.1");
        cert = other_.path("foreign.crt"), key = other_.path("foreign.key");
        reason_ = "issuer not found", skipped_ = "issuer";
        break;
    case Impostor::expired:
        OpensslCa::issue_with(pki.path("ca.crt"), pki.path("ca.key"), logs_.path(), "old", "serverAuth", "DNS:localhost",
                              "20200101000000Z", "20200201000000Z");
        cert = logs_.file("old.crt"), key = logs_.file("old.key");
        reason_ = "certificate has expired", skipped_ = "expiry";
        break;
    case Impostor::other_host: {
        const auto issued = pki.pki({"issue", "server", "elsewhere", "--dns", "elsewhere.example"});
        if (issued.exit_code != 0) throw std::runtime_error("pki issue failed: " + issued.all());
        cert = pki.path("elsewhere.crt"), key = pki.path("elsewhere.key");
        reason_ = "host name 'localhost' does not match the certificate", skipped_ = "hostname";
        break;
    }
    }
    if (kind == Impostor::expired) {
        const int port = free_tcp_port();
        openssl_server_ = std::make_unique<BackgroundProcess>(
            std::vector<std::string>{"openssl", "s_server", "-accept", std::to_string(port), "-cert", cert, "-key", key, "-Verify", "1",
                                     "-CAfile", pki.path("ca.crt"), "-www", "-naccept", "20"},
            logs_.file("s_server.log"));
        if (!openssl_server_->wait_for_log("ACCEPT")) throw std::runtime_error("openssl s_server did not start: " + openssl_server_->log());
        url_ = "https://localhost:" + std::to_string(port) + "/mcp";
    } else {
        ours_ = std::make_unique<ServerProcess>("echo-server", cert, key, pki.path("ca-bundle.crt"));
        url_ = ours_->url();
    }
}

size_t count_occurrences(const std::string& text, const std::string& part) {
    size_t n = 0;
    for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
    return n;
}

}  // namespace mcpmtls::testing
