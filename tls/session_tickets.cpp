#include "tls/internal/session_tickets.hpp"

#include "common/error.hpp"
#include "tls/internal/identity_slot.hpp"

#include <cstring>
#include <nlohmann/json.hpp>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <string>

namespace mcpmtls::tls {

using nlohmann::json;

struct SessionTickets::Keys {
    unsigned char name[16];
    unsigned char aes[32];
    unsigned char hmac[32];
    uint64_t trust_generation = 0;

    static std::shared_ptr<const Keys> fresh(uint64_t trust_generation) {
        auto keys = std::make_shared<Keys>();
        if (RAND_bytes(keys->name, sizeof keys->name) != 1 || RAND_bytes(keys->aes, sizeof keys->aes) != 1 ||
            RAND_bytes(keys->hmac, sizeof keys->hmac) != 1)
            throw Error(kExitFailed, "no randomness for TLS ticket keys");
        keys->trust_generation = trust_generation;
        return keys;
    }
};

namespace {

json identity_to_json(const PeerIdentity& id) {
    return {{"subject", id.subject}, {"cn", id.common_name},      {"dns", id.dns_names},
            {"ip", id.ip_addresses}, {"uri", id.uris},           {"email", id.emails},
            {"serial", id.serial_hex}, {"fp", id.fingerprint_sha256}, {"verified", id.fully_verified},
            {"skipped", id.skipped_checks}};
}

PeerIdentity identity_from_json(const json& in) {
    PeerIdentity id;
    id.subject = in.at("subject").get<std::string>();
    id.common_name = in.at("cn").get<std::string>();
    id.dns_names = in.at("dns").get<std::vector<std::string>>();
    id.ip_addresses = in.at("ip").get<std::vector<std::string>>();
    id.uris = in.at("uri").get<std::vector<std::string>>();
    id.emails = in.at("email").get<std::vector<std::string>>();
    id.serial_hex = in.at("serial").get<std::string>();
    id.fingerprint_sha256 = in.at("fp").get<std::string>();
    id.fully_verified = in.at("verified").get<bool>();
    id.skipped_checks = in.at("skipped").get<std::vector<std::string>>();
    return id;
}

int tickets_index() {
    static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

}  // namespace

// OpenSSL's callbacks; they find the SessionTickets through the SSL_CTX.
struct TicketCallbacks {
    static const SessionTickets& of(SSL* ssl) {
        return *static_cast<const SessionTickets*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), tickets_index()));
    }

    // HMAC with an EVP_MD object (not a digest name): OpenSSL 3 would otherwise look the
    // digest up by name for every ticket.
    static int key(SSL* ssl, unsigned char key_name[16], unsigned char* iv, EVP_CIPHER_CTX* cipher, HMAC_CTX* mac,
                   int encrypt) {
        const auto keys = of(ssl).keys();
        if (!encrypt && std::memcmp(key_name, keys->name, sizeof keys->name) != 0) return 0;  // old key: full handshake
        if (encrypt) {
            std::memcpy(key_name, keys->name, sizeof keys->name);
            if (RAND_bytes(iv, 16) != 1) return -1;
        }
        if (HMAC_Init_ex(mac, keys->hmac, sizeof keys->hmac, EVP_sha256(), nullptr) != 1) return -1;
        const int ok = encrypt ? EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, keys->aes, iv)
                               : EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, keys->aes, iv);
        return ok == 1 ? 1 : -1;
    }

    // The verified identity travels inside the (encrypted) ticket, with the trust generation it
    // was verified under.
    static int generate(SSL* ssl, void*) {
        const auto identity = attached_identity(ssl);
        SSL_SESSION* session = SSL_get0_session(ssl);
        if (!identity || !session) return 1;
        const std::string data = std::to_string(of(ssl).keys()->trust_generation) + "\n" + identity_to_json(*identity).dump();
        SSL_SESSION_set1_ticket_appdata(session, data.data(), data.size());
        return 1;
    }

    static SSL_TICKET_RETURN decrypted(SSL* ssl, SSL_SESSION* session, const unsigned char*, size_t, SSL_TICKET_STATUS status,
                                       void*) {
        if (status == SSL_TICKET_FATAL_ERR_MALLOC || status == SSL_TICKET_FATAL_ERR_OTHER) return SSL_TICKET_RETURN_ABORT;
        if (status != SSL_TICKET_SUCCESS && status != SSL_TICKET_SUCCESS_RENEW) return SSL_TICKET_RETURN_IGNORE_RENEW;
        void* raw = nullptr;
        size_t len = 0;
        if (SSL_SESSION_get0_ticket_appdata(session, &raw, &len) != 1 || !raw || len == 0) return SSL_TICKET_RETURN_IGNORE_RENEW;
        const std::string data(static_cast<const char*>(raw), len);
        const auto newline = data.find('\n');
        if (newline == std::string::npos || data.substr(0, newline) != std::to_string(of(ssl).keys()->trust_generation))
            return SSL_TICKET_RETURN_IGNORE_RENEW;
        try {
            attach_identity(ssl, std::make_shared<const PeerIdentity>(identity_from_json(json::parse(data.substr(newline + 1)))));
        } catch (const std::exception&) {
            return SSL_TICKET_RETURN_IGNORE_RENEW;
        }
        return status == SSL_TICKET_SUCCESS ? SSL_TICKET_RETURN_USE : SSL_TICKET_RETURN_USE_RENEW;
    }
};

SessionTickets::SessionTickets(uint64_t trust_generation) : keys_(Keys::fresh(trust_generation)) {}

void SessionTickets::rotate(uint64_t trust_generation) { std::atomic_store(&keys_, Keys::fresh(trust_generation)); }

void SessionTickets::install(SSL_CTX& ctx) {
    SSL_CTX_set_ex_data(&ctx, tickets_index(), this);
    static const unsigned char session_context[] = "mcp-mtls";
    SSL_CTX_set_session_id_context(&ctx, session_context, sizeof session_context - 1);
    // Stateless tickets only: nothing server-side to flush, and the key callback decides what
    // may resume.
    SSL_CTX_set_session_cache_mode(&ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(&ctx, 1);
    SSL_CTX_set_timeout(&ctx, 3600);
    SSL_CTX_set_tlsext_ticket_key_cb(&ctx, TicketCallbacks::key);
    SSL_CTX_set_session_ticket_cb(&ctx, TicketCallbacks::generate, TicketCallbacks::decrypted, nullptr);
}

}  // namespace mcpmtls::tls
