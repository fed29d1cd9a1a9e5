#include "pki/ca/inventory.hpp"

#include "common/error.hpp"
#include "common/files.hpp"
#include "common/strings.hpp"
#include "pki/ca/ca_directory.hpp"
#include "pki/ca/issuance_log.hpp"

namespace mcpmtls::pki {

using nlohmann::json;

InventoryEntry InventoryEntry::from_certificate(const Certificate& cert, const std::string& name,
                                                const std::string& kind, const std::string& issuer_fingerprint) {
    InventoryEntry entry;
    entry.name = name;
    entry.kind = kind;
    entry.serial = cert.serial_hex();
    entry.subject = cert.subject();
    entry.issuer = cert.issuer();
    entry.sans = cert.subject_alt_names();
    entry.not_before = cert.not_before();
    entry.not_after = cert.not_after();
    entry.fingerprint_sha256 = cert.fingerprint_sha256();
    entry.issuer_fingerprint_sha256 = issuer_fingerprint;
    entry.certificate_pem = cert.pem();
    return entry;
}

std::chrono::seconds InventoryEntry::requested_lifetime() const {
    if (lifetime_seconds > 0) return std::chrono::seconds(lifetime_seconds);
    if (lifetime_days > 0) return std::chrono::hours(24) * lifetime_days;
    return std::chrono::hours(24 * 90);
}

void InventoryEntry::set_requested_lifetime(std::chrono::seconds lifetime) {
    lifetime_seconds = lifetime.count();
    lifetime_days = static_cast<long>(lifetime.count() / 86400);
}

Certificate InventoryEntry::certificate() const {
    return Certificate::parse_all(certificate_pem, "inventory entry '" + name + "'").front();
}

json to_json(const InventoryEntry& entry) {
    json sans = json::object();
    if (!entry.sans.dns.empty()) sans["dns"] = entry.sans.dns;
    if (!entry.sans.ips.empty()) sans["ip"] = entry.sans.ips;
    if (!entry.sans.uris.empty()) sans["uri"] = entry.sans.uris;
    if (!entry.sans.emails.empty()) sans["email"] = entry.sans.emails;
    json out = {
        {"name", entry.name},
        {"kind", entry.kind},
        {"serial", entry.serial},
        {"subject", entry.subject},
        {"issuer", entry.issuer},
        {"sans", sans},
        {"not_before", format_rfc3339(entry.not_before)},
        {"not_after", format_rfc3339(entry.not_after)},
        {"fingerprint_sha256", entry.fingerprint_sha256},
        {"issuer_fingerprint_sha256", entry.issuer_fingerprint_sha256},
        {"status", entry.status},
        {"lifetime_days", entry.lifetime_days},
        {"lifetime_seconds", entry.lifetime_seconds},
        {"key_type", entry.key_type},
    };
    if (entry.from_csr) out["from_csr"] = true;
    if (entry.revoked_at) {
        out["revoked_at"] = format_rfc3339(*entry.revoked_at);
        out["revocation_reason"] = entry.revocation_reason;
    }
    return out;
}

namespace {

std::vector<std::string> string_list(const json& sans, const char* key) {
    if (!sans.contains(key)) return {};
    return sans.at(key).get<std::vector<std::string>>();
}

InventoryEntry entry_from_json(const json& in) {
    InventoryEntry entry;
    entry.name = in.at("name").get<std::string>();
    entry.kind = in.at("kind").get<std::string>();
    entry.serial = in.at("serial").get<std::string>();
    entry.subject = in.value("subject", "");
    entry.issuer = in.value("issuer", "");
    const json sans = in.value("sans", json::object());
    entry.sans.dns = string_list(sans, "dns");
    entry.sans.ips = string_list(sans, "ip");
    entry.sans.uris = string_list(sans, "uri");
    entry.sans.emails = string_list(sans, "email");
    entry.not_before = parse_rfc3339(in.at("not_before").get<std::string>());
    entry.not_after = parse_rfc3339(in.at("not_after").get<std::string>());
    entry.fingerprint_sha256 = in.value("fingerprint_sha256", "");
    entry.issuer_fingerprint_sha256 = in.value("issuer_fingerprint_sha256", "");
    entry.status = in.value("status", "valid");
    if (in.contains("revoked_at")) entry.revoked_at = parse_rfc3339(in.at("revoked_at").get<std::string>());
    entry.revocation_reason = in.value("revocation_reason", "");
    entry.lifetime_days = in.value("lifetime_days", 0L);
    entry.lifetime_seconds = in.value("lifetime_seconds", 0L);
    entry.from_csr = in.value("from_csr", false);
    entry.key_type = in.value("key_type", "");
    entry.certificate_pem = in.value("certificate_pem", "");
    return entry;
}

}  // namespace

Inventory Inventory::load(const std::string& path) {
    Inventory inventory;
    if (!file_exists(path)) return inventory;
    try {
        json doc = json::parse(read_file(path));
        inventory.crl_number_ = doc.value("crl_number", 0L);
        inventory.crl_url_ = doc.value("crl_url", "");
        for (const auto& item : doc.at("certificates")) inventory.entries_.push_back(entry_from_json(item));
        for (const auto& entry : inventory.entries_) inventory.saved_status_[entry.serial] = entry.status;
    } catch (const InputError&) {
        throw;
    } catch (const std::exception& e) {
        throw InputError(path + " is corrupt (" + std::string(e.what()) + "); restore it from a backup");
    }
    return inventory;
}

namespace {

IssuanceEvent event_of(const InventoryEntry& entry, const std::string& event) {
    return {event, entry.name, entry.kind, entry.serial, entry.not_after, entry.fingerprint_sha256,
            entry.log_by.empty() ? "offline" : entry.log_by, event == "revoke" ? entry.revocation_reason : ""};
}

std::string directory_of(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

void Inventory::save(const std::string& path) {
    std::vector<IssuanceEvent> events;
    for (const auto& entry : entries_) {
        const auto before = saved_status_.find(entry.serial);
        if (before == saved_status_.end())
            events.push_back(event_of(entry, !entry.log_event.empty() ? entry.log_event : entry.from_csr ? "sign" : "issue"));
        if (entry.is_revoked() && (before == saved_status_.end() || before->second != "revoked"))
            events.push_back(event_of(entry, "revoke"));
    }
    // The log first: nothing is in the inventory that the log does not show.
    append_issuance_events(CaDirectory(directory_of(path)).issuance_log(), events);
    json items = json::array();
    for (const auto& entry : entries_) {
        json item = to_json(entry);
        item["certificate_pem"] = entry.certificate_pem;
        items.push_back(std::move(item));
    }
    json doc = {{"version", 1}, {"crl_number", crl_number_}, {"certificates", items}};
    if (!crl_url_.empty()) doc["crl_url"] = crl_url_;
    write_file_atomic(path, doc.dump(2) + "\n", 0644);
    saved_status_.clear();
    for (const auto& entry : entries_) saved_status_[entry.serial] = entry.status;
}

InventoryEntry* Inventory::find_current(const std::string& name) {
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it)
        if (it->name == name && (it->status == "valid" || it->status == "revoked")) return &*it;
    return nullptr;
}

InventoryEntry* Inventory::find_serial(const std::string& serial_hex) {
    for (auto& entry : entries_)
        if (entry.serial == serial_hex) return &entry;
    return nullptr;
}

bool Inventory::has_serial(const std::string& serial_hex) const {
    for (const auto& entry : entries_)
        if (entry.serial == serial_hex) return true;
    return false;
}

}  // namespace mcpmtls::pki
