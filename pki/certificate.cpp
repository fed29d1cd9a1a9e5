#include "pki/certificate.hpp"

#include "common/error.hpp"
#include "common/files.hpp"
#include "common/strings.hpp"
#include "pki/botan_access.hpp"
#include "pki/der.hpp"
#include "pki/oids.hpp"
#include "pki/x509_names.hpp"

#include <arpa/inet.h>
#include <cstdio>
#include <date/date.h>
#include <botan/asn1_obj.h>
#include <botan/ber_dec.h>
#include <botan/data_src.h>
#include <botan/ec_group.h>
#include <botan/ecc_key.h>
#include <botan/hash.h>
#include <botan/oids.h>
#include <botan/pem.h>
#include <botan/pubkey.h>
#include <botan/x509_ext.h>

namespace mcpmtls::pki {

Certificate wrap_certificate(const Botan::X509_Certificate& cert) {
    auto impl = std::make_shared<Certificate::Impl>(Certificate::Impl{cert, cert.BER_encode(), {}});
    auto sha256 = Botan::HashFunction::create_or_throw("SHA-256");
    auto digest = sha256->process(impl->der);
    impl->fingerprint = to_hex(digest.data(), digest.size());
    return Certificate(std::move(impl));
}

Certificate Certificate::from_der(const uint8_t* der, size_t size) {
    try {
        return wrap_certificate(Botan::X509_Certificate(der, size));
    } catch (const std::exception& e) {
        throw InputError(std::string("not a valid X.509 certificate: ") + e.what());
    }
}

std::vector<Certificate> Certificate::parse_all(const std::string& data, const std::string& source) {
    std::vector<Certificate> certs;
    if (data.find("-----BEGIN") == std::string::npos) {
        if (data.empty()) throw InputError(source + " is empty");
        try {
            certs.push_back(wrap_certificate(
                Botan::X509_Certificate(reinterpret_cast<const uint8_t*>(data.data()), data.size())));
        } catch (const std::exception&) {
            throw InputError(source + " is not a certificate (neither PEM nor DER)");
        }
        return certs;
    }
    size_t pos = 0;
    const std::string begin = "-----BEGIN CERTIFICATE-----";
    const std::string end = "-----END CERTIFICATE-----";
    while ((pos = data.find(begin, pos)) != std::string::npos) {
        size_t stop = data.find(end, pos);
        if (stop == std::string::npos) throw InputError(source + ": truncated PEM (no END CERTIFICATE line)");
        std::string block = data.substr(pos, stop + end.size() - pos);
        try {
            Botan::DataSource_Memory in(block);
            certs.push_back(wrap_certificate(Botan::X509_Certificate(in)));
        } catch (const std::exception&) {
            throw InputError(source + ": corrupt PEM certificate #" + std::to_string(certs.size() + 1));
        }
        pos = stop + end.size();
    }
    if (certs.empty()) throw InputError(source + " holds no certificate");
    return certs;
}

std::vector<Certificate> Certificate::load_all(const std::string& path) { return parse_all(read_file(path), path); }

Certificate Certificate::load(const std::string& path) { return load_all(path).front(); }

std::string Certificate::subject() const { return format_dn(impl_->cert.subject_dn()); }
std::string Certificate::issuer() const { return format_dn(impl_->cert.issuer_dn()); }

std::string Certificate::common_name() const {
    auto names = impl_->cert.subject_info("X520.CommonName");
    return names.empty() ? std::string() : names.front();
}

std::string Certificate::serial_hex() const { return to_hex(impl_->cert.serial_number()); }

// Botan's own conversion throws for years before 1970 and after 2400, both legal in X.509
// (UTCTime starts at 1950; RFC 5280 gives 99991231235959Z for "no expiry"). Such a date must
// not turn a certificate into an exception: convert from the calendar fields and clamp to what
// a system_clock time point can hold (about 1678 to 2262).
TimePoint to_time_point(const Botan::X509_Time& time) {
    if (!time.time_is_set()) throw InputError("a certificate or CRL time is missing");
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    const std::string text = time.readable_string();  // "YYYY/MM/DD hh:mm:ss UTC"
    if (std::sscanf(text.c_str(), "%d/%d/%d %d:%d:%d", &year, &month, &day, &hour, &minute, &second) != 6)
        throw InputError("unreadable certificate time '" + text + "'");
    const date::sys_days calendar_day{date::year{year} / static_cast<unsigned>(month) / static_cast<unsigned>(day)};
    const int64_t seconds = int64_t{calendar_day.time_since_epoch().count()} * 86400 + hour * 3600 + minute * 60 + second;
    using Seconds = std::chrono::seconds;
    const int64_t max_seconds = std::chrono::duration_cast<Seconds>(TimePoint::max().time_since_epoch()).count() - 1;
    const int64_t min_seconds = std::chrono::duration_cast<Seconds>(TimePoint::min().time_since_epoch()).count() + 1;
    if (seconds >= max_seconds) return TimePoint::max();
    if (seconds <= min_seconds) return TimePoint::min();
    return TimePoint(std::chrono::duration_cast<TimePoint::duration>(Seconds(seconds)));
}

TimePoint Certificate::not_before() const { return to_time_point(impl_->cert.not_before()); }
TimePoint Certificate::not_after() const { return to_time_point(impl_->cert.not_after()); }

SubjectAltNames Certificate::subject_alt_names() const {
    const auto oid = Botan::OID::from_string("X509v3.SubjectAlternativeName");
    const auto& extensions = impl_->cert.v3_extensions();
    if (!extensions.extension_set(oid)) return {};
    try {
        return decode_general_names(extensions.get_extension_bits(oid));
    } catch (const std::exception&) {
        return {};  // an undecodable SAN matches nothing
    }
}

bool Certificate::is_ca() const { return impl_->cert.is_CA_cert(); }

std::optional<size_t> Certificate::path_length() const {
    if (!impl_->cert.is_CA_cert()) return std::nullopt;
    auto limit = impl_->cert.path_limit();
    if (limit == Botan::Cert_Extension::NO_CERT_PATH_LIMIT) return std::nullopt;
    return limit;
}

std::vector<std::string> Certificate::extended_key_usages() const {
    std::vector<std::string> out;
    for (const auto& oid : impl_->cert.extended_key_usage()) out.push_back(eku_name(oid));
    return out;
}

bool Certificate::has_key_usage_extension() const {
    return impl_->cert.v3_extensions().extension_set(Botan::OID::from_string("X509v3.KeyUsage"));
}

bool Certificate::has_extended_key_usage_extension() const {
    return impl_->cert.v3_extensions().extension_set(Botan::OID::from_string("X509v3.ExtendedKeyUsage"));
}

std::vector<std::string> Certificate::key_usages() const {
    return key_usage_names(impl_->cert.constraints());
}

namespace {

// Raw value of the extension `id`, empty when absent.
std::vector<uint8_t> extension_value(const Botan::X509_Certificate& cert, const std::string& id) {
    const auto oid = Botan::OID(id);
    const auto& extensions = cert.v3_extensions();
    return extensions.extension_set(oid) ? extensions.get_extension_bits(oid) : std::vector<uint8_t>();
}

// A name-constraint base as people type it: "DNS example.com", "URI prod.example", "IP 10.0.0.0/8".
std::string describe_subtree(const der::GeneralName& base) {
    switch (base.type) {
        case der::GeneralName::dns: return "DNS " + base.text;
        case der::GeneralName::uri: return "URI " + base.text;
        case der::GeneralName::rfc822: return "email " + base.text;
        case der::GeneralName::ip: {
            const size_t half = base.value.size() / 2;
            char text[INET6_ADDRSTRLEN] = {};
            if (!inet_ntop(half == 4 ? AF_INET : AF_INET6, base.value.data(), text, sizeof text)) return "IP (invalid)";
            size_t prefix = 0;
            for (size_t i = half; i < base.value.size(); ++i)
                for (int bit = 7; bit >= 0 && ((base.value[i] >> bit) & 1); --bit) ++prefix;
            return "IP " + std::string(text) + "/" + std::to_string(prefix);
        }
        case der::GeneralName::directory: return "directory name";
        default: return "name of form " + std::to_string(static_cast<int>(base.type));
    }
}

}  // namespace

std::string Certificate::name_constraints() const {
    const auto value = extension_value(impl_->cert, oid::kNameConstraints);
    if (value.empty()) return "";
    try {
        const auto constraints = der::parse_name_constraints(value);
        auto list = [](const std::vector<der::Subtree>& subtrees) {
            std::vector<std::string> parts;
            for (const auto& s : subtrees) parts.push_back(describe_subtree(s.base));
            return join(parts, ", ");
        };
        std::vector<std::string> sections;
        if (!constraints.permitted.empty()) sections.push_back("permitted " + list(constraints.permitted));
        if (!constraints.excluded.empty()) sections.push_back("excluded " + list(constraints.excluded));
        return join(sections, "; ");
    } catch (const der::Malformed&) {
        return "malformed";
    }
}

std::vector<std::string> Certificate::crl_distribution_points() const {
    const auto value = extension_value(impl_->cert, oid::kCrlDistributionPoints);
    std::vector<std::string> uris;
    if (value.empty()) return uris;
    try {
        for (const auto& point : der::parse_crl_distribution_points(value))
            if (point.name)
                for (const auto& name : point.name->full_names)
                    if (name.type == der::GeneralName::uri) uris.push_back(name.text);
    } catch (const der::Malformed&) {
    }
    return uris;
}

std::string Certificate::subject_key_id_hex() const { return to_hex(impl_->cert.subject_key_id()); }
std::string Certificate::authority_key_id_hex() const { return to_hex(impl_->cert.authority_key_id()); }
bool Certificate::is_self_signed() const { return impl_->cert.is_self_signed(); }

std::string describe_public_key(const Botan::Public_Key& key) {
    std::string algo = key.algo_name();
    if (auto ec = dynamic_cast<const Botan::EC_PublicKey*>(&key)) {
        std::string curve = ec->domain().get_curve_oid().to_formatted_string();
        if (curve == "secp256r1") curve = "P-256";
        else if (curve == "secp384r1") curve = "P-384";
        else if (curve == "secp521r1") curve = "P-521";
        return algo + " " + curve;
    }
    if (algo == "RSA" || algo == "DSA") return algo + " " + std::to_string(key.key_length());
    return algo;
}

std::string Certificate::public_key_algorithm() const {
    try {
        return describe_public_key(*impl_->cert.load_subject_public_key());
    } catch (const std::exception&) {
        return "unknown";
    }
}

size_t Certificate::public_key_strength_bits() const {
    try {
        return impl_->cert.load_subject_public_key()->estimated_strength();
    } catch (const std::exception&) {
        return 0;
    }
}

std::string Certificate::signature_algorithm() const {
    const auto& oid = impl_->cert.signature_algorithm().get_oid();
    std::string name = Botan::OIDS::oid2str_or_empty(oid);
    return name.empty() ? oid.to_string() : name;
}

std::string Certificate::fingerprint_sha256() const { return impl_->fingerprint; }
const std::vector<uint8_t>& Certificate::der() const { return impl_->der; }
std::string Certificate::pem() const { return Botan::PEM_Code::encode(impl_->der, "CERTIFICATE"); }

bool Certificate::matches_key(const PrivateKey& key) const {
    return key.public_key_info() == impl_->cert.subject_public_key_info();
}

bool Certificate::same_public_key(const Certificate& other) const {
    return impl_->cert.subject_public_key_info() == other.impl_->cert.subject_public_key_info();
}

bool Certificate::is_signed_by(const Certificate& issuer) const {
    try {
        auto key = issuer.impl_->cert.load_subject_public_key();
        return impl_->cert.check_signature(*key);
    } catch (const std::exception&) {
        return false;
    }
}

std::string normalize_serial_hex(const std::string& text) {
    std::string hex;
    std::string body = starts_with(to_lower(text), "0x") ? text.substr(2) : text;
    for (char c : body) {
        if (c == ':' ) continue;
        if (!std::isxdigit(static_cast<unsigned char>(c))) throw InputError("bad serial '" + text + "' (expected hex)");
        hex.push_back(c);
    }
    hex = to_lower(hex);
    size_t first = hex.find_first_not_of('0');
    hex = first == std::string::npos ? "0" : hex.substr(first);
    if (hex.size() % 2) hex.insert(hex.begin(), '0');
    if (hex.empty()) throw InputError("empty serial");
    return hex;
}

}  // namespace mcpmtls::pki
