#include "tls/internal/identity_slot.hpp"

#include "tls/credentials.hpp"

#include <openssl/ssl.h>

namespace mcpmtls::tls {
namespace {

using Holder = std::shared_ptr<const PeerIdentity>;

void free_identity(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) { delete static_cast<Holder*>(ptr); }

void free_address(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) { delete static_cast<std::string*>(ptr); }

int address_index() {
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, free_address);
    return index;
}

int identity_index() {
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, free_identity);
    return index;
}

}  // namespace

void attach_identity(SSL* ssl, std::shared_ptr<const PeerIdentity> identity) {
    delete static_cast<Holder*>(SSL_get_ex_data(ssl, identity_index()));
    SSL_set_ex_data(ssl, identity_index(), new Holder(std::move(identity)));
}

std::shared_ptr<const PeerIdentity> attached_identity(const SSL* ssl) {
    if (!ssl) return nullptr;
    auto* holder = static_cast<Holder*>(SSL_get_ex_data(ssl, identity_index()));
    return holder ? *holder : nullptr;
}

void remember_peer_address(SSL* ssl) {
    if (SSL_get_ex_data(ssl, address_index())) return;
    SSL_set_ex_data(ssl, address_index(), new std::string(peer_address_of(ssl)));
}

std::string remembered_peer_address(const SSL* ssl) {
    auto* address = ssl ? static_cast<std::string*>(SSL_get_ex_data(ssl, address_index())) : nullptr;
    return address ? *address : "";
}

}  // namespace mcpmtls::tls
