#pragma once
// requestState of MCP 2026-07-28 input-required results: what a multi-round call has collected so
// far (the client's earlier answers, the questions still open), handed to the client sealed and
// taken back on its next round, so that any replica holding the same key can continue the call.
// Sealed with an AEAD (pki::SealedBox) and bound to the client certificate's fingerprint (with an
// OAuth token, and its subject: mcp/oauth.hpp owner_key), the
// method and the tool or prompt, and an expiry: altered, expired, oversized or foreign state
// (another client, another request, another key) is refused with a message saying which.
// A state may be replayed by its own client within its lifetime: it only carries that client's own
// answers, and every round re-runs the handler from the start.
#include "pki/sealed_box.hpp"

#include <chrono>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace mcpmtls::mcp {

struct RequestStateError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class RequestStateSeal {
public:
    static constexpr size_t kMaxBytes = 64 * 1024;  // encoded; larger state is refused unopened

    RequestStateSeal(const pki::SealedBox::Key& key, std::chrono::seconds lifetime);

    struct Binding {
        std::string client_fingerprint;
        std::string method;  // tools/call, prompts/get, resources/read
        std::string name;    // the tool, prompt or resource URI
    };
    struct Contents {
        nlohmann::json answers = nlohmann::json::object();  // input key -> the client's response
        std::vector<std::string> pending;                   // keys asked in the round that sealed it
    };

    std::string seal(const Binding& binding, const Contents& contents) const;
    // Throws RequestStateError naming what is wrong.
    Contents open(const std::string& state, const Binding& binding) const;

private:
    pki::SealedBox box_;
    std::chrono::seconds lifetime_;
};

}  // namespace mcpmtls::mcp
