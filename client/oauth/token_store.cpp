// tokens.json: {"registrations": {ISSUER: {...}}, "tokens": {"RESOURCE ISSUER": {...}}}. Several
// clients (a bridge per host, a `client call` beside it) share the file: every change re-reads it
// under a lock and writes it whole, atomically, 0600.
#include "client/oauth.hpp"

#include "common/files.hpp"

#include <sys/stat.h>

namespace mcpmtls::client::oauth {

namespace {

std::string directory_of(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? "." : path.substr(0, slash);
}

json entry_json(const TokenEntry& e) {
    return {{"server", e.server},         {"resource", e.resource},     {"issuer", e.issuer},
            {"access_token", e.access_token}, {"token_type", e.token_type}, {"refresh_token", e.refresh_token},
            {"scope", e.scope},           {"requested", e.requested},   {"expires_at", e.expires_at},
            {"token_endpoint", e.token_endpoint}};
}

TokenEntry entry_of(const json& j) {
    TokenEntry e;
    e.server = j.value("server", "");
    e.resource = j.value("resource", "");
    e.issuer = j.value("issuer", "");
    e.access_token = j.value("access_token", "");
    e.token_type = j.value("token_type", "Bearer");
    e.refresh_token = j.value("refresh_token", "");
    e.scope = j.value("scope", "");
    if (j.contains("requested") && j["requested"].is_array())
        for (const auto& s : j["requested"])
            if (s.is_string()) e.requested.push_back(s.get<std::string>());
    e.expires_at = j.value("expires_at", 0LL);
    e.token_endpoint = j.value("token_endpoint", "");
    return e;
}

}  // namespace

TokenStore::TokenStore(std::string path) : path_(std::move(path)) {}

json TokenStore::load() const {
    if (!file_exists(path_)) return json::object();
    json document = json::parse(read_file(path_), nullptr, false);
    if (!document.is_object()) throw InputError(path_ + ": not a JSON object (remove it, or run `client token clear`)");
    return document;
}

void TokenStore::save(const json& document) {
    make_directories(directory_of(path_), 0700);
    write_file_atomic(path_, document.dump(2) + "\n", 0600);
}

std::optional<TokenEntry> TokenStore::find(const std::string& server) const {
    const json document = load();
    if (!document.contains("tokens")) return std::nullopt;
    for (const auto& [key, value] : document["tokens"].items())
        if (value.is_object() && value.value("server", "") == server) return entry_of(value);
    return std::nullopt;
}

void TokenStore::put(const TokenEntry& entry) {
    make_directories(directory_of(path_), 0700);
    FileLock lock(path_ + ".lock");
    json document = load();
    json& tokens = document["tokens"];
    if (!tokens.is_object()) tokens = json::object();
    // One token per server: a token from the issuer the server named before is stale now.
    for (auto it = tokens.begin(); it != tokens.end();)
        it = it.value().is_object() && it.value().value("server", "") == entry.server ? tokens.erase(it) : std::next(it);
    tokens[entry.resource + " " + entry.issuer] = entry_json(entry);
    save(document);
}

void TokenStore::forget(const std::string& server) {
    if (!file_exists(path_)) return;
    FileLock lock(path_ + ".lock");
    json document = load();
    if (!document.contains("tokens") || !document["tokens"].is_object()) return;
    json& tokens = document["tokens"];
    for (auto it = tokens.begin(); it != tokens.end();)
        it = it.value().is_object() && it.value().value("server", "") == server ? tokens.erase(it) : std::next(it);
    save(document);
}

std::optional<Registration> TokenStore::registration(const std::string& issuer) const {
    const json document = load();
    if (!document.contains("registrations") || !document["registrations"].contains(issuer)) return std::nullopt;
    const json& r = document["registrations"][issuer];
    return Registration{r.value("client_id", ""), r.value("client_secret", ""), r.value("token_endpoint_auth_method", "none")};
}

void TokenStore::put_registration(const std::string& issuer, const Registration& registration) {
    make_directories(directory_of(path_), 0700);
    FileLock lock(path_ + ".lock");
    json document = load();
    document["registrations"][issuer] = {{"client_id", registration.client_id},
                                         {"client_secret", registration.client_secret},
                                         {"token_endpoint_auth_method", registration.auth_method}};
    save(document);
}

void TokenStore::clear() {
    if (!file_exists(path_)) return;
    FileLock lock(path_ + ".lock");
    save(json::object());
}

}  // namespace mcpmtls::client::oauth
