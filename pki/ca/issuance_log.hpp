#pragma once
// DIR/issuance.log: one JSON line per issuance, renewal, enrollment and revocation, each line
// carrying the SHA-256 of the line before it (`prev`), so that a line changed, removed or moved
// breaks the chain at that point. Lines are appended by Inventory::save (inventory.cpp), the one
// place every command that changes the inventory goes through, under the directory lock;
// `pki log verify` checks the chain and that index.json agrees with it.
#include "pki/ca/ca_directory.hpp"
#include "pki/certificate.hpp"

#include <string>
#include <vector>

namespace mcpmtls::pki {

// One line, as logged: `event` is issue | sign | enroll | renew | rotate | revoke; `by` says on
// whose authority ("offline", "token:<jti>", "certificate:<serial>").
struct IssuanceEvent {
    std::string event;
    std::string name;
    std::string kind;
    std::string serial;
    TimePoint not_after;
    std::string fingerprint_sha256;
    std::string by;
    std::string reason;  // revoke only
};

// Appends `events` to `log_path` (O_APPEND, then fsync), each chained to the line before. The
// caller holds the directory lock. OperationError when the log cannot be written, or when its
// last line is torn (a log that no longer verifies is not extended).
void append_issuance_events(const std::string& log_path, const std::vector<IssuanceEvent>& events);

// The hex SHA-256 of a line's bytes without its newline ("prev" of the next line); 64 zeros
// stand before the first line.
std::string issuance_line_hash(const std::string& line);
extern const char* const kFirstPrev;

struct IssuanceLogCheck {
    bool ok = false;
    size_t lines = 0;
    std::string message;  // "issuance.log: N lines, chain intact, index.json agrees" or the first problem
};

// pki log verify: the chain (seq 1, 2, ...; prev; JSON and fields of every line), then the
// cross-check with index.json: every certificate in the inventory has the line that issued it
// (same serial and fingerprint), every revoked one a revoke line, every logged issuance and
// revocation is in the inventory as logged. An inventory with certificates and no log is a
// failure too ("no issuance.log; N certificates predate it"); a directory without index.json
// is an InputError (no CA there).
IssuanceLogCheck verify_issuance_log(const CaDirectory& dir);

}  // namespace mcpmtls::pki
