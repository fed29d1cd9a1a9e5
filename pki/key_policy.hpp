#pragma once
// Private to pki/: which subject public keys the product accepts. The verifier judges every
// certificate of a chain with it and `pki sign` judges a CSR with it, so that pki never signs a
// key that its own servers and client would refuse.
#include <botan/pk_keys.h>

#include <cstddef>
#include <string>

namespace mcpmtls::pki {

// Botan's estimate of a key's security in bits: 110 accepts RSA-2048 (Botan rates it 110) and
// P-256 (128); it refuses RSA-1024 (80).
constexpr size_t kMinimumKeyStrength = 110;

// Empty when the key's algorithm is one we accept (RSA, ECDSA on P-256/P-384/P-521, Ed25519),
// else why not, e.g. "weak key: ECDSA on a curve other than P-256, P-384 or P-521".
std::string key_algorithm_refusal(const Botan::Public_Key& key);

// key_algorithm_refusal(), then the strength: "weak key: RSA 1024 (80-bit security, need 112)".
// `description` names the key in that message ("RSA 1024").
std::string key_refusal(const Botan::Public_Key& key, const std::string& description);

}  // namespace mcpmtls::pki
