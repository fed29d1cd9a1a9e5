#pragma once
// Syntax checks for what people type: certificate names, DNS names, IPs, URIs, e-mail.
#include <string>

namespace mcpmtls::pki {

// A certificate's file stem: 1-64 of [A-Za-z0-9._-], starting with a letter or digit, not a
// name the CA directory uses itself. Throws InputError.
void validate_certificate_name(const std::string& name);
// What a DNS name may be. Two kinds of caller judge DNS names, and they differ on purpose:
//  - what people type (`pki issue --dns`, `pki verify --host`, the domain of an --email) goes
//    into certificates we issue or is the host we match: it must be a strict RFC 1123 host name
//    (host_name_rules()), so that every TLS stack accepts what we issue;
//  - a dNSName SAN in a certificate presented by a peer, issued by any CA, is judged as RFC 5280
//    and the verifiers we are compared with (Go's crypto/x509, rustls/webpki) judge it
//    (certificate_dns_rules()): they accept '_' (service names such as _acme-challenge), labels
//    that begin or end with '-' and names of digits, and refusing those would reject chains that
//    the other clients accept.
// Both: labels of 1-63 letters, digits and '-', at most 253 characters, no empty label.
struct DnsNameRules {
    bool wildcard = false;      // "*" as the whole left-most label, with at least one label after it
    bool underscore = false;    // '_' in labels
    bool edge_hyphens = false;  // a label may begin or end with '-'
    bool all_numeric = false;   // a name of digits and dots only (it reads as an IPv4 address)
    bool root_dot = false;      // one trailing '.' (the DNS root), ignored
    // Whether the 253-character limit counts a leading "*.": it does for a name as written in a
    // certificate; typed input has always been measured without it.
    bool wildcard_in_length = true;
};
DnsNameRules host_name_rules(bool allow_wildcard);
DnsNameRules certificate_dns_rules();
bool is_valid_dns_name(const std::string& name, const DnsNameRules& rules);
// host_name_rules(allow_wildcard): RFC 1123, optionally with one leading "*." wildcard label.
bool is_valid_dns_name(const std::string& name, bool allow_wildcard);
bool is_ip_address(const std::string& text);  // IPv4 or IPv6 literal (no brackets)
// Canonical text form of an IP literal (brackets removed, IPv6 compressed); empty if not an IP.
std::string canonical_ip(const std::string& text);
bool is_valid_uri(const std::string& uri);    // scheme ":" rest, no spaces or control characters
bool is_valid_email(const std::string& email);

}  // namespace mcpmtls::pki
