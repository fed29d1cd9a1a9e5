// The keys the product accepts, in one place: the verifier's profile rules and `pki sign`'s CSR
// check both ask here (key_policy.hpp says why they must agree).
#include "pki/key_policy.hpp"

#include <botan/ecc_key.h>

namespace mcpmtls::pki {

std::string key_algorithm_refusal(const Botan::Public_Key& key) {
    const std::string algo = key.algo_name();
    if (algo == "RSA" || algo == "Ed25519") return "";
    if (algo == "ECDSA") {
        auto* ec = dynamic_cast<const Botan::EC_PublicKey*>(&key);
        const std::string curve = ec ? ec->domain().get_curve_oid().to_string() : "";
        // P-256, P-384, P-521
        if (curve == "1.2.840.10045.3.1.7" || curve == "1.3.132.0.34" || curve == "1.3.132.0.35") return "";
        return "weak key: ECDSA on a curve other than P-256, P-384 or P-521";
    }
    return "weak key: " + algo + " keys are not allowed (RSA, ECDSA or Ed25519 only)";
}

std::string key_refusal(const Botan::Public_Key& key, const std::string& description) {
    std::string refusal = key_algorithm_refusal(key);
    if (refusal.empty() && key.estimated_strength() < kMinimumKeyStrength)
        refusal = "weak key: " + description + " (" + std::to_string(key.estimated_strength()) + "-bit security, need 112)";
    return refusal;
}

}  // namespace mcpmtls::pki
