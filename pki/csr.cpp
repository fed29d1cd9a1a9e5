// Certificate signing requests: parsed with Botan's PKCS10_Request and judged before `pki sign`
// uses them. A CSR proves possession of its key only if its self-signature verifies, and a key
// the verifier would refuse must never be signed, so both are checked here, at the door.
#include "pki/csr.hpp"

#include "common/error.hpp"
#include "common/files.hpp"
#include "pki/botan_access.hpp"
#include "pki/key_policy.hpp"
#include "pki/x509_names.hpp"

#include <botan/data_src.h>
#include <botan/pem.h>
#include <botan/pkcs10.h>

namespace mcpmtls::pki {

struct CertificateRequest::Impl {
    std::unique_ptr<Botan::PKCS10_Request> request;
    std::string key_description;
};

namespace {

// The DER inside a PEM "CERTIFICATE REQUEST" (or the legacy "NEW CERTIFICATE REQUEST"), or the
// data itself when it is no PEM; anything else named plainly rather than as a parse failure.
std::vector<uint8_t> request_der(const std::string& data, const std::string& source) {
    if (data.empty()) throw InputError(source + " is empty");
    if (data.find("-----BEGIN") == std::string::npos) return {data.begin(), data.end()};
    const auto begin = data.find("-----BEGIN ");
    const auto label_end = data.find("-----", begin + 11);
    const std::string label = label_end == std::string::npos ? "" : data.substr(begin + 11, label_end - begin - 11);
    if (label != "CERTIFICATE REQUEST" && label != "NEW CERTIFICATE REQUEST")
        throw InputError(source + " is not a certificate signing request (it holds a PEM " +
                         (label.empty() ? std::string("block") : label) + ")");
    try {
        Botan::DataSource_Memory pem(data.substr(begin));
        std::string found_label;
        auto der = Botan::PEM_Code::decode(pem, found_label);
        return {der.begin(), der.end()};
    } catch (const std::exception&) {
        throw InputError(source + ": corrupt PEM certificate signing request");
    }
}

}  // namespace

CertificateRequest CertificateRequest::parse(const std::string& data, const std::string& source) {
    const auto der = request_der(data, source);
    auto impl = std::make_shared<Impl>();
    std::unique_ptr<Botan::Public_Key> key;
    const std::string bad_signature = source + ": the request's signature does not verify (corrupt, or not signed by its own key)";
    try {
        impl->request = std::make_unique<Botan::PKCS10_Request>(der);
        key.reset(impl->request->subject_public_key());
    } catch (const std::exception& e) {
        // Botan 2 verifies the self-signature while parsing and says so only in its message.
        if (std::string(e.what()).find("Bad signature") != std::string::npos) throw InputError(bad_signature);
        throw InputError(source + " is not a valid certificate signing request");
    }
    impl->key_description = describe_public_key(*key);
    // Checked again here, not left to the parser's side effect: it is the proof of possession.
    bool signature_ok = false;
    try {
        signature_ok = impl->request->check_signature(*key);
    } catch (const std::exception&) {
        signature_ok = false;
    }
    if (!signature_ok) throw InputError(bad_signature);
    if (const auto refusal = key_refusal(*key, impl->key_description); !refusal.empty())
        throw InputError(source + ": " + refusal);
    return CertificateRequest(std::move(impl));
}

CertificateRequest CertificateRequest::load(const std::string& path) { return parse(read_file(path), path); }

std::vector<uint8_t> CertificateRequest::public_key_info() const { return impl_->request->raw_public_key(); }

std::string CertificateRequest::public_key_algorithm() const { return impl_->key_description; }

std::string CertificateRequest::subject() const { return format_dn(impl_->request->subject_dn()); }

SubjectAltNames CertificateRequest::requested_names() const {
    const auto raw = impl_->request->extensions().extensions_raw();
    const auto san = raw.find(Botan::OID::from_string("X509v3.SubjectAlternativeName"));
    if (san == raw.end()) return {};
    try {
        return decode_general_names(san->second.first);
    } catch (const std::exception&) {
        return {};  // only reported, never used: a name we cannot read is not one we would sign
    }
}

std::vector<std::string> CertificateRequest::requested_extended_key_usages() const {
    std::vector<std::string> usages;
    try {
        for (const auto& oid : impl_->request->ex_constraints()) usages.push_back(eku_name(oid));
    } catch (const std::exception&) {
        usages.push_back("unreadable");  // asked for something: never matches a profile
    }
    return usages;
}

}  // namespace mcpmtls::pki
