#pragma once
// What the pki tests share: running bin/pki, asking the openssl CLI (the independent second
// opinion) about the files it wrote, and snapshots of a directory to prove nothing changed.
#include "test/support/fixtures.hpp"

#include <map>
#include <string>
#include <vector>

namespace mcpmtls::testing {

CommandResult pki(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {});
// Throws (failing the test with pki's own message) unless pki exits 0.
void pki_ok(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {});

bool contains(const std::string& text, const std::string& part);
bool exists(const std::string& path);
size_t line_count(const std::string& text);

// `openssl x509 -noout -text` of the first certificate of `cert`.
std::string openssl_text(const std::string& cert);
// notAfter of the first certificate of `cert`, as seconds since the epoch, read by openssl.
long openssl_not_after(const std::string& cert);
std::string openssl_serial(const std::string& cert);  // lower-case hex
// The public key of the first certificate of a certificate file, or of a private key file, as
// PEM, both printed by openssl: equal when the key belongs to the certificate.
std::string openssl_certificate_public_key(const std::string& cert);
std::string openssl_key_public_key(const std::string& key);

// Every file below `dir` with its content, to compare before and after an operation.
std::map<std::string, std::string> snapshot(const std::string& dir);

}  // namespace mcpmtls::testing
