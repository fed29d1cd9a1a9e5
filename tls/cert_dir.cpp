#include "tls/cert_dir.hpp"

#include "common/error.hpp"
#include "common/files.hpp"
#include "common/strings.hpp"

namespace mcpmtls::tls {
namespace {

struct Layout {
    const char* name;
    const char* cert;
    const char* key;
    const char* ca;
};

constexpr Layout kLayouts[] = {
    {"cert-manager", "tls.crt", "tls.key", "ca.crt"},
    {"spiffe-helper", "svid.pem", "svid_key.pem", "svid_bundle.pem"},
};

}  // namespace

std::string token_key_reference(const std::string& key_path) { return key_path + ".uri"; }

CertDirectory find_cert_directory(const std::string& dir) {
    const std::string base = !dir.empty() && dir.back() == '/' ? dir : dir + "/";
    for (const Layout& layout : kLayouts) {
        // file_exists follows symlinks: kubelet's tls.crt is a link into ..data/.
        if (!file_exists(base + layout.cert)) continue;
        std::string key_path = base + layout.key;
        if (!file_exists(key_path) && file_exists(token_key_reference(key_path)))
            key_path = trim(read_file(token_key_reference(key_path)));
        else if (!file_exists(key_path))
            throw InputError(dir + " has " + layout.cert + " but no " + layout.key + " (" + layout.name + " layout)");
        CertDirectory found{layout.name, base + layout.cert, key_path, ""};
        if (file_exists(base + layout.ca)) found.ca_path = base + layout.ca;
        return found;
    }
    throw InputError(dir + " holds neither cert-manager's tls.crt, tls.key, ca.crt nor spiffe-helper's svid.pem, "
                           "svid_key.pem, svid_bundle.pem");
}

}  // namespace mcpmtls::tls
