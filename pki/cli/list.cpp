// pki list: the inventory, or with --expiring what expires soon (exit 1: for cron and monitoring).
#include "common/files.hpp"
#include "common/strings.hpp"
#include "pki/cli/cli_support.hpp"
#include "pki/cli/commands.hpp"

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

namespace mcpmtls::pki::cli {
namespace {

ArgSpec list_spec() {
    return ArgSpec("pki list", "With --expiring (e.g. 30d), lists what expires within DURATION and exits 1 if anything "
                        "does: for cron and monitoring.")
        .add(Option::text("expiring", "DURATION", "only certificates expiring within DURATION (30d, 12h, 2w)"))
        .add(Option::flag("json", "print a JSON array"))
        .add(Option::flag("all", "include superseded and retired certificates"))
        .add(dir_option());
}

using std::chrono::system_clock;

std::string effective_status(const InventoryEntry& entry) {
    if (entry.status == "valid" && entry.not_after < system_clock::now()) return "expired";
    return entry.status;
}

int run_list(const Args& args) {
    const CaDirectory dir = ca_directory(args);
    if (!file_exists(dir.inventory())) throw InputError("no inventory in " + dir.dir() + " (run: pki init)");
    const auto inventory = Inventory::load(dir.inventory());
    std::optional<std::chrono::seconds> window;
    if (args.given("expiring")) window = parse_duration(args.text("expiring"));
    const bool show_all = args.flag("all");

    std::vector<const InventoryEntry*> shown;
    std::vector<const InventoryEntry*> expiring;
    for (const auto& entry : inventory.entries()) {
        const bool current = entry.status == "valid";
        if (window) {
            if (current && entry.not_after <= system_clock::now() + *window) expiring.push_back(&entry);
            continue;
        }
        if (show_all || entry.status == "valid" || entry.status == "revoked") shown.push_back(&entry);
    }
    if (window) shown = expiring;

    if (args.flag("json")) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto* entry : shown) {
            nlohmann::json item = to_json(*entry);
            item["status"] = effective_status(*entry);
            item["days_left"] = days_left(entry->not_after);
            out.push_back(item);
        }
        std::cout << out.dump(2) << "\n";
    } else if (!shown.empty() || !window) {
        std::printf("%-20s %-12s %-18s %-11s %9s  %s\n", "NAME", "KIND", "SERIAL", "EXPIRES", "DAYS LEFT", "STATUS");
        for (const auto* entry : shown) {
            std::string serial = entry->serial.size() > 16 ? entry->serial.substr(0, 16) + ".." : entry->serial;
            std::printf("%-20s %-12s %-18s %-11s %9ld  %s\n", entry->name.c_str(), entry->kind.c_str(), serial.c_str(),
                        date_of(entry->not_after).c_str(), days_left(entry->not_after), effective_status(*entry).c_str());
        }
    }
    if (window) {
        if (!expiring.empty()) {
            std::cerr << "pki: " << expiring.size() << " certificate(s) expire within " << args.text("expiring") << "\n";
            return kExitFailed;
        }
        if (!args.flag("json")) std::cout << "no certificate expires within " << args.text("expiring") << "\n";
    }
    return kExitOk;
}

}  // namespace

Command list_command() { return {"list", "list the inventory", list_spec(), run_list}; }

}  // namespace mcpmtls::pki::cli
