// pki renew: every leaf that expires within --within rotated (as pki rotate does), one line per
// certificate, and an exit code a systemd timer or cron job can alert on (docs/renewal.md).
#include "pki/cli/cli_support.hpp"
#include "pki/cli/commands.hpp"

#include <iostream>

namespace mcpmtls::pki::cli {
namespace {

ArgSpec renew_spec() {
    return ArgSpec("pki renew", "Rotates every valid leaf expiring within DURATION (30d, 12h, 2w); exit 1 if any "
                                "renewal failed. Leaves signed from a CSR keep their key.")
        .add(Option::text("within", "DURATION", "renew what expires within DURATION (expired leaves included)").required())
        .add(Option::flag("dry-run", "print what would be renewed and change nothing"))
        .add(ca_key_options())
        .add(dir_option());
}

std::string expiry_of(const InventoryEntry& entry) { return "expires " + format_rfc3339(entry.not_after); }

int run_renew(const Args& args) {
    const CaDirectory dir = ca_directory(args);
    const auto window = parse_duration(args.text("within"));
    if (args.flag("dry-run")) {
        const auto due = leaves_expiring_within(dir, window);
        for (const auto& entry : due) std::cout << "would renew " << entry.name << " (" << expiry_of(entry) << ")\n";
        if (due.empty()) std::cout << "nothing expires within " << args.text("within") << "\n";
        return kExitOk;
    }
    const auto outcomes = renew_certificates(dir, window, passphrase(args));
    size_t failed = 0;
    for (const auto& outcome : outcomes) {
        if (!outcome.rotation) {
            ++failed;
            std::cout << "failed " << outcome.old_entry.name << " (" << expiry_of(outcome.old_entry) << "): " << outcome.error
                      << "\n";
            continue;
        }
        const auto& rotation = *outcome.rotation;
        std::cout << "renewed " << rotation.new_entry.name << ": serial " << rotation.old_entry.serial << " -> "
                  << rotation.new_entry.serial << ", valid until " << format_rfc3339(rotation.new_entry.not_after)
                  << (rotation.new_entry.from_csr ? " (same key, from its CSR)" : "") << "\n";
    }
    if (outcomes.empty()) std::cout << "nothing expires within " << args.text("within") << "\n";
    if (failed == 0) return kExitOk;
    std::cerr << "pki: " << failed << " of " << outcomes.size() << " renewal(s) failed\n";
    return kExitFailed;
}

}  // namespace

Command renew_command() { return {"renew", "rotate every leaf that expires soon (for a timer)", renew_spec(), run_renew}; }

}  // namespace mcpmtls::pki::cli
