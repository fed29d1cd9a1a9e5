// PKCS#12 files, made with OpenSSL. Everything else in pki/ is Botan, but Botan 2 has no PKCS#12
// writer; OpenSSL's PKCS12_create is the implementation Java, browsers, Windows and curl are
// tested against, and it lets us choose the modern algorithms: PBES2 with PBKDF2-HMAC-SHA256 and
// AES-256-CBC for the key bag and the certificate bag, an HMAC-SHA256 MAC, never RC2 or 3DES.
// OpenSSL stays in this one file, each of its objects owned by a unique_ptr.
#include "common/error.hpp"
#include "pki/ca/export.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include <memory>

namespace mcpmtls::pki {
namespace {

struct BioFree {
    void operator()(BIO* bio) const { BIO_free(bio); }
};
struct PkeyFree {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct X509Free {
    void operator()(X509* cert) const { X509_free(cert); }
};
struct X509StackFree {
    void operator()(STACK_OF(X509) * stack) const { sk_X509_pop_free(stack, X509_free); }
};
struct Pkcs12Free {
    void operator()(PKCS12* p12) const { PKCS12_free(p12); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackFree>;
using Pkcs12Ptr = std::unique_ptr<PKCS12, Pkcs12Free>;

// OpenSSL's reason for the last failure, for a one-line message; its error queue is emptied.
std::string openssl_error(const std::string& what) {
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    char reason[256] = {};
    if (code != 0) ERR_error_string_n(code, reason, sizeof reason);
    return "cannot make the PKCS#12 file: " + what + (code != 0 ? std::string(" (") + reason + ")" : "");
}

X509Ptr to_openssl(const Certificate& cert) {
    const unsigned char* der = cert.der().data();
    X509Ptr out(d2i_X509(nullptr, &der, static_cast<long>(cert.der().size())));
    if (!out) throw OperationError(openssl_error("certificate " + cert.subject()));
    return out;
}

PkeyPtr to_openssl(const PrivateKey& key) {
    const std::string pem = key.to_pem();
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) throw OperationError(openssl_error("out of memory"));
    PkeyPtr out(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    if (!out) throw OperationError(openssl_error("private key"));
    return out;
}

}  // namespace

std::string make_pkcs12(const PrivateKey& key, const std::vector<Certificate>& chain, const std::string& friendly_name,
                        const std::string& passphrase) {
    if (passphrase.empty()) throw InputError("a PKCS#12 file needs a passphrase, and an empty one is refused");
    if (chain.empty()) throw OperationError("cannot make the PKCS#12 file: no certificate");
    const auto openssl_key = to_openssl(key);
    const auto leaf = to_openssl(chain.front());
    X509StackPtr authorities(sk_X509_new_null());
    if (!authorities) throw OperationError(openssl_error("out of memory"));
    for (size_t i = 1; i < chain.size(); ++i) {
        auto cert = to_openssl(chain[i]);
        if (!sk_X509_push(authorities.get(), cert.get())) throw OperationError(openssl_error("out of memory"));
        cert.release();  // the stack owns it now
    }
    // PBKDF2 with the iteration count of our encrypted keys (key.hpp); a NID of a cipher (not of
    // a PKCS#12 PBE) makes OpenSSL use PBES2, whose PRF is HMAC-SHA256 in OpenSSL 3.
    const int iterations = kPassphraseIterations;
    Pkcs12Ptr p12(PKCS12_create(passphrase.c_str(), friendly_name.c_str(), openssl_key.get(), leaf.get(),
                                authorities.get(), NID_aes_256_cbc, NID_aes_256_cbc, iterations, -1, 0));
    if (!p12) throw OperationError(openssl_error("PKCS12_create"));
    // The MAC is set apart to name its digest: PKCS12_create's default differs between versions.
    if (PKCS12_set_mac(p12.get(), passphrase.c_str(), -1, nullptr, 0, iterations, EVP_sha256()) != 1)
        throw OperationError(openssl_error("PKCS12_set_mac"));

    BioPtr out(BIO_new(BIO_s_mem()));
    if (!out || i2d_PKCS12_bio(out.get(), p12.get()) != 1) throw OperationError(openssl_error("encoding"));
    char* data = nullptr;
    const long size = BIO_get_mem_data(out.get(), &data);
    return std::string(data, static_cast<size_t>(size));
}

}  // namespace mcpmtls::pki
