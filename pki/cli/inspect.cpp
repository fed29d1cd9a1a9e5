// pki inspect: a certificate, bundle or CRL in human terms, like `step certificate inspect`.
#include "common/files.hpp"
#include "common/strings.hpp"
#include "pki/cli/cli_support.hpp"
#include "pki/cli/commands.hpp"
#include "pki/verify/verifier.hpp"

#include <iostream>

namespace mcpmtls::pki::cli {
namespace {

ArgSpec inspect_spec() {
    return ArgSpec("pki inspect").positional("FILE");
}

void print_certificate(const Certificate& cert) {
    const auto sans = cert.subject_alt_names();
    const long left = days_left(cert.not_after());
    std::cout << "Certificate:\n"
              << "    Serial Number: " << cert.serial_hex() << "\n"
              << "    Signature Algorithm: " << cert.signature_algorithm() << "\n"
              << "    Issuer: " << cert.issuer() << "\n"
              << "    Validity\n"
              << "        Not Before: " << format_rfc3339(cert.not_before()) << "\n"
              << "        Not After : " << format_rfc3339(cert.not_after())
              << (left >= 0 ? " (in " + std::to_string(left) + " days)" : " (EXPIRED " + std::to_string(-left) + " days ago)")
              << "\n"
              << "    Subject: " << cert.subject() << "\n"
              << "    Subject Public Key Info: " << cert.public_key_algorithm() << " ("
              << cert.public_key_strength_bits() << "-bit security)\n"
              << "    X509v3 extensions:\n"
              << "        Basic Constraints: " << (cert.is_ca() ? "CA:TRUE" : "CA:FALSE");
    if (auto len = cert.path_length()) std::cout << ", pathlen:" << *len;
    std::cout << "\n";
    if (cert.has_key_usage_extension()) std::cout << "        Key Usage: " << join(cert.key_usages(), ", ") << "\n";
    if (cert.has_extended_key_usage_extension())
        std::cout << "        Extended Key Usage: " << join(cert.extended_key_usages(), ", ") << "\n";
    if (!sans.empty()) std::cout << "        Subject Alternative Name: " << describe_sans(sans) << "\n";
    if (const auto constraints = cert.name_constraints(); !constraints.empty())
        std::cout << "        Name Constraints: " << constraints << "\n";
    if (const auto points = cert.crl_distribution_points(); !points.empty())
        std::cout << "        CRL Distribution Points: " << join(points, ", ") << "\n";
    if (!cert.subject_key_id_hex().empty())
        std::cout << "        Subject Key Identifier: " << colon_hex(cert.subject_key_id_hex()) << "\n";
    if (!cert.authority_key_id_hex().empty())
        std::cout << "        Authority Key Identifier: " << colon_hex(cert.authority_key_id_hex()) << "\n";
    std::cout << "    Self-signed: " << (cert.is_self_signed() ? "yes" : "no") << "\n"
              << "    Fingerprint (SHA-256): " << colon_hex(to_lower(cert.fingerprint_sha256())) << "\n";
}

void print_crl(const RevocationList& crl) {
    const auto serials = crl.revoked_serials();
    std::cout << "Certificate Revocation List:\n"
              << "    Issuer: " << crl.issuer() << "\n"
              << "    CRL Number: " << crl.number() << "\n"
              << "    This Update: " << format_rfc3339(crl.this_update()) << "\n"
              << "    Next Update: " << format_rfc3339(crl.next_update()) << "\n"
              << "    Revoked Certificates: " << serials.size() << "\n";
    for (const auto& serial : serials) std::cout << "        " << serial << "\n";
}

int run_inspect(const Args& args) {
    const std::string path = args.positionals()[0];
    const std::string data = read_file(path);
    if (data.find("-----BEGIN X509 CRL-----") != std::string::npos) {
        for (const auto& crl : RevocationList::parse_all(data, path)) print_crl(crl);
        return kExitOk;
    }
    if (data.find("PRIVATE KEY-----") != std::string::npos && data.find("-----BEGIN CERTIFICATE-----") == std::string::npos)
        throw InputError(path + " is a private key; inspect shows certificates and CRLs only");
    const auto certs = Certificate::parse_all(data, path);
    for (size_t i = 0; i < certs.size(); ++i) {
        if (certs.size() > 1) std::cout << (i ? "\n" : "") << "[" << i + 1 << "/" << certs.size() << "] ";
        print_certificate(certs[i]);
    }
    return kExitOk;
}

}  // namespace

Command inspect_command() { return {"inspect", "show a certificate, bundle or CRL in human terms", inspect_spec(), run_inspect}; }

}  // namespace mcpmtls::pki::cli
