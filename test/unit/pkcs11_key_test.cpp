// The pkcs11: URIs tls/pkcs11_key.hpp refuses before any module is loaded: each a one-line
// InputError that names what is wrong and never shows a PIN. (Keys in a real token:
// test/integration/pkcs11_test.cpp.)
#include "common/error.hpp"
#include "tls/pkcs11_key.hpp"

#include <catch2/catch.hpp>

using namespace mcpmtls;

namespace {

std::string refusal(const std::string& uri, const tls::Pkcs11Options& options = {}) {
    try {
        tls::load_pkcs11_key(uri, options);
    } catch (const InputError& e) {
        return e.what();
    }
    return "accepted";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("pkcs11: URIs are refused, with the reason, before any module is asked", "[pkcs11]") {
    // A module that does not exist: every refusal below comes before it is looked for.
    const tls::Pkcs11Options nowhere{"/nonexistent/module.so", ""};
    CHECK(contains(refusal("pkcs11:token=mcp", nowhere), "name the key with object=LABEL or id=%XX"));
    CHECK(contains(refusal("pkcs11:token=mcp;object=k;type=cert", nowhere), "names a cert object; a key is type=private"));
    CHECK(contains(refusal("pkcs11:object=k;object=j", nowhere), "object is given twice"));
    CHECK(contains(refusal("pkcs11:object=%4", nowhere), "a '%' not followed by two hex digits"));
    CHECK(contains(refusal("pkcs11:object=k;token", nowhere), "'token' is not NAME=VALUE"));
    CHECK(contains(refusal("pkcs11:object=k?pin-source=|/bin/echo", nowhere), "only a file is supported, not a command"));
    CHECK(contains(refusal("pkcs11:object=k?pin-source=/nonexistent/pin", nowhere), "PIN file /nonexistent/pin does not exist"));
    CHECK(contains(refusal("pkcs11:object=k?pin-source=/etc/hostname", {"/nonexistent/module.so", "/etc/hostname"}),
                   "the PIN is given twice"));
    // With everything else right, the module is the first thing found missing.
    CHECK(contains(refusal("pkcs11:object=k", nowhere), "PKCS#11 module /nonexistent/module.so does not exist"));
}

TEST_CASE("a PIN in a pkcs11: URI is refused and never repeated in the message", "[pkcs11]") {
    for (const std::string uri : {"pkcs11:object=k;pin-value=271828", "pkcs11:object=k?pin-value=271828&module-name=x",
                                  "pkcs11:pin-value=271828;object=k"}) {
        const std::string message = refusal(uri);
        INFO(message);
        CHECK(contains(message, "a PIN in the URI (pin-value) is refused; give --pin-file FILE or pin-source=FILE"));
        CHECK(!contains(message, "271828"));
    }
}
