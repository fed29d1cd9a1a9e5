#pragma once
// Private to tls/: the verified identity of a server connection travels with its SSL (ex_data),
// set when the client's chain is judged or its session ticket is accepted, read by requests.
#include "tls/peer_identity.hpp"

#include <memory>
#include <string>

typedef struct ssl_st SSL;

namespace mcpmtls::tls {

void attach_identity(SSL* ssl, std::shared_ptr<const PeerIdentity> identity);
std::shared_ptr<const PeerIdentity> attached_identity(const SSL* ssl);

// The peer's address, read once when the handshake starts: a log line written after the client
// reset the connection can still name it (getpeername fails on such a socket).
void remember_peer_address(SSL* ssl);
std::string remembered_peer_address(const SSL* ssl);  // empty if none was remembered

}  // namespace mcpmtls::tls
