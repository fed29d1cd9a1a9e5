#pragma once
// The holder's side of the online CA (docs/enrollment.md): a key made where it is used, a CSR,
// the CA's `Issued` answer written as the certificate, key and trust bundle, and the schedule
// that renews before expiry. Shared by the servers (--renew-from) and the client (enroll,
// renew, --renew-from), so it knows no HTTP library: the caller hands in a transport that posts
// one JSON body to the CA, presenting the current certificate over mutual TLS and judging the
// CA with the project's verifier (server/ does it with cpp-httplib, client/ with its own
// connection).
//
// The files are replaced atomically, all written first and renamed back to back: the trust
// bundle, then the key, then the certificate. The certificate comes last because it is what
// says a renewal happened (its not-after is what metrics and `client check` report), and the
// readers that matter wait for a matching pair anyway: the servers' watcher waits out a key
// that does not match its certificate (tls/server_context.hpp), the client's reloading context
// keeps the previous set until the files load (client/reloading_tls.hpp). Connections made with
// the old certificate carry on: the CA marks it superseded, not revoked.
#include "common/error.hpp"
#include "pki/certificate.hpp"
#include "pki/key.hpp"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace mcpmtls::tls {

using SystemTime = std::chrono::system_clock::time_point;

// Where a holder keeps its credentials.
struct CredentialPaths {
    std::string cert_path;   // leaf and chain (what the CA calls "chain")
    std::string key_path;    // written 0600
    std::string roots_path;  // the trust bundle from the CA's answer; empty: not written
};

// The --cert-dir layout (cert-manager's names, tls/cert_dir.hpp) of a directory that may not
// hold anything yet: DIR/tls.crt, DIR/tls.key, DIR/ca.crt.
CredentialPaths cert_dir_paths(const std::string& dir);

// Throws InputError naming `option` unless each file exists and can be replaced (its folder
// writable). A key in a token (a pkcs11: URI) is not a file, and a renewal keeps it.
void check_replaceable(const CredentialPaths& paths, const std::string& option);

// The CA's answer to one request.
struct CaAnswer {
    int status = 0;
    std::string body;
};
// Posts `json_body` to `path` ("/v1/renew") of the CA and returns its answer, whatever the
// status. Throws when no answer came (connection, TLS verification): the message says why, and
// an Error's exit code is kept (3 for a refused certificate on the client).
using CaPost = std::function<CaAnswer(const std::string& path, const std::string& json_body)>;

// The CA answered with a refusal ({"error": {"code", "message"}}): exit 1, its message shown.
class CaRefusal : public OperationError {
public:
    CaRefusal(std::string code, int status, const std::string& message)
        : OperationError(message), code_(std::move(code)), status_(status) {}
    const std::string& code() const { return code_; }  // "certificate_refused", "token_reused", ...
    int status() const { return status_; }

private:
    std::string code_;
    int status_;
};

// docs/enrollment.md "Issued".
struct Issued {
    std::string name;
    std::string kind;             // "server" | "client"
    std::string certificate_pem;  // the leaf
    std::string chain_pem;        // leaf + intermediates
    std::string roots_pem;        // the trust bundle
    std::string serial;
    SystemTime not_before;
    SystemTime not_after;
};

// A 201 answer as Issued; throws CaRefusal for the CA's error answers and OperationError for an
// answer that is not what the API promises (the certificate not matching `key` included).
Issued parse_issued(const CaAnswer& answer, const pki::PrivateKey& key);

// Replaces the files (see the top of this header). The key is 0600; a key in a token is named by
// its URI in KEYFILE.uri instead (tls/cert_dir.hpp), and no key file is written.
void write_credentials(const CredentialPaths& paths, const pki::PrivateKey& key, const Issued& issued);

// The key type to make for a successor of `certificate`: the same algorithm and size (an RSA
// key of any size is succeeded by RSA 3072, the size pki makes).
pki::KeyType successor_key_type(const pki::Certificate& certificate);

// POST /v1/enroll with `key` (made here, or in a token); writes the files. Nothing is written
// unless the CA issued.
Issued enroll_credentials(const CredentialPaths& paths, const pki::PrivateKey& key, const std::string& token, const CaPost& post);
// POST /v1/renew for the certificate in paths.cert_path with a new key of the same type, or,
// when paths.key_path is a pkcs11: URI, without a CSR: the key stays in its token and the CA
// signs it again. The transport presents the current certificate. Writes the files on success; on any failure they
// are untouched.
Issued renew_credentials(const CredentialPaths& paths, const CaPost& post);

// When to renew and when to try again.
struct RenewalSchedule {
    static constexpr double kRenewalPoint = 2.0 / 3.0;  // of the lifetime
    static constexpr double kMaxJitter = 0.05;           // of the lifetime, either way
    static constexpr std::chrono::seconds kFirstRetry{5};
    static constexpr std::chrono::seconds kMaxRetry{600};
    static constexpr std::chrono::seconds kMinRetry{1};

    // start + 2/3 of the lifetime (start..not_after), moved by jitter (-1..1) times 5% of the
    // lifetime, so that a fleet issued at once does not come back at once. `start` is notBefore,
    // or certificate_held_since().
    static SystemTime renewal_time(SystemTime start, SystemTime not_after, double jitter);
    // The wait after the n-th failure in a row (n >= 1): 5 s doubled each time, at most a tenth
    // of what the certificate has left and 10 minutes, at least 1 s. An expired certificate can
    // no longer renew itself: it is tried again every 10 minutes (its files may be replaced).
    static std::chrono::milliseconds retry_delay(unsigned failures, SystemTime now, SystemTime not_after);
};

// Since when we have held the certificate in `path`: its notBefore, or the time its file was
// written when that is later (and before notAfter). CAs backdate notBefore for clock skew (pki
// by minutes): a two-minute certificate that says it began five minutes ago would otherwise be
// due for renewal the moment it arrives, and each successor too.
SystemTime certificate_held_since(const pki::Certificate& certificate, const std::string& path);

// "1m40s", "2h5m", "3d4h", "45s"; negative durations as "-1m40s".
std::string format_duration_short(std::chrono::milliseconds duration);

// Renews the certificate in `paths` on its schedule, on a thread of its own.
class BackgroundRenewal {
public:
    struct Hooks {
        std::function<SystemTime()> now;                          // default system_clock::now
        std::function<double()> jitter;                           // -1..1; default uniform random
        std::function<void(bool ok, const Issued* issued)> on_result;  // after every attempt (metrics)
    };
    // `ca_url` names the CA in logs only; `post` reaches it.
    BackgroundRenewal(CredentialPaths paths, std::string ca_url, CaPost post, Hooks hooks = {});
    ~BackgroundRenewal();  // stop()
    BackgroundRenewal(const BackgroundRenewal&) = delete;
    BackgroundRenewal& operator=(const BackgroundRenewal&) = delete;

    void start();
    // Wakes the thread and joins it; an attempt under way ends within its transport's timeouts.
    void stop();

    // When the certificate now in the files is due (jitter included), or nullopt when they
    // cannot be read.
    std::optional<SystemTime> due_time();

    // One pass of the thread's loop, for callers without a thread (a one-shot client command):
    // renews if the certificate is past its renewal time; on failure logs the WARNING and
    // returns false (the files are untouched). True when nothing was due or it renewed.
    bool renew_if_due();

    // The longest single wait: a laptop that slept through its renewal time renews within this
    // of waking (the steady clock a condition variable waits on does not count suspended time).
    static constexpr std::chrono::seconds kLongestWait{30};

private:
    void run();
    // Attempts a renewal now; logs and counts either way; returns true on success.
    bool attempt(const pki::Certificate& current);
    SystemTime now() const;
    // How long until the next attempt is due (renewal time or retry time).
    std::chrono::milliseconds next_wait();
    // The renewal time of `current` (its jitter drawn once per serial).
    SystemTime due_for(const pki::Certificate& current);

    const CredentialPaths paths_;
    const std::string ca_url_;
    const CaPost post_;
    Hooks hooks_;
    unsigned failures_ = 0;
    SystemTime retry_at_{};  // after a failure: not before this
    std::string jitter_for_serial_;  // the certificate whose jitter was drawn
    double jitter_ = 0;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace mcpmtls::tls
