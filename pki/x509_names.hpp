#pragma once
// Private to pki/: DER helpers Botan 2 lacks (IPv6 SANs, readable DNs, raw extensions).
#include "pki/certificate.hpp"

#include <botan/asn1_oid.h>
#include <botan/pkix_enums.h>
#include <botan/pkix_types.h>
#include <botan/x509_dn.h>

namespace mcpmtls::pki {

std::string format_dn(const Botan::X509_DN& dn);
SubjectAltNames decode_general_names(const std::vector<uint8_t>& der);
std::vector<uint8_t> encode_general_names(const SubjectAltNames& names);
std::string eku_name(const Botan::OID& oid);
std::vector<std::string> key_usage_names(Botan::Key_Constraints constraints);

// An extension whose DER value we build ourselves (e.g. a SubjectAltName with IPv6 entries).
class RawExtension final : public Botan::Certificate_Extension {
public:
    RawExtension(Botan::OID oid, std::string name, std::vector<uint8_t> value)
        : oid_(std::move(oid)), name_(std::move(name)), value_(std::move(value)) {}
    Botan::OID oid_of() const override { return oid_; }
    std::string oid_name() const override { return name_; }
    Botan::Certificate_Extension* copy() const override { return new RawExtension(oid_, name_, value_); }
    void contents_to(Botan::Data_Store&, Botan::Data_Store&) const override {}

private:
    std::vector<uint8_t> encode_inner() const override { return value_; }
    void decode_inner(const std::vector<uint8_t>& in) override { value_ = in; }

    Botan::OID oid_;
    std::string name_;
    std::vector<uint8_t> value_;
};

}  // namespace mcpmtls::pki
