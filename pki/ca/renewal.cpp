// pki renew: every leaf that expires within a window rotated in one run, for a systemd timer or
// cron job (docs/renewal.md). Each renewal is a `pki rotate`; the run takes the lock once and
// loads the CA once, so a CA it cannot use fails every renewal before any file is touched.
#include "common/error.hpp"
#include "common/files.hpp"
#include "pki/ca/authority.hpp"
#include "pki/ca/ca_signing.hpp"

namespace mcpmtls::pki {
namespace {

std::vector<InventoryEntry> expiring(const Inventory& inventory, std::chrono::seconds window) {
    const auto horizon = std::chrono::system_clock::now() + window;
    std::vector<InventoryEntry> out;
    for (const auto& entry : inventory.entries())
        if (entry.is_leaf() && entry.status == "valid" && entry.not_after <= horizon) out.push_back(entry);
    return out;
}

Inventory existing_inventory(const CaDirectory& dir) {
    if (!file_exists(dir.inventory())) throw InputError("no inventory in " + dir.dir() + " (run: pki init)");
    return Inventory::load(dir.inventory());
}

}  // namespace

std::vector<InventoryEntry> leaves_expiring_within(const CaDirectory& dir, std::chrono::seconds window) {
    return expiring(existing_inventory(dir), window);
}

std::vector<RenewalOutcome> renew_certificates(const CaDirectory& dir, std::chrono::seconds window,
                                               const std::string& ca_passphrase) {
    FileLock lock(dir.lock());
    auto inventory = existing_inventory(dir);
    std::vector<RenewalOutcome> outcomes;
    for (const auto& entry : expiring(inventory, window)) outcomes.push_back({entry, std::nullopt, ""});
    if (outcomes.empty()) return outcomes;

    std::optional<LoadedCa> ca;
    try {
        ca = load_ca(dir, ca_passphrase);
    } catch (const Error& e) {
        for (auto& outcome : outcomes) outcome.error = e.what();
        return outcomes;
    }
    for (auto& outcome : outcomes) {
        try {
            outcome.rotation = rotate_locked(dir, *ca, inventory, outcome.old_entry.name, false, ca_passphrase, "renew");
        } catch (const std::exception& e) {
            outcome.error = e.what();
            inventory = Inventory::load(dir.inventory());  // what the failed rotation changed in memory only
        }
    }
    return outcomes;
}

}  // namespace mcpmtls::pki
