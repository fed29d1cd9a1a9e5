#pragma once
// Authenticated encryption of small opaque blobs the server hands to a client and must get back
// unchanged: MCP 2026-07-28's requestState. ChaCha20-Poly1305 under a 32-byte key; each box
// carries its own random 96-bit nonce, so one key seals any number of boxes. Botan stays behind
// this header (the mcp layer sees bytes in, bytes out).
#include <array>
#include <optional>
#include <string>

namespace mcpmtls::pki {

class SealedBox {
public:
    static constexpr size_t kKeyBytes = 32;
    using Key = std::array<unsigned char, kKeyBytes>;

    explicit SealedBox(const Key& key);
    // A key from the system's random generator (for a single process).
    static Key random_key();
    // Exactly 32 bytes from `path`; throws InputError ("cannot read", "must hold exactly 32 bytes").
    static Key load_key(const std::string& path);

    // nonce || ciphertext || tag. `associated` is authenticated, not stored.
    std::string seal(const std::string& plaintext, const std::string& associated = "") const;
    // nullopt when the box was altered, truncated, or sealed under another key or associated data.
    std::optional<std::string> open(const std::string& box, const std::string& associated = "") const;

private:
    Key key_;
};

}  // namespace mcpmtls::pki
