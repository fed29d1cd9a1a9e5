#include "tls/client_verdict.hpp"

#include "common/log.hpp"
#include "common/strings.hpp"

#include <algorithm>
#include <optional>
#include <openssl/evp.h>

namespace mcpmtls::tls {
namespace {

// SHA-256 over the presented certificates' own SHA-256s (OpenSSL caches each DER digest).
bool chain_digest(X509* leaf, STACK_OF(X509)* presented, ChainDigest& out) {
    if (!leaf) return false;
    EVP_MD_CTX* md = EVP_MD_CTX_new();
    if (!md) return false;
    bool ok = EVP_DigestInit_ex(md, EVP_sha256(), nullptr) == 1;
    auto add = [&](X509* cert) {
        unsigned char d[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        ok = ok && X509_digest(cert, EVP_sha256(), d, &len) == 1 && EVP_DigestUpdate(md, d, len) == 1;
    };
    add(leaf);
    for (int i = 0; presented && i < sk_X509_num(presented); ++i) add(sk_X509_value(presented, i));
    unsigned int out_len = 0;
    ok = ok && EVP_DigestFinal_ex(md, out.data(), &out_len) == 1 && out_len == out.size();
    EVP_MD_CTX_free(md);
    return ok;
}

// A verdict stays true until a certificate of the chain, a trust anchor or the CRL expires.
std::chrono::system_clock::time_point verdict_expiry(const std::vector<pki::Certificate>& chain, const pki::TrustStore& trust) {
    auto expires = chain.front().not_after();
    for (const auto& cert : chain) expires = std::min(expires, cert.not_after());
    for (const auto& ca : trust.anchors()) expires = std::min(expires, ca.not_after());
    if (auto next = trust.earliest_crl_next_update()) expires = std::min(expires, *next);
    return expires;
}

ClientVerdict rejected(std::string code, std::string reason, std::shared_ptr<const PeerIdentity> identity = nullptr) {
    ClientVerdict verdict;
    verdict.reason_code = std::move(code);
    verdict.reason = std::move(reason);
    verdict.identity = std::move(identity);
    return verdict;
}

ClientVerdict rejected(ClientPolicy::Refusal refusal, std::shared_ptr<const PeerIdentity> identity) {
    return rejected(std::move(refusal.code), std::move(refusal.message), std::move(identity));
}

}  // namespace

bool ClientPolicy::spiffe_rules() const {
    return !allowed_trust_domains.empty() ||
           std::any_of(allowed_clients.begin(), allowed_clients.end(),
                       [](const std::string& pattern) { return starts_with(pattern, "spiffe://"); });
}

std::optional<ClientPolicy::Refusal> ClientPolicy::refusal(const PeerIdentity& identity) const {
    if (allowed_clients.empty() && allowed_trust_domains.empty()) return std::nullopt;
    if (spiffe_rules() && identity.uris.size() > 1)
        return Refusal{"multiple_uri_sans", "client certificate carries " + std::to_string(identity.uris.size()) +
                                                " URI SANs; with SPIFFE rules in force only an X.509-SVID (exactly one "
                                                "URI SAN) is admitted"};
    const auto named = [&](const std::string& pattern) { return identity.matches(pattern); };
    const auto member = [&](const std::string& domain) { return identity.matches("spiffe://" + domain); };
    if (std::any_of(allowed_clients.begin(), allowed_clients.end(), named) ||
        std::any_of(allowed_trust_domains.begin(), allowed_trust_domains.end(), member))
        return std::nullopt;
    const std::string why = allowed_trust_domains.empty() ? "is not in the --allow-client list"
                            : allowed_clients.empty()      ? "is in no trust domain of --allow-trust-domain"
                                                           : "matches neither --allow-client nor --allow-trust-domain";
    return Refusal{"not_allowed", "client identity '" + identity.display_name() + "' " + why};
}

namespace {

// The verdict on a chain without the cache: parse, the verifier, relaxed mode, the allow-list.
ClientVerdict judge_uncached(X509* leaf, STACK_OF(X509)* presented, const pki::TrustStore& trust,
                             const ClientPolicy& policy, std::chrono::system_clock::time_point now,
                             std::chrono::system_clock::time_point& valid_until) {
    std::vector<pki::Certificate> chain;
    try {
        chain = peer_chain(leaf, presented);
    } catch (const std::exception& e) {
        return rejected("encoding", std::string("unparseable certificate: ") + e.what());
    }
    if (chain.empty()) return rejected("no_certificate", "no client certificate");

    pki::VerifyOptions options;
    options.purpose = pki::Purpose::client_auth;
    options.at = now;
    const auto result = pki::verify_chain(chain, trust, options);
    auto identity = std::make_shared<PeerIdentity>(identity_of(chain.front()));
    // Counted by tests: how often a full path validation ran (the verdict cache saves it).
    log_event(spdlog::level::debug, "client_chain_validated",
              {{"subject", identity->subject}, {"serial", identity->serial_hex}, {"valid", result.valid()}});
    identity->fully_verified = result.valid();
    if (!result.valid()) {
        if (!policy.relaxed || !result.only_relaxable_failures())
            return rejected(pki::check_name(result.failures.front().kind), result.reason(), identity);
        identity->skipped_checks = result.failed_check_names();
    }
    valid_until = verdict_expiry(chain, trust);
    if (auto refusal = policy.refusal(*identity)) return rejected(std::move(*refusal), std::move(identity));
    ClientVerdict verdict;
    if (result.valid()) {
        verdict.outcome = ClientVerdict::Outcome::accepted;
        verdict.reason_code = "verified";
    } else {
        verdict.outcome = ClientVerdict::Outcome::accepted_relaxed;
        verdict.reason_code = "relaxed";
        std::vector<std::string> messages;
        for (const auto& failure : result.failures) messages.push_back(failure.message);
        verdict.reason = "RELAXED MODE: accepted despite: " + join(messages, "; ");
    }
    verdict.identity = std::move(identity);
    return verdict;
}

}  // namespace

ClientVerdict judge_client(X509* leaf, STACK_OF(X509)* presented, const CredentialSnapshot& snapshot,
                           const ClientPolicy& policy, std::chrono::system_clock::time_point now) {
    const pki::TrustStore* trust = snapshot.trust.get();
    if (auto problem = snapshot.revocation_problem(now)) {
        if (policy.stale_crl == StaleCrl::fail_closed)
            return rejected("crl_stale", *problem + "; new handshakes are refused until a fresh CRL is in (--crl-stale fail-closed)");
        // Fail-open: judged as if there were no CRL (the verifier would refuse a stale one).
        trust = snapshot.trust_without_crls.get();
    }
    std::optional<ClientVerdict> judged;  // set when this handshake judged the chain itself
    std::chrono::system_clock::time_point valid_until{};
    auto judge = [&] {
        judged = judge_uncached(leaf, presented, *trust, policy, now, valid_until);
        // Only what is fully valid is cached (the allow-list is applied on every use).
        const bool cacheable = judged->identity && judged->identity->fully_verified;
        return VerdictCache::Verified{cacheable ? judged->identity : nullptr, valid_until};
    };
    ChainDigest digest{};
    if (chain_digest(leaf, presented, digest)) {
        auto identity = snapshot.verdicts->find_or_verify(digest, now, judge);
        if (judged) return *judged;
        if (identity) {
            if (auto refusal = policy.refusal(*identity)) return rejected(std::move(*refusal), std::move(identity));
            ClientVerdict verdict;
            verdict.outcome = ClientVerdict::Outcome::accepted;
            verdict.reason_code = "verified";
            verdict.from_cache = true;
            verdict.identity = std::move(identity);
            return verdict;
        }
    }
    if (!judged) judged = judge_uncached(leaf, presented, *trust, policy, now, valid_until);
    return *judged;
}

nlohmann::json client_verdict_fields(const ClientVerdict& verdict, const std::string& peer_address) {
    nlohmann::json fields = verdict.identity ? describe_peer(*verdict.identity, peer_address)
                                             : nlohmann::json{{"peer", peer_address}};
    switch (verdict.outcome) {
        case ClientVerdict::Outcome::accepted:
            fields["verdict"] = "accepted";
            if (verdict.from_cache) fields["cached"] = true;
            break;
        case ClientVerdict::Outcome::accepted_relaxed:
            fields["verdict"] = "accepted_relaxed";
            fields["skipped_checks"] = verdict.identity->skipped_checks;
            fields["reason"] = verdict.reason;
            break;
        case ClientVerdict::Outcome::rejected:
            fields["verdict"] = "rejected";
            fields["reason"] = verdict.reason;
            break;
    }
    return fields;
}

void log_client_verdict(const ClientVerdict& verdict, const std::string& peer_address) {
    const auto level = verdict.outcome != ClientVerdict::Outcome::accepted ? spdlog::level::warn
                       : verdict.from_cache                                ? spdlog::level::debug
                                                                           : spdlog::level::info;
    if (log_enabled(level)) log_event(level, "tls_handshake", client_verdict_fields(verdict, peer_address));
}

}  // namespace mcpmtls::tls
