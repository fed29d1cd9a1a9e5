#include "pki/x509_names.hpp"

#include "common/error.hpp"
#include "common/strings.hpp"
#include "pki/der.hpp"
#include "pki/oids.hpp"

#include <arpa/inet.h>
#include <botan/asn1_str.h>
#include <botan/ber_dec.h>
#include <botan/der_enc.h>
#include <botan/oids.h>

namespace mcpmtls::pki {
namespace {

using der::GeneralName;  // its Type values are the CHOICE tags (RFC 5280 4.2.1.6)

std::string short_attribute_name(const Botan::OID& type) {
    static const std::pair<std::string, const char*> names[] = {
        {"2.5.4.3", "CN"},  {"2.5.4.10", "O"}, {"2.5.4.11", "OU"}, {"2.5.4.6", "C"},
        {"2.5.4.8", "ST"},  {"2.5.4.7", "L"},  {"2.5.4.5", "serialNumber"},
        {oid::kEmailAddress, "emailAddress"}, {"0.9.2342.19200300.100.1.25", "DC"},
    };
    const std::string dotted = type.to_string();
    for (const auto& [number, name] : names)
        if (dotted == number) return name;
    return dotted;
}

void add_name(Botan::DER_Encoder& der, int tag, const std::string& value) {
    der.add_object(static_cast<Botan::ASN1_Tag>(tag), Botan::CONTEXT_SPECIFIC, value);
}

}  // namespace

std::string format_dn(const Botan::X509_DN& dn) {
    std::vector<std::string> attributes;
    for (const auto& [type, value] : dn.dn_info()) attributes.push_back(short_attribute_name(type) + "=" + value.value());
    return join(attributes, ", ");
}

SubjectAltNames decode_general_names(const std::vector<uint8_t>& der) {
    SubjectAltNames names;
    Botan::BER_Decoder outer(der);
    Botan::BER_Decoder seq = outer.start_cons(Botan::SEQUENCE);
    while (seq.more_items()) {
        Botan::BER_Object obj = seq.get_next_object();
        if (obj.get_class() != Botan::CONTEXT_SPECIFIC && obj.get_class() != (Botan::CONTEXT_SPECIFIC | Botan::CONSTRUCTED))
            continue;
        std::string text(reinterpret_cast<const char*>(obj.bits()), obj.length());
        switch (static_cast<int>(obj.type())) {
            case GeneralName::dns: names.dns.push_back(text); break;
            case GeneralName::rfc822: names.emails.push_back(text); break;
            case GeneralName::uri: names.uris.push_back(text); break;
            case GeneralName::ip: {
                char buf[INET6_ADDRSTRLEN] = {};
                if (obj.length() == 4 && inet_ntop(AF_INET, obj.bits(), buf, sizeof buf)) names.ips.emplace_back(buf);
                else if (obj.length() == 16 && inet_ntop(AF_INET6, obj.bits(), buf, sizeof buf)) names.ips.emplace_back(buf);
                break;
            }
            default: break;  // otherName, directoryName...: not used for identity here
        }
    }
    return names;
}

std::vector<uint8_t> encode_general_names(const SubjectAltNames& names) {
    std::vector<uint8_t> out;
    Botan::DER_Encoder der(out);
    der.start_cons(Botan::SEQUENCE);
    for (const auto& dns : names.dns) add_name(der, GeneralName::dns, dns);
    for (const auto& ip : names.ips) {
        unsigned char buf[16];
        if (inet_pton(AF_INET, ip.c_str(), buf) == 1)
            der.add_object(static_cast<Botan::ASN1_Tag>(GeneralName::ip), Botan::CONTEXT_SPECIFIC, buf, 4);
        else if (inet_pton(AF_INET6, ip.c_str(), buf) == 1)
            der.add_object(static_cast<Botan::ASN1_Tag>(GeneralName::ip), Botan::CONTEXT_SPECIFIC, buf, 16);
        else
            throw InputError("bad IP address '" + ip + "'");
    }
    for (const auto& email : names.emails) add_name(der, GeneralName::rfc822, email);
    for (const auto& uri : names.uris) add_name(der, GeneralName::uri, uri);
    der.end_cons();
    return out;
}

std::string eku_name(const Botan::OID& usage) {
    const std::string dotted = usage.to_string();
    if (dotted == oid::kServerAuth) return "serverAuth";
    if (dotted == oid::kClientAuth) return "clientAuth";
    if (dotted == oid::kCodeSigning) return "codeSigning";
    if (dotted == oid::kEmailProtection) return "emailProtection";
    if (dotted == oid::kTimeStamping) return "timeStamping";
    if (dotted == oid::kOcspSigning) return "OCSPSigning";
    if (dotted == oid::kAnyExtendedKeyUsage) return "anyExtendedKeyUsage";
    return dotted;
}

std::vector<std::string> key_usage_names(Botan::Key_Constraints constraints) {
    static const std::pair<Botan::Key_Constraints, const char*> names[] = {
        {Botan::DIGITAL_SIGNATURE, "digitalSignature"}, {Botan::NON_REPUDIATION, "nonRepudiation"},
        {Botan::KEY_ENCIPHERMENT, "keyEncipherment"},   {Botan::DATA_ENCIPHERMENT, "dataEncipherment"},
        {Botan::KEY_AGREEMENT, "keyAgreement"},         {Botan::KEY_CERT_SIGN, "keyCertSign"},
        {Botan::CRL_SIGN, "cRLSign"},                   {Botan::ENCIPHER_ONLY, "encipherOnly"},
        {Botan::DECIPHER_ONLY, "decipherOnly"},
    };
    std::vector<std::string> out;
    for (const auto& [bit, name] : names)
        if (constraints & bit) out.emplace_back(name);
    return out;
}

}  // namespace mcpmtls::pki
