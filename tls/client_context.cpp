#include "tls/client_context.hpp"

#include "common/error.hpp"
#include "common/files.hpp"
#include "common/log.hpp"
#include "common/strings.hpp"
#include "pki/names.hpp"
#include "tls/protocol_policy.hpp"

#include <cctype>
#include <openssl/err.h>

namespace mcpmtls::tls {
namespace {

int verdict_index() {
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

int host_index() {
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, [](void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
        delete static_cast<std::string*>(ptr);
    });
    return index;
}

}  // namespace

std::string parse_pin(const std::string& text) {
    std::string body = text;
    if (to_lower(body.substr(0, 7)) == "sha256:") body = body.substr(7);
    std::string hex;
    for (char c : body) {
        if (c == ':') continue;
        if (!std::isxdigit(static_cast<unsigned char>(c))) throw InputError("bad --pin '" + text + "' (expected sha256:HEX)");
        hex.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    if (hex.size() != 64) throw InputError("bad --pin '" + text + "' (a SHA-256 fingerprint has 64 hex digits)");
    return hex;
}

ClientTlsContext::ClientTlsContext(ClientTlsSettings settings) : settings_(std::move(settings)) {
    if (settings_.present_certificate && (settings_.cert_path.empty() || settings_.key_path.empty()))
        throw InputError("the client needs --cert and --key (mutual TLS always presents a client certificate)");
    KeyPair ours;
    if (settings_.present_certificate) ours = load_key_pair(settings_.cert_path, settings_.key_path, settings_.pkcs11);
    // A CRL may come from an intermediate of our own chain (it issues the servers too).
    auto load_trust = [&] {
        std::vector<pki::RevocationList> crls;
        if (!settings_.crl_path.empty()) crls = pki::RevocationList::load_all(settings_.crl_path);
        return std::make_shared<const pki::TrustStore>(pki::TrustStore::with_crl_signers(
            pki::Certificate::load_all(settings_.ca_path), std::move(crls),
            ours.certificates.empty() ? std::vector<pki::Certificate>()
                                      : std::vector<pki::Certificate>(ours.certificates.begin() + 1, ours.certificates.end())));
    };
    if (settings_.mode == ServerCheckMode::strict && settings_.pin_sha256.empty()) {
        if (settings_.ca_path.empty()) throw InputError("strict mode needs --ca (the trust bundle)");
        trust_ = load_trust();
    } else if (!settings_.ca_path.empty() && file_exists(settings_.ca_path)) {
        trust_ = load_trust();
    }
    ctx_.reset(SSL_CTX_new(TLS_client_method()));
    if (!ctx_) throw Error(kExitFailed, "cannot create a TLS context");
    SSL_CTX* ctx = ctx_.get();
    apply_protocol_policy(ctx);
    if (settings_.present_certificate &&
        (SSL_CTX_use_certificate(ctx, ours.leaf.get()) != 1 || SSL_CTX_use_PrivateKey(ctx, ours.key.get()) != 1 ||
         SSL_CTX_set1_chain(ctx, ours.chain.get()) != 1)) {
        ERR_clear_error();
        throw InputError("cannot use " + settings_.cert_path + " / " + settings_.key_path + " as the client certificate");
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_cert_verify_callback(ctx, &ClientTlsContext::verify_server, this);
}

ClientTlsContext::~ClientTlsContext() = default;

SslPtr ClientTlsContext::new_ssl(const std::string& host, ServerVerdict* verdict_slot) const {
    SslPtr ssl(SSL_new(ctx_.get()));
    if (!ssl) throw Error(kExitFailed, "cannot create a TLS connection");
    if (!pki::is_ip_address(host)) SSL_set_tlsext_host_name(ssl.get(), host.c_str());
    SSL_set_ex_data(ssl.get(), verdict_index(), verdict_slot);
    SSL_set_ex_data(ssl.get(), host_index(), new std::string(host));
    return ssl;
}

int ClientTlsContext::verify_server(X509_STORE_CTX* store_ctx, void* arg) {
    auto* self = static_cast<ClientTlsContext*>(arg);
    SSL* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store_ctx, SSL_get_ex_data_X509_STORE_CTX_idx()));
    auto* verdict = static_cast<ServerVerdict*>(SSL_get_ex_data(ssl, verdict_index()));
    auto* host = static_cast<std::string*>(SSL_get_ex_data(ssl, host_index()));
    ServerVerdict local;
    ServerVerdict& v = verdict ? *verdict : local;
    v = ServerVerdict{};
    v.checked = true;
    try {
        v.chain = peer_chain(X509_STORE_CTX_get0_cert(store_ctx), X509_STORE_CTX_get0_untrusted(store_ctx));
    } catch (const std::exception& e) {
        v.reason = std::string("unparseable server certificate: ") + e.what();
        X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_CERT_REJECTED);
        return 0;
    }
    if (v.chain.empty()) {
        v.reason = "the server presented no certificate";
        X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_CERT_REJECTED);
        return 0;
    }
    const auto& leaf = v.chain.front();
    const auto& settings = self->settings_;
    if (!settings.pin_sha256.empty()) {
        v.pinned = true;
        v.accepted = leaf.fingerprint_sha256() == settings.pin_sha256;
        v.fully_verified = v.accepted;
        v.reason = v.accepted ? "OK (pinned)" : "server certificate sha256:" + leaf.fingerprint_sha256() + " does not match --pin";
    } else {
        pki::VerifyResult result;
        if (self->trust_) {
            pki::VerifyOptions options;
            options.purpose = pki::Purpose::server_auth;
            options.host = host ? *host : "";
            result = pki::verify_chain(v.chain, *self->trust_, options);
        } else {
            result.failures.push_back({pki::CheckFailure::untrusted_issuer, "no trust bundle loaded"});
        }
        for (const auto& f : result.failures) v.failure_messages.push_back(f.message);
        v.reason = result.reason();
        v.fully_verified = result.valid();
        v.accepted = result.valid() || (settings.mode == ServerCheckMode::relaxed && result.only_relaxable_failures());
        if (settings.mode == ServerCheckMode::diagnose) {
            X509_STORE_CTX_set_error(store_ctx, X509_V_OK);
            return 1;
        }
        if (v.accepted && !result.valid()) v.skipped_checks = result.failed_check_names();
    }
    if (!v.accepted) {
        X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_CERT_REJECTED);
        return 0;
    }
    X509_STORE_CTX_set_error(store_ctx, X509_V_OK);
    return 1;
}

}  // namespace mcpmtls::tls
