#include "pki/cli/commands.hpp"

#include "common/error.hpp"
#include "common/files.hpp"
#include "common/strings.hpp"
#include "pki/authority.hpp"
#include "pki/names.hpp"
#include "pki/verifier.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

namespace mcpmtls::pki::cli {
namespace {

using nlohmann::json;
using std::chrono::system_clock;

const std::string kDirHelp = std::string("certificate directory (default: ") + CaDirectory::kDefaultDir + ")";

std::string dir_of(const Args& args) { return args.get("dir", CaDirectory::kDefaultDir); }

std::string passphrase_of(const Args& args) { return passphrase_from(args.get("passphrase-file")); }

long days_left(TimePoint not_after) {
    auto left = std::chrono::duration_cast<std::chrono::seconds>(not_after - system_clock::now()).count();
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

// --- init -------------------------------------------------------------------------------------
int cmd_init(const Args& args) {
    CaInitOptions options;
    options.common_name = args.get("cn", options.common_name);
    if (args.has("key-type")) options.key_type = parse_key_type(args.get("key-type"));
    if (args.has("days")) options.days = parse_positive("--days", args.get("days"), 1, 36500);
    options.force = args.has("force");
    options.passphrase = passphrase_of(args);
    CaDirectory dir(dir_of(args));
    auto cert = init_ca(dir, options);
    std::cout << "created CA '" << cert.common_name() << "' in " << dir.dir() << "/ (" << cert.public_key_algorithm()
              << ", valid until " << date_of(cert.not_after()) << ")\n"
              << "  certificate:  " << dir.ca_cert() << "\n"
              << "  private key:  " << dir.ca_key() << (options.passphrase.empty() ? " (0600)" : " (0600, encrypted)") << "\n"
              << "  trust bundle: " << dir.bundle() << "\n"
              << "  fingerprint:  sha256:" << cert.fingerprint_sha256() << "\n";
    return kExitOk;
}

// --- issue ------------------------------------------------------------------------------------
int cmd_issue(const Args& args) {
    const auto& pos = args.positionals();
    IssueOptions options;
    if (pos[0] == "server") options.kind = LeafKind::server;
    else if (pos[0] == "client") options.kind = LeafKind::client;
    else throw InputError("the first argument of issue is 'server' or 'client', not '" + pos[0] + "'");
    options.name = pos[1];
    options.sans.dns = args.all("dns");
    options.sans.ips = args.all("ip");
    options.sans.uris = args.all("uri");
    options.sans.emails = args.all("email");
    if (args.has("days")) options.days = parse_positive("--days", args.get("days"), 1, 3650);
    if (args.has("key-type")) options.key_type = parse_key_type(args.get("key-type"));
    options.ca_passphrase = passphrase_of(args);
    CaDirectory dir(dir_of(args));
    auto issued = issue_certificate(dir, options);
    for (const auto& note : issued.notes) std::cerr << "pki: note: " << note << "\n";
    const auto& cert = issued.certificate;
    std::cout << "issued " << leaf_kind_name(options.kind) << " certificate '" << options.name << "' ("
              << cert.public_key_algorithm() << ", valid until " << date_of(cert.not_after()) << ")\n"
              << "  names:       " << describe_sans(cert.subject_alt_names()) << "\n"
              << "  serial:      " << cert.serial_hex() << "\n"
              << "  certificate: " << dir.leaf_cert(options.name) << " (with the CA chain)\n"
              << "  private key: " << dir.leaf_key(options.name) << " (0600)\n";
    return kExitOk;
}

// --- list -------------------------------------------------------------------------------------
std::string effective_status(const InventoryEntry& entry) {
    if (entry.status == "valid" && entry.not_after < system_clock::now()) return "expired";
    return entry.status;
}

int cmd_list(const Args& args) {
    CaDirectory dir(dir_of(args));
    if (!file_exists(dir.inventory())) throw InputError("no inventory in " + dir.dir() + " (run: pki init)");
    auto inventory = Inventory::load(dir.inventory());
    std::optional<std::chrono::seconds> window;
    if (args.has("expiring")) window = parse_duration(args.get("expiring"));
    const bool show_all = args.has("all");

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

    if (args.has("json")) {
        json out = json::array();
        for (const auto* entry : shown) {
            json item = to_json(*entry);
            item["status"] = effective_status(*entry);
            item["days_left"] = days_left(entry->not_after);
            out.push_back(item);
        }
        std::cout << out.dump(2) << "\n";
    } else if (!shown.empty() || !window) {
        std::printf("%-20s %-7s %-18s %-11s %9s  %s\n", "NAME", "KIND", "SERIAL", "EXPIRES", "DAYS LEFT", "STATUS");
        for (const auto* entry : shown) {
            std::string serial = entry->serial.size() > 16 ? entry->serial.substr(0, 16) + ".." : entry->serial;
            std::printf("%-20s %-7s %-18s %-11s %9ld  %s\n", entry->name.c_str(), entry->kind.c_str(), serial.c_str(),
                        date_of(entry->not_after).c_str(), days_left(entry->not_after), effective_status(*entry).c_str());
        }
    }
    if (window) {
        if (!expiring.empty()) {
            std::cerr << "pki: " << expiring.size() << " certificate(s) expire within " << args.get("expiring") << "\n";
            return kExitFailed;
        }
        if (!args.has("json")) std::cout << "no certificate expires within " << args.get("expiring") << "\n";
    }
    return kExitOk;
}

// --- inspect ----------------------------------------------------------------------------------
void print_certificate(const Certificate& cert) {
    const auto sans = cert.subject_alt_names();
    long left = days_left(cert.not_after());
    std::cout << "Certificate:\n"
              << "    Serial Number: " << cert.serial_hex() << "\n"
              << "    Signature Algorithm: " << cert.signature_algorithm() << "\n"
              << "    Issuer: " << cert.issuer() << "\n"
              << "    Validity\n"
              << "        Not Before: " << format_rfc3339(cert.not_before()) << "\n"
              << "        Not After : " << format_rfc3339(cert.not_after())
              << (left >= 0 ? " (in " + std::to_string(left) + " days)" : " (EXPIRED " + std::to_string(-left) + " days ago)")
              << "\n"
              << "    Subject: " << cert.subject() << "\n"
              << "    Subject Public Key Info: " << cert.public_key_algorithm() << " ("
              << cert.public_key_strength_bits() << "-bit security)\n"
              << "    X509v3 extensions:\n"
              << "        Basic Constraints: " << (cert.is_ca() ? "CA:TRUE" : "CA:FALSE");
    if (auto len = cert.path_length()) std::cout << ", pathlen:" << *len;
    std::cout << "\n";
    if (cert.has_key_usage_extension()) std::cout << "        Key Usage: " << join(cert.key_usages(), ", ") << "\n";
    if (cert.has_extended_key_usage_extension())
        std::cout << "        Extended Key Usage: " << join(cert.extended_key_usages(), ", ") << "\n";
    if (!sans.empty()) std::cout << "        Subject Alternative Name: " << describe_sans(sans) << "\n";
    if (!cert.subject_key_id_hex().empty())
        std::cout << "        Subject Key Identifier: " << colon_hex(cert.subject_key_id_hex()) << "\n";
    if (!cert.authority_key_id_hex().empty())
        std::cout << "        Authority Key Identifier: " << colon_hex(cert.authority_key_id_hex()) << "\n";
    std::cout << "    Self-signed: " << (cert.is_self_signed() ? "yes" : "no") << "\n"
              << "    Fingerprint (SHA-256): " << colon_hex(to_lower(cert.fingerprint_sha256())) << "\n";
}

int cmd_inspect(const Args& args) {
    const std::string path = args.positionals()[0];
    const std::string data = read_file(path);
    if (data.find("-----BEGIN X509 CRL-----") != std::string::npos) {
        for (const auto& crl : RevocationList::parse_all(data, path)) {
            auto serials = crl.revoked_serials();
            std::cout << "Certificate Revocation List:\n"
                      << "    Issuer: " << crl.issuer() << "\n"
                      << "    CRL Number: " << crl.number() << "\n"
                      << "    This Update: " << format_rfc3339(crl.this_update()) << "\n"
                      << "    Next Update: " << format_rfc3339(crl.next_update()) << "\n"
                      << "    Revoked Certificates: " << serials.size() << "\n";
            for (const auto& serial : serials) std::cout << "        " << serial << "\n";
        }
        return kExitOk;
    }
    if (data.find("PRIVATE KEY-----") != std::string::npos && data.find("-----BEGIN CERTIFICATE-----") == std::string::npos)
        throw InputError(path + " is a private key; inspect shows certificates and CRLs only");
    auto certs = Certificate::parse_all(data, path);
    for (size_t i = 0; i < certs.size(); ++i) {
        if (certs.size() > 1) std::cout << (i ? "\n" : "") << "[" << i + 1 << "/" << certs.size() << "] ";
        print_certificate(certs[i]);
    }
    return kExitOk;
}

// --- verify -----------------------------------------------------------------------------------
int cmd_verify(const Args& args) {
    if (!args.has("ca")) throw InputError("verify needs --ca FILE (the trust anchors)");
    auto trust = TrustStore::load(args.get("ca"), args.get("crl"));
    auto chain = Certificate::load_all(args.positionals()[0]);
    if (args.has("untrusted"))
        for (auto& cert : Certificate::load_all(args.get("untrusted"))) chain.push_back(cert);
    VerifyOptions options;
    const std::string purpose = args.get("purpose", "");
    if (purpose == "server") options.purpose = Purpose::server_auth;
    else if (purpose == "client") options.purpose = Purpose::client_auth;
    else if (purpose.empty()) options.purpose = Purpose::any;
    else throw InputError("--purpose is server or client, not '" + purpose + "'");
    options.host = args.get("host");
    if (!options.host.empty() && !is_ip_address(options.host) && !is_valid_dns_name(options.host, false))
        throw InputError("bad --host '" + options.host + "'");
    if (args.has("at")) options.at = parse_rfc3339(args.get("at"));
    auto result = verify_chain(chain, *trust, options);
    if (result.valid()) {
        std::cout << "OK\n";
        return kExitOk;
    }
    std::cout << result.reason() << "\n";
    if (args.has("verbose"))
        for (size_t i = 1; i < result.failures.size(); ++i) std::cout << "also: " << result.failures[i].message << "\n";
    return kExitFailed;
}

// --- revoke / crl -----------------------------------------------------------------------------
int cmd_revoke(const Args& args) {
    const auto& pos = args.positionals();
    std::string serial = args.get("serial");
    if (pos.empty() == serial.empty()) throw InputError("revoke takes a NAME or --serial HEX (one of them)");
    CaDirectory dir(dir_of(args));
    auto entry = revoke_certificate(dir, pos.empty() ? "" : pos[0], serial, args.get("reason", "unspecified"),
                                    passphrase_of(args));
    std::cout << "revoked '" << entry.name << "' (serial " << entry.serial << ", reason " << entry.revocation_reason
              << ")\n  CRL updated: " << dir.crl() << " (reload the servers, or let them pick it up)\n";
    return kExitOk;
}

int cmd_crl(const Args& args) {
    CaDirectory dir(dir_of(args));
    long days = args.has("days") ? parse_positive("--days", args.get("days"), 1, 365) : 7;
    write_crl(dir, std::chrono::hours(24) * days, passphrase_of(args));
    auto crls = RevocationList::load_all(dir.crl());
    std::cout << "wrote " << dir.crl() << " (CRL number " << crls.front().number() << ", "
              << crls.front().revoked_serials().size() << " revoked, next update " << date_of(crls.front().next_update())
              << ")\n";
    return kExitOk;
}

// --- rotate / rotate-ca -----------------------------------------------------------------------
int cmd_rotate(const Args& args) {
    CaDirectory dir(dir_of(args));
    auto result = rotate_certificate(dir, args.positionals()[0], args.has("revoke-old"), passphrase_of(args));
    std::cout << "rotated '" << result.new_entry.name << "': serial " << result.old_entry.serial << " -> "
              << result.new_entry.serial << " (valid until " << date_of(result.new_entry.not_after) << ")\n"
              << "  written over " << dir.leaf_cert(result.new_entry.name) << " and " << dir.leaf_key(result.new_entry.name)
              << "\n  rotation bundle: " << result.bundle_dir << "/\n";
    if (result.old_revoked)
        std::cout << "  old certificate revoked; CRL updated: " << dir.crl() << "\n";
    else
        std::cout << "  the old certificate stays valid until " << date_of(result.old_entry.not_after)
                  << "; revoke it once every peer has reloaded: pki revoke --serial " << result.old_entry.serial << "\n";
    return kExitOk;
}

int cmd_rotate_ca(const Args& args) {
    CaDirectory dir(dir_of(args));
    if (args.has("finish")) {
        auto result = finish_ca_rotation(dir, passphrase_of(args));
        std::cout << "CA rotation finished: " << dir.bundle() << " now trusts only '" << result.new_ca.common_name()
                  << "'; the old CA key is deleted\n";
        return kExitOk;
    }
    auto result = start_ca_rotation(dir, passphrase_of(args));
    std::cout << "new CA '" << result.new_ca.common_name() << "' (valid until " << date_of(result.new_ca.not_after())
              << ") is now " << dir.ca_cert() << "\n"
              << "  " << dir.bundle() << " trusts both CAs during the overlap\n"
              << "  next: reload every server and client (they pick up the bundle), reissue each certificate with\n"
              << "        pki rotate NAME, reload again, then: pki rotate-ca --finish\n";
    return kExitOk;
}

ArgSpec with_dir(ArgSpec spec) { return spec.option("dir", "DIR", kDirHelp); }

// For the commands that sign with the CA key; the option comes last in their help.
ArgSpec with_ca_passphrase(ArgSpec spec) {
    return spec.option("passphrase-file", "FILE", "passphrase of an encrypted ca.key (or PKI_PASSPHRASE)");
}

}  // namespace

std::vector<Command> all_commands() {
    std::vector<Command> commands;
    commands.push_back({"init", "create a self-signed root CA",
                        with_dir(ArgSpec("pki init [--dir DIR] [--cn NAME] [--key-type TYPE] [--days N] [--force]",
                                         "Creates ca.crt, ca.key (0600), ca-bundle.crt and index.json."))
                            .option("cn", "NAME", "CA common name (default: mcp-mtls root CA)")
                            .option("key-type", "TYPE", "ecdsa-p256 (default), ecdsa-p384, ed25519 or rsa-3072")
                            .option("days", "N", "lifetime in days (default: 3650)")
                            .flag("force", "replace an existing CA (all its certificates stop verifying)")
                            .option("passphrase-file", "FILE", "encrypt ca.key with the passphrase on the first line of FILE "
                                                               "(or set PKI_PASSPHRASE)"),
                        cmd_init});
    commands.push_back({"issue", "issue a server or client certificate",
                        with_ca_passphrase(
                            with_dir(ArgSpec("pki issue server|client NAME [options]",
                                             "Writes NAME.crt (leaf + CA) and NAME.key (0600), signed by the CA."))
                                .repeated("dns", "NAME", "DNS subject alternative name")
                                .repeated("ip", "ADDR", "IP subject alternative name (IPv4 or IPv6)")
                                .repeated("uri", "URI", "URI SAN, clients only (e.g. spiffe://demo/coordinator)")
                                .repeated("email", "ADDR", "e-mail SAN, clients only")
                                .option("days", "N", "lifetime in days (default: 90, never past the CA's)")
                                .option("key-type", "TYPE", "ecdsa-p256 (default), ecdsa-p384, ed25519 or rsa-3072"))
                            .positionals(2, 2),
                        cmd_issue});
    commands.push_back({"list", "list the inventory",
                        with_dir(ArgSpec("pki list [--dir DIR] [--json] [--expiring DURATION] [--all]",
                                         "With --expiring (e.g. 30d), lists what expires within DURATION and exits 1 if "
                                         "anything does: for cron and monitoring."))
                            .flag("json", "print a JSON array")
                            .option("expiring", "DURATION", "only certificates expiring within DURATION (30d, 12h, 2w)")
                            .flag("all", "include superseded and retired certificates"),
                        cmd_list});
    commands.push_back({"inspect", "show a certificate, bundle or CRL in human terms",
                        ArgSpec("pki inspect FILE").positionals(1, 1), cmd_inspect});
    commands.push_back({"verify", "verify a certificate chain with the product's verifier",
                        ArgSpec("pki verify --ca FILE [--untrusted FILE] [--purpose server|client] [--host NAME] "
                                "[--at RFC3339] [--crl FILE] CERT",
                                "Exit 0 and OK when valid; exit 1 and the reason when not; exit 2 on unreadable input.")
                            .option("ca", "FILE", "trust anchors (a bundle may hold several CAs)")
                            .option("untrusted", "FILE", "intermediate certificates")
                            .option("purpose", "server|client", "required extended key usage")
                            .option("host", "NAME", "DNS name or IP the certificate must be valid for")
                            .option("at", "RFC3339", "validation time (default: now)")
                            .option("crl", "FILE", "CRL(s) to check revocation against")
                            .flag("verbose", "print every failed check")
                            .positionals(1, 1),
                        cmd_verify});
    commands.push_back({"revoke", "revoke a certificate and regenerate the CRL",
                        with_ca_passphrase(
                            with_dir(ArgSpec("pki revoke NAME|--serial HEX [--reason R] [--dir DIR]"))
                                .option("serial", "HEX", "revoke by serial number instead of name")
                                .option("reason", "R", "keyCompromise, superseded, cessationOfOperation, ... (default: unspecified)"))
                            .positionals(0, 1),
                        cmd_revoke});
    commands.push_back({"crl", "write ca.crl",
                        with_ca_passphrase(
                            with_dir(ArgSpec("pki crl [--days N] [--dir DIR]", "Signs a fresh CRL (v2, CRL number increasing)."))
                                .option("days", "N", "days until nextUpdate (default: 7)")),
                        cmd_crl});
    commands.push_back({"rotate", "new key and certificate for the same identity",
                        with_ca_passphrase(
                            with_dir(ArgSpec("pki rotate NAME [--revoke-old] [--dir DIR]",
                                             "Writes a new NAME.crt/NAME.key (same names, kind and lifetime) and a rotation "
                                             "bundle rotation/NAME-<UTC timestamp>/ with a manifest.json."))
                                .flag("revoke-old", "revoke the previous certificate (reason superseded) once the new one is in place"))
                            .positionals(1, 1),
                        cmd_rotate});
    commands.push_back({"rotate-ca", "start (or --finish) a CA rotation with overlap",
                        with_ca_passphrase(
                            with_dir(ArgSpec("pki rotate-ca [--finish] [--dir DIR]",
                                             "Creates a new CA; ca-bundle.crt trusts old and new until --finish, which refuses "
                                             "while valid certificates from the old CA remain."))
                                .flag("finish", "drop the old CA from the bundle and delete its key")),
                        cmd_rotate_ca});
    return commands;
}

int run_pki(int argc, char** argv) {
    std::vector<std::string> words(argv + 1, argv + argc);
    auto commands = all_commands();
    auto overview = [&] {
        std::string text = "usage: pki COMMAND [options]\n\nA small certificate authority for mutual TLS.\n\ncommands:\n";
        for (const auto& c : commands) {
            std::string name = "  " + c.name;
            name.resize(12, ' ');
            text += name + c.summary + "\n";
        }
        text += "\nRun 'pki COMMAND --help' for a command's options. Exit codes: 0 success, 1 failed or invalid, "
                "2 usage or input error.\n";
        return text;
    };
    if (words.empty()) {
        std::cerr << overview();
        return kExitUsage;
    }
    if (words[0] == "--help" || words[0] == "-h" || words[0] == "help") {
        std::cout << overview();
        return kExitOk;
    }
    if (words[0] == "--version") {
        std::cout << "pki (mcp-mtls) 0.1.0\n";
        return kExitOk;
    }
    auto it = std::find_if(commands.begin(), commands.end(), [&](const Command& c) { return c.name == words[0]; });
    if (it == commands.end()) {
        std::cerr << "pki: unknown command '" << words[0] << "' (see pki --help)\n";
        return kExitUsage;
    }
    try {
        Args args = it->spec.parse(std::vector<std::string>(words.begin() + 1, words.end()));
        if (args.has("help")) {
            std::cout << it->spec.help();
            return kExitOk;
        }
        return it->run(args);
    } catch (const Error& e) {
        std::cerr << "pki " << it->name << ": " << e.what() << "\n";
        return e.code();
    } catch (const std::exception& e) {
        std::cerr << "pki " << it->name << ": " << e.what() << "\n";
        return kExitFailed;
    }
}

}  // namespace mcpmtls::pki::cli
