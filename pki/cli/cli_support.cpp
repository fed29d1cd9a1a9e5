#include "pki/cli/cli_support.hpp"

#include "common/strings.hpp"

#include <iostream>

namespace mcpmtls::pki::cli {

Option dir_option() { return Option::text("dir", "DIR", "certificate directory").fallback(CaDirectory::kDefaultDir); }

Option passphrase_option() {
    return Option::text("passphrase-file", "FILE",
                        "passphrase of ca.key, on the first line of FILE (or set PKI_PASSPHRASE); init encrypts ca.key with it");
}

CaDirectory ca_directory(const Args& args) { return CaDirectory(args.text("dir")); }

std::string passphrase(const Args& args) { return passphrase_from(args.text("passphrase-file")); }

long days_left(TimePoint not_after) {
    auto left = std::chrono::duration_cast<std::chrono::seconds>(not_after - std::chrono::system_clock::now()).count();
    return left < 0 ? -((-left + 86399) / 86400) : left / 86400;
}

std::string date_of(TimePoint t) { return format_rfc3339(t).substr(0, 10); }

std::string describe_sans(const SubjectAltNames& sans) {
    std::vector<std::string> parts;
    for (const auto& d : sans.dns) parts.push_back("DNS:" + d);
    for (const auto& i : sans.ips) parts.push_back("IP:" + i);
    for (const auto& u : sans.uris) parts.push_back("URI:" + u);
    for (const auto& e : sans.emails) parts.push_back("email:" + e);
    return join(parts, ", ");
}

void print_summary(const std::string& headline, const std::vector<std::pair<std::string, std::string>>& fields) {
    size_t width = 0;
    for (const auto& field : fields) width = std::max(width, field.first.size());
    std::cout << headline << "\n";
    for (const auto& [label, value] : fields)
        std::cout << "  " << label << ":" << std::string(width - label.size() + 1, ' ') << value << "\n";
}

}  // namespace mcpmtls::pki::cli
