#pragma once
// Certificates kept up to date by an engine in a cluster arrive as a directory of files, in one
// of two layouts: cert-manager's (a Secret or its CSI drivers, csi-driver-spiffe included:
// `tls.crt tls.key ca.crt`) and spiffe-helper's (`svid.pem svid_key.pem svid_bundle.pem`).
// Servers and the client both take --cert-dir DIR and learn their paths here, so that the two
// layouts are spelled in one place.
#include <string>

namespace mcpmtls::tls {

struct CertDirectory {
    std::string layout;     // "cert-manager" | "spiffe-helper"
    std::string cert_path;  // leaf (and chain)
    std::string key_path;
    std::string ca_path;    // the bundle in the directory; empty when it has none
};

// Where a directory names a key kept in a token instead of holding its file: KEYFILE.uri beside
// where KEYFILE would be (tls.key.uri), one line with its pkcs11: URI, no PIN (client enroll
// --key pkcs11:... writes it).
std::string token_key_reference(const std::string& key_path);

// The layout of `dir`: cert-manager's when tls.crt is there, else spiffe-helper's when svid.pem
// is. Throws InputError (exit 2) in one line naming both layouts when it holds neither, or when
// the certificate's key is missing. A key named by token_key_reference() is given as its URI.
CertDirectory find_cert_directory(const std::string& dir);

}  // namespace mcpmtls::tls
