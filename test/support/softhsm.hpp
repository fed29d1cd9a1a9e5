#pragma once
// A SoftHSM2 token for tests of keys that never leave a token (servers, client, bridge, CA).
#include "test/support/fixtures.hpp"

#include <string>
#include <vector>

namespace mcpmtls::testing {

inline const std::string kSoftHsmModule = "/usr/lib/softhsm/libsofthsm2.so";  // Debian's softhsm2 (arch-independent folder)

// A SoftHSM2 token "mcp" (user PIN 4711 in pin_file()) in a folder of its own, for this test's
// processes: SOFTHSM2_CONF is set while the token lives, and children inherit it.
class SoftHsmToken {
public:
    SoftHsmToken();
    ~SoftHsmToken();

    // A key pair labelled `object` (EC P-256 unless told), made inside the token.
    void generate_key(const std::string& object, const std::string& id_hex, const std::string& type = "EC:prime256v1") const;
    // A certificate from `pki` for the key `object` (a CSR the token signed), written to a file
    // of this folder named `file`; the kind is server (localhost, 127.0.0.1) or client.
    std::string certify(const DemoPki& pki, const std::string& object, const std::string& kind, const std::string& name,
                        const std::string& file) const;
    // A key pair from a PEM private key file written into the token (a key made outside it, so
    // that the same key can be taken out and written back), and both halves deleted.
    void import_key(const std::string& object, const std::string& id_hex, const std::string& key_pem) const;
    void delete_key(const std::string& object) const;
    // The token taken out and put back, as a USB token is unplugged: SoftHSM2 finds no token in
    // its folder (moved aside) until it is back.
    void unplug() const;
    void plug_in() const;
    // `pkcs11-tool --list-objects` of the token, logged in.
    std::string list_objects() const;
    static std::string uri(const std::string& object) { return "pkcs11:token=mcp;object=" + object; }
    std::string pin_file() const { return dir_.file("pin"); }
    std::string path(const std::string& file) const { return dir_.file(file); }
    // --pkcs11-module and --pin-file for our programs.
    std::vector<std::string> flags() const { return {"--pkcs11-module", kSoftHsmModule, "--pin-file", pin_file()}; }

private:
    TempDir dir_;
};

}  // namespace mcpmtls::testing
