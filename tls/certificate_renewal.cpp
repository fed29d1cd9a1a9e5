#include "tls/certificate_renewal.hpp"
#include "tls/cert_dir.hpp"

#include "common/files.hpp"
#include "common/log.hpp"
#include "common/strings.hpp"
#include "pki/csr_builder.hpp"
#include "pki/pkcs11_token.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <sys/stat.h>
#include <unistd.h>

namespace mcpmtls::tls {
namespace {

using nlohmann::json;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

// The first line of an answer that is not the API's JSON, short enough for one log line.
std::string gist(const std::string& body) {
    std::string line = body.substr(0, body.find('\n'));
    if (line.size() > 200) line = line.substr(0, 200) + "...";
    return line;
}

std::string text_field(const json& object, const char* name) {
    if (!object.contains(name) || !object[name].is_string())
        throw OperationError(std::string("the CA's answer lacks \"") + name + "\" (not the API of docs/enrollment.md)");
    return object[name].get<std::string>();
}

double random_jitter() {
    thread_local std::mt19937_64 generator{std::random_device{}()};
    return std::uniform_real_distribution<double>(-1.0, 1.0)(generator);
}

}  // namespace

CredentialPaths cert_dir_paths(const std::string& dir) {
    const std::string base = dir.empty() ? "./" : dir.back() == '/' ? dir : dir + "/";
    return {base + "tls.crt", base + "tls.key", base + "ca.crt"};
}

void check_replaceable(const CredentialPaths& paths, const std::string& option) {
    // A key in a token is kept by a renewal: only the certificate (and bundle) are replaced.
    for (const std::string* path : {&paths.cert_path, &paths.key_path, &paths.roots_path}) {
        if (path->empty() || pki::is_pkcs11_uri(*path)) continue;
        if (!file_exists(*path)) throw InputError(option + ": " + *path + " does not exist (enroll first: client enroll)");
        const auto slash = path->find_last_of('/');
        const std::string folder = slash == std::string::npos ? "." : slash == 0 ? "/" : path->substr(0, slash);
        // A renewal writes a new file beside the old one and renames it over.
        if (::access(folder.c_str(), W_OK | X_OK) != 0)
            throw InputError(option + ": " + folder + " is not writable, so " + *path + " cannot be replaced");
        if (::access(path->c_str(), R_OK) != 0) throw InputError(option + ": " + *path + " is not readable");
    }
}

namespace {

// parse_issued, with `ours` saying whether the issued certificate is for our key.
Issued parse_issued_for(const CaAnswer& answer, const std::function<bool(const pki::Certificate&)>& ours) {
    json body;
    try {
        body = json::parse(answer.body);
    } catch (const json::exception&) {
        if (answer.status / 100 == 2) throw OperationError("the CA's answer is not JSON: " + gist(answer.body));
        throw CaRefusal("http_" + std::to_string(answer.status), answer.status,
                        "the CA answered HTTP " + std::to_string(answer.status) + ": " + gist(answer.body));
    }
    if (answer.status / 100 != 2) {
        if (body.is_object() && body.contains("error") && body["error"].is_object()) {
            const json& error = body["error"];
            const std::string code = error.value("code", std::string("unknown"));
            const std::string message = error.value("message", std::string("(no message)"));
            throw CaRefusal(code, answer.status, "the CA refused (" + code + "): " + message);
        }
        throw CaRefusal("http_" + std::to_string(answer.status), answer.status,
                        "the CA answered HTTP " + std::to_string(answer.status) + ": " + gist(answer.body));
    }
    if (!body.is_object()) throw OperationError("the CA's answer is not a JSON object");
    Issued issued;
    issued.name = text_field(body, "name");
    issued.kind = text_field(body, "kind");
    issued.certificate_pem = text_field(body, "certificate");
    issued.chain_pem = body.contains("chain") && body["chain"].is_string() ? body["chain"].get<std::string>() : "";
    issued.roots_pem = text_field(body, "roots");
    issued.serial = text_field(body, "serial");
    try {
        issued.not_before = parse_rfc3339(text_field(body, "not_before"));
        issued.not_after = parse_rfc3339(text_field(body, "not_after"));
    } catch (const InputError& e) {
        throw OperationError(std::string("the CA's answer has a bad time: ") + e.what());
    }
    // What is written must be usable: the leaf ours, the chain starting with it, the roots
    // certificates. A CA (or a proxy) that answers anything else leaves the files as they are.
    try {
        const pki::Certificate leaf = pki::Certificate::parse_all(issued.certificate_pem, "the issued certificate").front();
        if (!ours(leaf)) throw OperationError("the issued certificate is not for the key we sent");
        if (issued.chain_pem.empty()) issued.chain_pem = issued.certificate_pem;
        const auto chain = pki::Certificate::parse_all(issued.chain_pem, "the issued chain");
        if (chain.front().der() != leaf.der()) throw OperationError("the issued chain does not start with the issued certificate");
        pki::Certificate::parse_all(issued.roots_pem, "the CA's trust bundle");
    } catch (const InputError& e) {
        throw OperationError(std::string("the CA's answer is unusable: ") + e.what());
    }
    return issued;
}

// The files of a renewal or an enrollment; `key` null: the key stays as it is (in its token).
void write_issued(const CredentialPaths& paths, const pki::PrivateKey* key, const Issued& issued) {
    std::vector<FileToWrite> files;
    if (!paths.roots_path.empty()) files.push_back({paths.roots_path, issued.roots_pem, 0644});
    // A key in a token is named, not written: KEYFILE.uri instead of KEYFILE.
    const std::string token_uri = key ? key->token_uri() : "";
    if (key && token_uri.empty()) files.push_back({paths.key_path, key->to_pem(), 0600});
    else if (key) files.push_back({token_key_reference(paths.key_path), token_uri + "\n", 0644});
    std::string chain = issued.chain_pem.empty() ? issued.certificate_pem : issued.chain_pem;
    if (!chain.empty() && chain.back() != '\n') chain.push_back('\n');
    files.push_back({paths.cert_path, chain, 0644});
    write_files_atomic(files);
    // What named the replaced key goes, so the directory names exactly one.
    if (key) ::unlink((token_uri.empty() ? token_key_reference(paths.key_path) : paths.key_path).c_str());
}

}  // namespace

Issued parse_issued(const CaAnswer& answer, const pki::PrivateKey& key) {
    return parse_issued_for(answer, [&key](const pki::Certificate& leaf) { return leaf.matches_key(key); });
}

void write_credentials(const CredentialPaths& paths, const pki::PrivateKey& key, const Issued& issued) {
    write_issued(paths, &key, issued);
}

pki::KeyType successor_key_type(const pki::Certificate& certificate) {
    const std::string algorithm = certificate.public_key_algorithm();
    if (algorithm == "Ed25519") return pki::KeyType::ed25519;
    if (starts_with(algorithm, "RSA")) return pki::KeyType::rsa_3072;
    if (algorithm == "ECDSA P-384") return pki::KeyType::ecdsa_p384;
    if (algorithm == "ECDSA P-256") return pki::KeyType::ecdsa_p256;
    throw OperationError("cannot renew a certificate with a " + algorithm + " key (ECDSA P-256/P-384, Ed25519 or RSA only)");
}

Issued enroll_credentials(const CredentialPaths& paths, const pki::PrivateKey& key, const std::string& token, const CaPost& post) {
    // The CA names the certificate after the token's subject; the request's subject is ignored.
    const json request = {{"token", token}, {"csr", pki::make_certificate_request(key, "enrollment")}};
    const Issued issued = parse_issued(post("/v1/enroll", request.dump()), key);
    write_credentials(paths, key, issued);
    return issued;
}

Issued renew_credentials(const CredentialPaths& paths, const CaPost& post) {
    const pki::Certificate current = pki::Certificate::load(paths.cert_path);
    const auto now = std::chrono::system_clock::now();
    // Said here in one line rather than as a handshake the CA refuses: only a valid
    // certificate can renew itself.
    if (current.not_after() <= now)
        throw OperationError(paths.cert_path + " expired " + format_rfc3339(current.not_after()) +
                             ": an expired certificate cannot renew itself; enroll again with a new token (client enroll)");
    if (current.not_before() > now)
        throw OperationError(paths.cert_path + " is not valid before " + format_rfc3339(current.not_before()) +
                             " (is this machine's clock right?)");
    if (pki::is_pkcs11_uri(paths.key_path)) {
        // The key stays in its token: the CA signs the presented certificate's key again (a renew
        // without a CSR), and only the certificate and the bundle are replaced.
        const Issued issued = parse_issued_for(post("/v1/renew", json::object().dump()), [&current](const pki::Certificate& leaf) {
            return leaf.same_public_key(current);
        });
        write_issued(paths, nullptr, issued);
        return issued;
    }
    const pki::PrivateKey key = pki::PrivateKey::generate(successor_key_type(current));
    const json request = {{"csr", pki::make_certificate_request(key, current.common_name())}};
    const Issued issued = parse_issued(post("/v1/renew", request.dump()), key);
    write_credentials(paths, key, issued);
    return issued;
}

SystemTime RenewalSchedule::renewal_time(SystemTime not_before, SystemTime not_after, double jitter) {
    jitter = std::clamp(jitter, -1.0, 1.0);
    const auto lifetime = duration_cast<milliseconds>(not_after - not_before);
    const double point = kRenewalPoint + jitter * kMaxJitter;
    return not_before + milliseconds(static_cast<long long>(std::llround(static_cast<double>(lifetime.count()) * point)));
}

milliseconds RenewalSchedule::retry_delay(unsigned failures, SystemTime now, SystemTime not_after) {
    const milliseconds ceiling = kMaxRetry;
    if (now >= not_after) return ceiling;
    const milliseconds remaining = duration_cast<milliseconds>(not_after - now);
    milliseconds delay = kFirstRetry;
    for (unsigned i = 1; i < failures && delay < ceiling; ++i) delay *= 2;
    delay = std::min({delay, ceiling, remaining / 10});
    return std::max<milliseconds>(delay, kMinRetry);
}

SystemTime certificate_held_since(const pki::Certificate& certificate, const std::string& path) {
    struct stat file {};
    if (::stat(path.c_str(), &file) != 0) return certificate.not_before();
    const SystemTime written = std::chrono::system_clock::from_time_t(file.st_mtim.tv_sec) +
                               duration_cast<std::chrono::system_clock::duration>(std::chrono::nanoseconds(file.st_mtim.tv_nsec));
    return std::clamp(written, certificate.not_before(), std::max(certificate.not_before(), certificate.not_after()));
}

std::string format_duration_short(milliseconds duration) {
    if (duration.count() < 0) return "-" + format_duration_short(-duration);
    long long seconds = duration.count() / 1000;
    const long long days = seconds / 86400, hours = seconds % 86400 / 3600, minutes = seconds % 3600 / 60;
    seconds %= 60;
    if (days > 0) return std::to_string(days) + "d" + (hours ? std::to_string(hours) + "h" : "");
    if (hours > 0) return std::to_string(hours) + "h" + (minutes ? std::to_string(minutes) + "m" : "");
    if (minutes > 0) return std::to_string(minutes) + "m" + (seconds ? std::to_string(seconds) + "s" : "");
    return std::to_string(seconds) + "s";
}

BackgroundRenewal::BackgroundRenewal(CredentialPaths paths, std::string ca_url, CaPost post, Hooks hooks)
    : paths_(std::move(paths)), ca_url_(std::move(ca_url)), post_(std::move(post)), hooks_(std::move(hooks)) {
    if (!hooks_.now) hooks_.now = [] { return std::chrono::system_clock::now(); };
    if (!hooks_.jitter) hooks_.jitter = random_jitter;
}

BackgroundRenewal::~BackgroundRenewal() { stop(); }

void BackgroundRenewal::start() { thread_ = std::thread([this] { run(); }); }

void BackgroundRenewal::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

SystemTime BackgroundRenewal::now() const { return hooks_.now(); }

bool BackgroundRenewal::attempt(const pki::Certificate& current) {
    try {
        const Issued issued = renew_credentials(paths_, post_);
        failures_ = 0;
        log_event(spdlog::level::info, "certificate_renewed",
                  {{"url", ca_url_},
                   {"cert", paths_.cert_path},
                   {"previous_serial", current.serial_hex()},
                   {"serial", issued.serial},
                   {"not_after", format_rfc3339(issued.not_after)}});
        if (hooks_.on_result) hooks_.on_result(true, &issued);
        return true;
    } catch (const std::exception& e) {
        ++failures_;
        const SystemTime at = now();
        const milliseconds delay = RenewalSchedule::retry_delay(failures_, at, current.not_after());
        retry_at_ = at + delay;
        const auto left = duration_cast<milliseconds>(current.not_after() - at);
        const std::string expiry = left.count() > 0 ? "the certificate expires in " + format_duration_short(left)
                                                    : "the certificate EXPIRED " + format_duration_short(-left) + " ago";
        log_event(spdlog::level::warn, "renewal_failed",
                  {{"message", "renewal from " + ca_url_ + " failed: " + e.what() + "; " + expiry + "; next try in " +
                                   format_duration_short(delay)},
                   {"url", ca_url_},
                   {"cert", paths_.cert_path},
                   {"failures", failures_},
                   {"expires_in_seconds", left.count() / 1000},
                   {"next_attempt_seconds", delay.count() / 1000.0}});
        if (hooks_.on_result) hooks_.on_result(false, nullptr);
        return false;
    }
}

bool BackgroundRenewal::renew_if_due() {
    std::optional<pki::Certificate> current;
    try {
        current = pki::Certificate::load(paths_.cert_path);
    } catch (const std::exception& e) {
        ++failures_;
        const auto delay = RenewalSchedule::kMaxRetry / 10;
        retry_at_ = now() + delay;
        log_event(spdlog::level::warn, "renewal_failed",
                  {{"message", "renewal from " + ca_url_ + " failed: " + e.what() + "; next try in " + format_duration_short(delay)},
                   {"url", ca_url_},
                   {"cert", paths_.cert_path}});
        if (hooks_.on_result) hooks_.on_result(false, nullptr);
        return false;
    }
    const auto due = due_for(*current);
    const SystemTime at = now();
    if (at < due || at < retry_at_) return true;
    if (!attempt(*current)) return false;
    // Even a CA that hands out certificates already due (a lifetime shorter than its clock
    // skew allowance) is not asked again at once.
    retry_at_ = now() + RenewalSchedule::kFirstRetry;
    return true;
}

SystemTime BackgroundRenewal::due_for(const pki::Certificate& current) {
    if (current.serial_hex() != jitter_for_serial_) {
        jitter_for_serial_ = current.serial_hex();
        jitter_ = hooks_.jitter();
        failures_ = 0;  // a new certificate (ours or put there by other hands) starts afresh
    }
    return RenewalSchedule::renewal_time(certificate_held_since(current, paths_.cert_path), current.not_after(), jitter_);
}

std::optional<SystemTime> BackgroundRenewal::due_time() {
    try {
        return due_for(pki::Certificate::load(paths_.cert_path));
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

std::chrono::milliseconds BackgroundRenewal::next_wait() {
    const SystemTime due = std::max(due_time().value_or(retry_at_), retry_at_);
    return std::max(duration_cast<milliseconds>(due - now()), milliseconds(0));
}

void BackgroundRenewal::run() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
        lock.unlock();
        renew_if_due();
        const milliseconds wait = std::min<milliseconds>(next_wait(), kLongestWait);
        lock.lock();
        // At least a little: a clock that says "due" while the attempt was just refused must not spin.
        wake_.wait_for(lock, std::max(wait, milliseconds(50)), [this] { return stopping_; });
    }
}

}  // namespace mcpmtls::tls
