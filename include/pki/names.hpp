#pragma once
// Syntax checks for what people type: certificate names, DNS names, IPs, URIs, e-mail.
#include <string>

namespace mcpmtls::pki {

// A certificate's file stem: 1-64 of [A-Za-z0-9._-], starting with a letter or digit, not a
// name the CA directory uses itself. Throws InputError.
void validate_certificate_name(const std::string& name);
// RFC 1123 host name, optionally with one leading "*." wildcard label when allowed.
bool is_valid_dns_name(const std::string& name, bool allow_wildcard);
bool is_ip_address(const std::string& text);  // IPv4 or IPv6 literal (no brackets)
// Canonical text form of an IP literal (brackets removed, IPv6 compressed); empty if not an IP.
std::string canonical_ip(const std::string& text);
bool is_valid_uri(const std::string& uri);    // scheme ":" rest, no spaces or control characters
bool is_valid_email(const std::string& email);

}  // namespace mcpmtls::pki
