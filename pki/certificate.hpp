#pragma once
// An immutable X.509 certificate with the accessors the product needs.
#include "pki/key.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mcpmtls::pki {

using TimePoint = std::chrono::system_clock::time_point;

struct SubjectAltNames {
    std::vector<std::string> dns;
    std::vector<std::string> ips;     // textual, IPv4 dotted or IPv6 (RFC 5952 as inet_ntop writes)
    std::vector<std::string> uris;
    std::vector<std::string> emails;
    bool empty() const { return dns.empty() && ips.empty() && uris.empty() && emails.empty(); }
};

class Certificate {
public:
    static Certificate from_der(const uint8_t* der, size_t size);
    static Certificate from_der(const std::vector<uint8_t>& der) { return from_der(der.data(), der.size()); }
    // Every certificate in a PEM text (or a single DER blob); throws InputError naming `source`
    // when there is none or one is corrupt.
    static std::vector<Certificate> parse_all(const std::string& data, const std::string& source);
    static std::vector<Certificate> load_all(const std::string& path);
    static Certificate load(const std::string& path);  // the first certificate in the file

    std::string subject() const;      // e.g. "CN=coordinator, O=mcp-mtls"
    std::string issuer() const;
    std::string common_name() const;  // empty when the subject has none
    std::string serial_hex() const;   // lower-case, even length, as stored in DER (sign byte dropped)
    TimePoint not_before() const;
    TimePoint not_after() const;
    SubjectAltNames subject_alt_names() const;
    bool is_ca() const;
    std::optional<size_t> path_length() const;          // pathLenConstraint when present
    std::vector<std::string> extended_key_usages() const;  // "serverAuth", "clientAuth", or dotted OIDs
    std::vector<std::string> key_usages() const;           // e.g. "digitalSignature", "keyCertSign"
    bool has_key_usage_extension() const;
    bool has_extended_key_usage_extension() const;
    // nameConstraints in words, e.g. "permitted DNS example.com, URI prod.example; excluded IP
    // 0.0.0.0/0, IP ::/0"; empty when the certificate has none.
    std::string name_constraints() const;
    std::vector<std::string> crl_distribution_points() const;  // the URIs of its CRL distribution points
    std::string subject_key_id_hex() const;
    std::string authority_key_id_hex() const;
    bool is_self_signed() const;
    std::string public_key_algorithm() const;  // "ECDSA P-256", "RSA 2048", "Ed25519" ...
    size_t public_key_strength_bits() const;   // estimated symmetric-equivalent security
    std::string signature_algorithm() const;
    std::string fingerprint_sha256() const;    // lower-case hex of SHA-256(DER)
    const std::vector<uint8_t>& der() const;
    std::string pem() const;
    bool matches_key(const PrivateKey& key) const;
    bool same_public_key(const Certificate& other) const;
    // True if this certificate's signature verifies with `issuer`'s public key.
    bool is_signed_by(const Certificate& issuer) const;

    struct Impl;
    const Impl& impl() const { return *impl_; }
    explicit Certificate(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

private:
    std::shared_ptr<const Impl> impl_;
};

// "0x..." or plain hex, colons allowed; returns canonical lower-case hex without leading zero
// bytes, for comparing serials typed by people with stored ones. Throws InputError.
std::string normalize_serial_hex(const std::string& text);

}  // namespace mcpmtls::pki
