#include "pki/cli/cli_support.hpp"

#include "common/strings.hpp"

#include <iostream>

namespace mcpmtls::pki::cli {

Option dir_option() { return Option::text("dir", "DIR", "certificate directory").fallback(CaDirectory::kDefaultDir); }

Option passphrase_option() {
    return Option::text("passphrase-file", "FILE",
                        "passphrase of ca.key, on the first line of FILE (or set PKI_PASSPHRASE); init encrypts ca.key with it");
}

std::vector<Option> ca_key_options() {
    std::vector<Option> options = {passphrase_option()};
    for (auto& row : pkcs11_option_rows()) options.push_back(std::move(row));
    return options;
}

CaDirectory ca_directory(const Args& args) { return CaDirectory(args.text("dir"), pkcs11_options_from(args)); }

std::string passphrase(const Args& args) { return passphrase_from(args.text("passphrase-file")); }

ArgSpec leaf_spec(const std::string& program, const std::string& description, const std::vector<Option>& own) {
    return ArgSpec(program, description)
        .positional("server|client")
        .positional("NAME")
        .add(own)
        .add(Option::list("dns", "NAME", "DNS subject alternative name"))
        .add(Option::list("ip", "ADDR", "IP subject alternative name (IPv4 or IPv6)"))
        .add(Option::list("uri", "URI", "URI SAN, clients only (e.g. spiffe://demo/coordinator)"))
        .add(Option::list("email", "ADDR", "e-mail SAN, clients only"))
        .add(Option::integer("days", "N", 1, 3650, "lifetime in days, never past the CA's").fallback(90))
        .add(Option::text("ttl", "DURATION", "lifetime as 90m, 24h or 7d, instead of --days"))
        .add(Option::text("key", "URI", "the CA key in a token (a pkcs11: URI), instead of the one DIR records"))
        .add(ca_key_options())
        .add(dir_option());
}

void read_leaf_request(const Args& args, const std::string& command, LeafRequest& request) {
    const auto& pos = args.positionals();
    if (pos[0] == "server") request.kind = LeafKind::server;
    else if (pos[0] == "client") request.kind = LeafKind::client;
    else throw InputError("the first argument of " + command + " is 'server' or 'client', not '" + pos[0] + "'");
    request.name = pos[1];
    request.sans.dns = args.list("dns");
    request.sans.ips = args.list("ip");
    request.sans.uris = args.list("uri");
    request.sans.emails = args.list("email");
    if (args.given("ttl") && args.given("days")) throw InputError("give --days or --ttl, not both");
    request.lifetime = args.given("ttl") ? parse_duration(args.text("ttl")) : std::chrono::hours(24) * args.integer("days");
    request.ca_passphrase = passphrase(args);
}

CaDirectory signing_directory(const Args& args) {
    const CaDirectory dir = ca_directory(args);
    if (!args.given("key")) return dir;
    const std::string uri = args.text("key");
    if (!is_pkcs11_uri(uri))
        throw InputError("--key names the CA key in a token (pkcs11:token=T;object=LABEL), not the file " + uri +
                         " (a CA key file is always DIR/ca.key)");
    return dir.with_ca_key(uri);
}

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

void print_new_leaf(const std::string& verb, const IssuedCertificate& issued, const CaDirectory& dir,
                    const std::string& key_location) {
    for (const auto& note : issued.notes) std::cerr << "pki: note: " << note << "\n";
    const auto& cert = issued.certificate;
    const auto& name = issued.entry.name;
    print_summary(verb + " " + issued.entry.kind + " certificate '" + name + "' (" + cert.public_key_algorithm() +
                      ", valid until " + format_rfc3339(cert.not_after()) + ")",
                  {{"names", describe_sans(cert.subject_alt_names())},
                   {"serial", cert.serial_hex()},
                   {"certificate", dir.leaf_cert(name) + " (with the CA chain)"},
                   {"private key", key_location}});
}

}  // namespace mcpmtls::pki::cli
