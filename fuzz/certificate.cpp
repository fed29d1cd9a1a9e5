// Certificate and CRL loading: PEM bundles and raw DER, as `pki inspect`, `pki verify` and the
// servers' trust reload read them. The first byte picks DER certificate, PEM text or CRL.
#include "fuzz/common.hpp"
#include "pki/certificate.hpp"
#include "pki/verify/verifier.hpp"

#include <cstdint>
#include <string>

using namespace mcpmtls;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fuzz::quiet_logging();
    if (size == 0) return 0;
    const uint8_t mode = data[0] % 3;
    const uint8_t* rest = data + 1;
    const size_t rest_size = size - 1;
    fuzz::expect_clean_outcome([&] {
        if (mode == 0) {
            auto cert = pki::Certificate::from_der(rest, rest_size);
            // Everything inspect prints must be computable for any certificate that parsed.
            (void)cert.subject();
            (void)cert.issuer();
            (void)cert.common_name();
            (void)cert.serial_hex();
            (void)cert.subject_alt_names();
            (void)cert.is_ca();
            (void)cert.extended_key_usages();
            (void)cert.key_usages();
            (void)cert.subject_key_id_hex();
            (void)cert.authority_key_id_hex();
            (void)cert.is_self_signed();
            (void)cert.public_key_algorithm();
            (void)cert.signature_algorithm();
            (void)cert.fingerprint_sha256();
            (void)cert.pem();
            (void)cert.not_before();
            (void)cert.not_after();
        } else if (mode == 1) {
            const std::string text(reinterpret_cast<const char*>(rest), rest_size);
            for (const auto& cert : pki::Certificate::parse_all(text, "fuzz input")) {
                (void)cert.subject();
                (void)cert.fingerprint_sha256();
            }
        } else {
            const std::string text(reinterpret_cast<const char*>(rest), rest_size);
            for (const auto& crl : pki::RevocationList::parse_all(text, "fuzz input")) {
                (void)crl.issuer();
                (void)crl.number();
                (void)crl.revoked_serials();
                (void)crl.this_update();
                (void)crl.next_update();
            }
        }
    });
    return 0;
}
