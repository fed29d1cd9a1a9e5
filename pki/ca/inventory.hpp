#pragma once
// index.json: every certificate the CA issued, with its status. The source of truth for
// listing, revocation and rotation.
#include "pki/certificate.hpp"

#include <nlohmann/json.hpp>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mcpmtls::pki {

struct InventoryEntry {
    std::string name;     // file stem: NAME.crt / NAME.key ("ca" for a CA)
    std::string kind;     // "ca" | "server" | "client"
    std::string serial;   // lower-case hex
    std::string subject;
    std::string issuer;
    SubjectAltNames sans;
    TimePoint not_before;
    TimePoint not_after;
    std::string fingerprint_sha256;
    std::string issuer_fingerprint_sha256;  // the CA that signed it (itself for a root)
    std::string status = "valid";           // "valid" | "revoked" | "superseded" | "retired"
    std::optional<TimePoint> revoked_at;
    std::string revocation_reason;
    long lifetime_days = 0;                 // requested lifetime in whole days (older inventories)
    long lifetime_seconds = 0;              // requested lifetime (--days or --ttl), reused by rotation
    std::string key_type;                   // "ecdsa-p256"...; for a CSR the key's algorithm ("RSA 3072")
    bool from_csr = false;                  // signed from a CSR: the key is its holder's, not in DIR
    std::string certificate_pem;            // kept so that revocation never needs the file

    // Not stored in index.json: what the issuance log says of this entry when the inventory is
    // next saved (issuance_log.hpp). `log_event` names a new entry's issuance (default: "sign"
    // for from_csr, else "issue"); `log_by` the authority of that issuance or of a revocation
    // made now (default "offline").
    std::string log_event;
    std::string log_by;

    static InventoryEntry from_certificate(const Certificate& cert, const std::string& name, const std::string& kind,
                                           const std::string& issuer_fingerprint);
    Certificate certificate() const;
    bool is_revoked() const { return status == "revoked"; }
    bool is_leaf() const { return kind == "server" || kind == "client"; }
    // The lifetime rotation reuses: lifetime_seconds, else lifetime_days, else 90 days.
    std::chrono::seconds requested_lifetime() const;
    void set_requested_lifetime(std::chrono::seconds lifetime);
};

class Inventory {
public:
    // A missing file is an empty inventory; a corrupt one is an InputError (never overwritten).
    static Inventory load(const std::string& path);
    // Atomic. First appends to issuance.log, beside `path`, a line for every entry added and
    // every entry revoked since the inventory was loaded or last saved: the one place where
    // every command that changes the inventory logs it. The caller holds the directory lock.
    void save(const std::string& path);

    std::vector<InventoryEntry>& entries() { return entries_; }
    const std::vector<InventoryEntry>& entries() const { return entries_; }
    // The current certificate called `name` (status valid or revoked, not superseded).
    InventoryEntry* find_current(const std::string& name);
    InventoryEntry* find_serial(const std::string& serial_hex);
    bool has_serial(const std::string& serial_hex) const;
    void add(InventoryEntry entry) { entries_.push_back(std::move(entry)); }
    long next_crl_number() { return ++crl_number_; }
    // The CRL distribution point written into every certificate signed in this directory
    // (pki init --crl-url); empty for none.
    const std::string& crl_url() const { return crl_url_; }
    void set_crl_url(std::string url) { crl_url_ = std::move(url); }

private:
    std::vector<InventoryEntry> entries_;
    long crl_number_ = 0;
    std::string crl_url_;
    std::map<std::string, std::string> saved_status_;  // serial -> status, as loaded or last saved
};

nlohmann::json to_json(const InventoryEntry& entry);

}  // namespace mcpmtls::pki
