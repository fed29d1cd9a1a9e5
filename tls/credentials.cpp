#include "tls/credentials.hpp"

#include "common/error.hpp"
#include "common/files.hpp"
#include "common/strings.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <sys/socket.h>

namespace mcpmtls::tls {

KeyPair load_key_pair(const std::string& cert_path, const std::string& key_path, const Pkcs11Options& pkcs11) {
    KeyPair pair;
    const std::string cert_pem = read_file(cert_path);
    pair.certificates = pki::Certificate::parse_all(cert_pem, cert_path);
    BioPtr cert_bio(BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())));
    pair.leaf.reset(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
    if (!pair.leaf) throw InputError(cert_path + ": cannot read the certificate");
    pair.chain.reset(sk_X509_new_null());
    while (X509* extra = PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr)) sk_X509_push(pair.chain.get(), extra);
    ERR_clear_error();

    if (is_pkcs11_uri(key_path)) {
        pair.key = load_pkcs11_key(key_path, pkcs11);
        if (!signs_for(pair.key.get(), pair.leaf.get()))
            throw KeyMismatch("the certificate in " + cert_path + " is not for the key " + key_path +
                              " (the token's signature does not verify with its public key)");
    } else {
        const std::string key_pem = read_file(key_path);
        if (key_pem.find("ENCRYPTED") != std::string::npos)
            throw InputError(key_path + " is encrypted; servers need an unencrypted key (0600)");
        BioPtr key_bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
        pair.key.reset(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
        ERR_clear_error();
        if (!pair.key) throw InputError(key_path + " is not a valid private key (corrupt PEM?)");
        if (X509_check_private_key(pair.leaf.get(), pair.key.get()) != 1) {
            ERR_clear_error();
            throw KeyMismatch(key_path + " does not match the certificate in " + cert_path);
        }
    }
    const auto& leaf = pair.certificates.front();
    if (leaf.not_after() < std::chrono::system_clock::now())
        throw InputError(cert_path + " has expired (" + format_rfc3339(leaf.not_after()) + ")");
    return pair;
}

std::vector<pki::Certificate> peer_chain(X509* leaf, STACK_OF(X509)* presented) {
    std::vector<pki::Certificate> chain;
    auto add = [&](X509* cert) {
        unsigned char* der = nullptr;
        int len = i2d_X509(cert, &der);
        if (len <= 0) throw InputError("peer certificate cannot be encoded");
        std::unique_ptr<unsigned char, void (*)(void*)> owner(der, [](void* p) { OPENSSL_free(p); });
        chain.push_back(pki::Certificate::from_der(der, static_cast<size_t>(len)));
    };
    if (leaf) add(leaf);
    if (presented) {
        for (int i = 0; i < sk_X509_num(presented); ++i) {
            X509* cert = sk_X509_value(presented, i);
            if (leaf && X509_cmp(cert, leaf) == 0) continue;  // OpenSSL lists the leaf too
            add(cert);
        }
    }
    return chain;
}

PeerIdentity identity_of(const pki::Certificate& leaf) {
    PeerIdentity id;
    id.subject = leaf.subject();
    id.common_name = leaf.common_name();
    auto sans = leaf.subject_alt_names();
    id.dns_names = sans.dns;
    id.ip_addresses = sans.ips;
    id.uris = sans.uris;
    id.emails = sans.emails;
    id.serial_hex = leaf.serial_hex();
    id.fingerprint_sha256 = leaf.fingerprint_sha256();
    return id;
}

nlohmann::json describe_peer(const PeerIdentity& identity, const std::string& peer_address) {
    nlohmann::json names = nlohmann::json::array();
    for (const auto& d : identity.dns_names) names.push_back("DNS:" + d);
    for (const auto& i : identity.ip_addresses) names.push_back("IP:" + i);
    for (const auto& u : identity.uris) names.push_back("URI:" + u);
    for (const auto& e : identity.emails) names.push_back("email:" + e);
    return {{"peer", peer_address},
            {"subject", identity.subject},
            {"sans", names},
            {"serial", identity.serial_hex},
            {"fingerprint_sha256", identity.fingerprint_sha256}};
}

std::string peer_address_of(const SSL* ssl) {
    int fd = ssl ? SSL_get_fd(ssl) : -1;
    if (fd < 0) return "unknown";
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "unknown";
    char host[INET6_ADDRSTRLEN] = {};
    int port = 0;
    if (addr.ss_family == AF_INET) {
        auto* in = reinterpret_cast<sockaddr_in*>(&addr);
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        port = ntohs(in->sin_port);
        return std::string(host) + ":" + std::to_string(port);
    }
    if (addr.ss_family == AF_INET6) {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs(in6->sin6_port);
        return "[" + std::string(host) + "]:" + std::to_string(port);
    }
    return "unknown";
}

}  // namespace mcpmtls::tls
