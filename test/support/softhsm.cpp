#include "test/support/softhsm.hpp"

#include <cstdlib>
#include <stdexcept>

namespace mcpmtls::testing {
namespace {

void expect_ok(const CommandResult& r, const std::string& what) {
    if (r.exit_code != 0) throw std::runtime_error(what + " failed: " + r.all());
}

}  // namespace

SoftHsmToken::SoftHsmToken() {
    write_text(dir_.file("softhsm2.conf"), "directories.tokendir = " + dir_.file("tokens") +
                                               "\nobjectstore.backend = file\nlog.level = ERROR\n");
    run_shell("mkdir -p '" + dir_.file("tokens") + "'");
    ::setenv("SOFTHSM2_CONF", dir_.file("softhsm2.conf").c_str(), 1);
    write_text(pin_file(), "4711\n");
    expect_ok(run_command({"softhsm2-util", "--init-token", "--free", "--label", "mcp", "--pin", "4711", "--so-pin", "271828"}),
              "softhsm2-util --init-token");
}

SoftHsmToken::~SoftHsmToken() { ::unsetenv("SOFTHSM2_CONF"); }

void SoftHsmToken::generate_key(const std::string& object, const std::string& id_hex, const std::string& type) const {
    expect_ok(run_command({"pkcs11-tool", "--module", kSoftHsmModule, "--token-label", "mcp", "--login", "--pin", "4711", "--keypairgen",
                           "--key-type", type, "--label", object, "--id", id_hex}),
              "pkcs11-tool --keypairgen");
}

std::string SoftHsmToken::certify(const DemoPki& pki, const std::string& object, const std::string& kind, const std::string& name,
                                  const std::string& file) const {
    const std::string csr = dir_.file(name + ".csr");
    expect_ok(run_shell("PKCS11_MODULE_PATH='" + kSoftHsmModule + "' openssl req -new -engine pkcs11 -keyform engine -key '" +
                        uri(object) + ";pin-value=4711' -subj '/CN=" + name + "' -out '" + csr + "' 2>&1"),
              "openssl req through the pkcs11 engine");
    std::vector<std::string> args = {"sign", kind, name, "--csr", csr};
    if (kind == "server") args.insert(args.end(), {"--dns", "localhost", "--ip", "127.0.0.1"});
    expect_ok(pki.pki(args), "pki sign");
    // Written beside and renamed over, as a rotation writes it.
    write_text(path(file) + ".new", read_text(pki.path(name + ".crt")));
    expect_ok(run_command({"mv", path(file) + ".new", path(file)}), "mv");
    return path(file);
}

void SoftHsmToken::import_key(const std::string& object, const std::string& id_hex, const std::string& key_pem) const {
    const std::string public_pem = dir_.file(object + ".pub.pem");
    expect_ok(run_command({"openssl", "pkey", "-in", key_pem, "-pubout", "-out", public_pem}), "openssl pkey -pubout");
    for (const auto& [file, type] : {std::pair{key_pem, "privkey"}, std::pair{public_pem, "pubkey"}})
        expect_ok(run_command({"pkcs11-tool", "--module", kSoftHsmModule, "--token-label", "mcp", "--login", "--pin", "4711", "--write-object",
                               file, "--type", type, "--label", object, "--id", id_hex}),
                  "pkcs11-tool --write-object");
}

void SoftHsmToken::delete_key(const std::string& object) const {
    for (const char* type : {"privkey", "pubkey"})
        expect_ok(run_command({"pkcs11-tool", "--module", kSoftHsmModule, "--token-label", "mcp", "--login", "--pin", "4711",
                               "--delete-object", "--type", type, "--label", object}),
                  "pkcs11-tool --delete-object");
}

void SoftHsmToken::unplug() const { expect_ok(run_command({"mv", dir_.file("tokens"), dir_.file("unplugged")}), "mv"); }

void SoftHsmToken::plug_in() const { expect_ok(run_command({"mv", dir_.file("unplugged"), dir_.file("tokens")}), "mv"); }

std::string SoftHsmToken::list_objects() const {
    const auto r = run_command({"pkcs11-tool", "--module", kSoftHsmModule, "--token-label", "mcp", "--login", "--pin", "4711",
                                "--list-objects"});
    expect_ok(r, "pkcs11-tool --list-objects");
    return r.out;
}

}  // namespace mcpmtls::testing
