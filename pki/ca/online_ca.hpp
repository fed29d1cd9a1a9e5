#pragma once
// The online CA's operations (pki serve), independent of HTTP: each takes what the transport
// verified (a token in the body, or the client certificate of the mutual TLS connection) and a
// CSR, and returns what to send back or throws an OnlineCaRefusal with the code and message the
// API answers with (docs/enrollment.md). Every success is in index.json and issuance.log before
// it returns; a refusal writes nothing.
#include "pki/ca/ca_directory.hpp"
#include "pki/ca/enrollment_token.hpp"
#include "pki/certificate.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace mcpmtls::pki {

// A refusal as the API reports it: `code` from docs/enrollment.md's table ("token_reused",
// "not_granted", ...), `http_status` its status, `what()` the one-line message.
class OnlineCaRefusal : public std::runtime_error {
public:
    OnlineCaRefusal(std::string code, int http_status, const std::string& message)
        : std::runtime_error(message), code_(std::move(code)), http_status_(http_status) {}
    const std::string& code() const { return code_; }
    int http_status() const { return http_status_; }

private:
    std::string code_;
    int http_status_;
};

struct OnlineCaSettings {
    std::chrono::seconds max_ttl = std::chrono::hours(24 * 30);  // --max-ttl: no certificate lives longer
    std::string ca_passphrase;                                   // for an encrypted ca.key
};

// What /v1/enroll and /v1/renew answer (docs/enrollment.md "Issued").
struct IssuedChain {
    std::string name;
    std::string kind;             // "server" | "client"
    std::string certificate_pem;  // the leaf
    std::string chain_pem;        // leaf + intermediates (not the root)
    std::string roots_pem;        // the trust bundle
    std::string serial;
    TimePoint not_before;
    TimePoint not_after;
};

class OnlineCa {
public:
    // Loads what does not change while serving (provisioner.pub, the CA's settings); throws
    // InputError when DIR holds no CA or no provisioner key.
    OnlineCa(CaDirectory dir, OnlineCaSettings settings);

    // POST /v1/enroll.
    IssuedChain enroll(const std::string& token, const std::string& csr_pem);
    // POST /v1/renew: `presented` is the client certificate the connection proved possession
    // of (already chain-verified by the TLS layer, or not: this checks it against the inventory
    // too: known, current, not revoked, not expired). An empty csr_pem keeps the key.
    IssuedChain renew(const Certificate& presented, const std::string& csr_pem);
    // POST /v1/revoke: the holder revokes its own certificate.
    struct Revoked {
        std::string serial;
        TimePoint revoked_at;
    };
    Revoked revoke(const Certificate& presented, const std::string& reason);

    // GET /v1/roots and /v1/crl (DER, rewritten when older than half its validity).
    std::string roots_pem() const;
    std::string crl_der();

    const CaDirectory& dir() const { return dir_; }

private:
    struct State;  // the CA key loaded once per ca.crt, behind a mutex

    CaDirectory dir_;
    OnlineCaSettings settings_;
    std::shared_ptr<const EnrollmentTokenVerifier> token_verifier_;
    std::shared_ptr<State> state_;
};

}  // namespace mcpmtls::pki
