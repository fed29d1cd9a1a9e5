#pragma once
// The holder's side of a CSR: `client enroll` and renewal make their key where it is used and
// send only a PKCS#10 request for it, signed with it (the proof of possession the CA checks in
// CertificateRequest::parse). The online CA takes the names from the token or from the
// certificate being renewed, so a request carries the common name and nothing else.
#include "pki/key.hpp"

#include <string>

namespace mcpmtls::pki {

// A PEM "CERTIFICATE REQUEST" for `key`, subject CN=common_name, signed by `key`.
std::string make_certificate_request(const PrivateKey& key, const std::string& common_name);

}  // namespace mcpmtls::pki
