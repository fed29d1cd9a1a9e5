#include "mcp/request_state.hpp"

#include <cstring>
#include <ctime>

namespace mcpmtls::mcp {
namespace {

using nlohmann::json;

// A distinct associated-data label, so that a box sealed for any other purpose never opens here.
constexpr const char* kPurpose = "mcp-mtls requestState v1";

const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64url(const std::string& bytes) {
    std::string out;
    uint32_t buffer = 0;
    int bits = 0;
    for (unsigned char c : bytes) {
        buffer = (buffer << 8) | c;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out += kAlphabet[(buffer >> bits) & 63];
        }
    }
    if (bits > 0) out += kAlphabet[(buffer << (6 - bits)) & 63];
    return out;
}

bool unbase64url(const std::string& text, std::string& out) {
    uint32_t buffer = 0;
    int bits = 0;
    for (char c : text) {
        const char* at = std::strchr(kAlphabet, c);
        if (c == '\0' || !at) return false;
        buffer = (buffer << 6) | static_cast<uint32_t>(at - kAlphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((buffer >> bits) & 0xff);
        }
    }
    return true;
}

int64_t unix_now() { return static_cast<int64_t>(std::time(nullptr)); }

}  // namespace

RequestStateSeal::RequestStateSeal(const pki::SealedBox::Key& key, std::chrono::seconds lifetime) : box_(key), lifetime_(lifetime) {}

std::string RequestStateSeal::seal(const Binding& binding, const Contents& contents) const {
    const json plain = {{"fp", binding.client_fingerprint},
                        {"m", binding.method},
                        {"n", binding.name},
                        {"exp", unix_now() + lifetime_.count()},
                        {"a", contents.answers},
                        {"p", contents.pending}};
    return base64url(box_.seal(plain.dump(-1, ' ', false, json::error_handler_t::replace), kPurpose));
}

RequestStateSeal::Contents RequestStateSeal::open(const std::string& state, const Binding& binding) const {
    if (state.size() > kMaxBytes)
        throw RequestStateError("requestState is larger than " + std::to_string(kMaxBytes) + " bytes; refused unread");
    std::string sealed;
    if (!unbase64url(state, sealed)) throw RequestStateError("requestState is not one this server issued (not base64url)");
    const auto opened = box_.open(sealed, kPurpose);
    if (!opened)
        throw RequestStateError("requestState failed its integrity check: altered, or sealed under another key "
                                "(replicas must share --state-key-file)");
    const json plain = json::parse(*opened, nullptr, false);
    if (!plain.is_object() || !plain.contains("exp") || !plain["exp"].is_number_integer())
        throw RequestStateError("requestState is not one this server issued");
    if (plain.value("fp", "") != binding.client_fingerprint) throw RequestStateError("requestState belongs to another client");
    if (plain.value("m", "") != binding.method || plain.value("n", "") != binding.name)
        throw RequestStateError("requestState was issued for another request (" + plain.value("m", "") + " '" + plain.value("n", "") + "')");
    if (plain["exp"].get<int64_t>() < unix_now()) throw RequestStateError("requestState has expired; start the request again");
    Contents contents;
    if (plain.contains("a") && plain["a"].is_object()) contents.answers = plain["a"];
    if (plain.contains("p") && plain["p"].is_array())
        for (const auto& key : plain["p"])
            if (key.is_string()) contents.pending.push_back(key.get<std::string>());
    return contents;
}

}  // namespace mcpmtls::mcp
