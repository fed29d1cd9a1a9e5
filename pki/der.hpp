#pragma once
// Private to pki/: a small strict DER reader and the X.509 structures the verifier's own rules
// parse (GeneralNames, Name, NameConstraints, certificate policies). Botan 2 either does not
// parse these (IPv6 name constraints, policy constraints) or hides the parts the rules need.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace mcpmtls::pki::der {

struct Malformed : std::runtime_error {
    explicit Malformed(const std::string& what) : std::runtime_error(what) {}
};

// One TLV. `tag` is the identifier octet (class, constructed bit and number < 31).
struct Tlv {
    uint8_t tag = 0;
    const uint8_t* data = nullptr;  // contents
    size_t size = 0;
    std::vector<uint8_t> bytes() const { return {data, data + size}; }
    std::string text() const { return {reinterpret_cast<const char*>(data), size}; }
};

// Reads consecutive TLVs from a buffer (the caller keeps the buffer alive).
class Reader {
public:
    Reader(const uint8_t* data, size_t size) : p_(data), end_(data + size) {}
    explicit Reader(const std::vector<uint8_t>& v) : Reader(v.data(), v.size()) {}
    explicit Reader(const Tlv& t) : Reader(t.data, t.size) {}
    bool empty() const { return p_ == end_; }
    uint8_t peek_tag() const;
    Tlv next();                     // throws Malformed
    Tlv next(uint8_t expected_tag); // throws Malformed when the tag differs
    // An OPTIONAL (or DEFAULT) field: the next TLV if it has `tag`, else nothing is read.
    std::optional<Tlv> next_if(uint8_t tag);
    // A value that must fill the rest of the data (an extension value, what an EXPLICIT tag
    // wraps): next(expected_tag), then expect_end().
    Tlv only(uint8_t expected_tag);
    void expect_end() const;

private:
    const uint8_t* p_;
    const uint8_t* end_;
};

constexpr uint8_t kBoolean = 0x01, kInteger = 0x02, kBitString = 0x03, kOctetString = 0x04, kNull = 0x05,
                  kOid = 0x06, kUtf8String = 0x0c, kPrintableString = 0x13, kTeletexString = 0x14,
                  kIa5String = 0x16, kVisibleString = 0x1a, kUniversalString = 0x1c, kBmpString = 0x1e,
                  kSequence = 0x30, kSet = 0x31;

std::string decode_oid(const Tlv& oid);  // dotted form
// INTEGER contents as an unsigned value; throws Malformed when negative or longer than 8 bytes.
uint64_t decode_small_uint(const Tlv& integer);

// RFC 5280 GeneralName, the forms the rules understand kept apart.
struct GeneralName {
    enum Type { other_name = 0, rfc822 = 1, dns = 2, x400 = 3, directory = 4, edi_party = 5, uri = 6, ip = 7, registered_id = 8 };
    Type type = other_name;
    std::string text;            // rfc822, dns, uri (IA5 text)
    std::vector<uint8_t> value;  // ip: raw octets; directory: DER of the Name; others: contents
};
GeneralName parse_general_name(const Tlv& tlv);               // throws Malformed
std::vector<GeneralName> parse_general_names(const std::vector<uint8_t>& der);  // SEQUENCE OF

// A Name, as RDNs of (attribute OID, comparison form of the value).
struct Attribute {
    std::string oid;
    std::string value;  // strings: trimmed, inner spaces collapsed, ASCII lower-cased; else hex
    bool operator==(const Attribute& o) const { return oid == o.oid && value == o.value; }
    bool operator<(const Attribute& o) const { return oid != o.oid ? oid < o.oid : value < o.value; }
};
using Rdn = std::vector<Attribute>;  // sorted
std::vector<Rdn> parse_name(const std::vector<uint8_t>& der);  // throws Malformed
// RFC 5280 7.1: `name` is within the subtree rooted at `base` (base's RDNs are a prefix).
bool name_within(const std::vector<Rdn>& name, const std::vector<Rdn>& base);
// Values of emailAddress attributes (PKCS#9) in a Name, as written.
std::vector<std::string> email_attributes(const std::vector<uint8_t>& name_der);

struct Subtree {
    GeneralName base;
};
struct NameConstraints {
    std::vector<Subtree> permitted, excluded;
};
NameConstraints parse_name_constraints(const std::vector<uint8_t>& der);  // throws Malformed

struct PolicyInformation {
    std::string oid;
    std::vector<std::string> qualifier_oids;
};
std::vector<PolicyInformation> parse_certificate_policies(const std::vector<uint8_t>& der);
std::vector<std::pair<std::string, std::string>> parse_policy_mappings(const std::vector<uint8_t>& der);
struct PolicyConstraints {
    std::optional<uint64_t> require_explicit_policy, inhibit_policy_mapping;
};
PolicyConstraints parse_policy_constraints(const std::vector<uint8_t>& der);
uint64_t parse_inhibit_any_policy(const std::vector<uint8_t>& der);

struct AuthorityKeyId {
    bool has_key_id = false, has_issuer = false, has_serial = false;
};
AuthorityKeyId parse_authority_key_id(const std::vector<uint8_t>& der);

// DistributionPointName of a CRL distribution point or issuing distribution point.
struct DistributionPointName {
    std::vector<GeneralName> full_names;
    std::optional<Rdn> relative;  // nameRelativeToCRLIssuer: append to the CRL issuer's name
};
struct DistributionPoint {
    std::optional<DistributionPointName> name;
    std::optional<std::vector<uint8_t>> reasons;  // BIT STRING contents (with unused-bits octet)
    std::vector<GeneralName> crl_issuer;
};
std::vector<DistributionPoint> parse_crl_distribution_points(const std::vector<uint8_t>& der);
struct IssuingDistributionPoint {
    std::optional<DistributionPointName> name;
    bool only_user = false, only_ca = false, indirect = false, only_attribute = false;
    std::optional<std::vector<uint8_t>> only_some_reasons;
};
IssuingDistributionPoint parse_issuing_distribution_point(const std::vector<uint8_t>& der);

}  // namespace mcpmtls::pki::der
