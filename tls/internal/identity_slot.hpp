#pragma once
// Private to tls/: the verified identity of a server connection travels with its SSL (ex_data),
// set when the client's chain is judged or its session ticket is accepted, read by requests.
#include "tls/peer_identity.hpp"

#include <memory>

typedef struct ssl_st SSL;

namespace mcpmtls::tls {

void attach_identity(SSL* ssl, std::shared_ptr<const PeerIdentity> identity);
std::shared_ptr<const PeerIdentity> attached_identity(const SSL* ssl);

}  // namespace mcpmtls::tls
