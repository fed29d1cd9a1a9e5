#include "pki/sealed_box.hpp"

#include "common/error.hpp"

#include <botan/aead.h>
#include <botan/system_rng.h>
#include <fstream>
#include <iterator>

namespace mcpmtls::pki {
namespace {
constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;
constexpr const char* kAlgorithm = "ChaCha20Poly1305";
}  // namespace

SealedBox::SealedBox(const Key& key) : key_(key) {}

SealedBox::Key SealedBox::random_key() {
    Key key;
    Botan::system_rng().randomize(key.data(), key.size());
    return key;
}

SealedBox::Key SealedBox::load_key(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError("cannot read state key file '" + path + "'");
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) throw InputError("cannot read state key file '" + path + "'");
    if (bytes.size() != kKeyBytes)
        throw InputError("state key file '" + path + "' must hold exactly 32 bytes (it holds " + std::to_string(bytes.size()) +
                         "); make one with: head -c 32 /dev/urandom > FILE");
    Key key;
    std::copy(bytes.begin(), bytes.end(), key.begin());
    return key;
}

std::string SealedBox::seal(const std::string& plaintext, const std::string& associated) const {
    auto cipher = Botan::AEAD_Mode::create_or_throw(kAlgorithm, Botan::ENCRYPTION);
    cipher->set_key(key_.data(), key_.size());
    cipher->set_associated_data(reinterpret_cast<const uint8_t*>(associated.data()), associated.size());
    uint8_t nonce[kNonceBytes];
    Botan::system_rng().randomize(nonce, sizeof nonce);
    cipher->start(nonce, sizeof nonce);
    Botan::secure_vector<uint8_t> buffer(plaintext.begin(), plaintext.end());
    cipher->finish(buffer);
    std::string box(reinterpret_cast<const char*>(nonce), sizeof nonce);
    box.append(reinterpret_cast<const char*>(buffer.data()), buffer.size());
    return box;
}

std::optional<std::string> SealedBox::open(const std::string& box, const std::string& associated) const {
    if (box.size() < kNonceBytes + kTagBytes) return std::nullopt;
    auto cipher = Botan::AEAD_Mode::create_or_throw(kAlgorithm, Botan::DECRYPTION);
    cipher->set_key(key_.data(), key_.size());
    cipher->set_associated_data(reinterpret_cast<const uint8_t*>(associated.data()), associated.size());
    cipher->start(reinterpret_cast<const uint8_t*>(box.data()), kNonceBytes);
    Botan::secure_vector<uint8_t> buffer(box.begin() + kNonceBytes, box.end());
    try {
        cipher->finish(buffer);
    } catch (const Botan::Invalid_Authentication_Tag&) {
        return std::nullopt;
    }
    return std::string(buffer.begin(), buffer.end());
}

}  // namespace mcpmtls::pki
