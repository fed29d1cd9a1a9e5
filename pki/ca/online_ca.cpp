// The online CA's logic (docs/enrollment.md). Every operation that writes takes DIR's lock (an
// flock, so it excludes other threads of this process and the offline pki commands alike),
// reloads index.json under it, and either refuses before writing anything or commits through
// Inventory::save, which appends to issuance.log first.
//
// Decisions (docs/enrollment.md "Enrollment, decided"):
// - A token is burnt only when its certificate is issued: a refused CSR (bad_csr, not_granted)
//   leaves it usable until it expires. An error while writing may burn it without issuing.
// - Enrolling a NAME that is already current supersedes it (a machine that lost its key enrolls
//   again); a NAME.key that pki issue left in DIR for it no longer matches NAME.crt and is moved
//   aside to NAME.key.superseded.
// - A renewal CSR may ask only for names the current certificate has (a subset); an empty one
//   keeps them all. Renewal keeps the lifetime first granted, capped by --max-ttl.
#include "pki/ca/online_ca.hpp"

#include "common/error.hpp"
#include "common/files.hpp"
#include "common/strings.hpp"
#include "pki/botan_access.hpp"
#include "pki/ca/authority.hpp"
#include "pki/ca/ca_signing.hpp"
#include "pki/csr.hpp"
#include "pki/names.hpp"

#include <botan/x509_crl.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <mutex>

namespace mcpmtls::pki {

struct OnlineCa::State {
    std::mutex mutex;
    std::string ca_pem;  // the ca.crt `ca` was loaded for
    std::optional<LoadedCa> ca;
};

namespace {

using std::chrono::system_clock;

constexpr auto kCrlValidity = std::chrono::hours(24 * 7);

OnlineCaRefusal refused_certificate(const std::string& why) { return OnlineCaRefusal("certificate_refused", 403, why); }

std::string lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

// The names of `asked` that `granted` does not hold, spelt as "DNS:x", "IP:y", "URI:z", "email:w".
std::vector<std::string> names_beyond(const SubjectAltNames& asked, const SubjectAltNames& granted) {
    std::vector<std::string> extra;
    for (const auto& dns : asked.dns)
        if (std::none_of(granted.dns.begin(), granted.dns.end(), [&](const std::string& g) { return lower(g) == lower(dns); }))
            extra.push_back("DNS:" + dns);
    for (const auto& ip : asked.ips) {
        const std::string canonical = canonical_ip(ip);
        if (canonical.empty() || std::find(granted.ips.begin(), granted.ips.end(), canonical) == granted.ips.end())
            extra.push_back("IP:" + ip);
    }
    for (const auto& uri : asked.uris)
        if (std::find(granted.uris.begin(), granted.uris.end(), uri) == granted.uris.end()) extra.push_back("URI:" + uri);
    for (const auto& email : asked.emails) extra.push_back("email:" + email);
    return extra;
}

// The names to sign: those asked when the CSR asks (already known to be within `granted`),
// else every granted one.
SubjectAltNames names_to_sign(const SubjectAltNames& asked, const SubjectAltNames& granted) {
    if (asked.empty()) return granted;
    SubjectAltNames out;
    out.dns = asked.dns;
    for (const auto& ip : asked.ips) out.ips.push_back(canonical_ip(ip));
    out.uris = asked.uris;
    return out;
}

CertificateRequest parse_csr(const std::string& csr_pem) {
    try {
        return CertificateRequest::parse(csr_pem, "the CSR");
    } catch (const Error& e) {
        throw OnlineCaRefusal("bad_csr", 400, e.what());
    }
}

std::vector<uint8_t> public_key_of(const Certificate& cert) {
    const auto bits = cert.impl().cert.subject_public_key_info();
    return std::vector<uint8_t>(bits.begin(), bits.end());
}

// The inventory entry of a certificate presented over mutual TLS: ours (serial and
// fingerprint), a leaf, and neither revoked nor superseded. Expiry is the caller's question.
InventoryEntry& presented_entry(Inventory& inventory, const Certificate& presented) {
    auto* entry = inventory.find_serial(presented.serial_hex());
    if (!entry || entry->fingerprint_sha256 != presented.fingerprint_sha256())
        throw refused_certificate("the client certificate (serial " + presented.serial_hex() + ") was not issued by this CA");
    if (!entry->is_leaf()) throw refused_certificate("'" + entry->name + "' is a CA certificate, not a server or client one");
    if (entry->is_revoked())
        throw refused_certificate("the client certificate for '" + entry->name + "' (serial " + entry->serial + ") is revoked; enroll again with a new token");
    if (entry->status != "valid")
        throw refused_certificate("the client certificate for '" + entry->name + "' (serial " + entry->serial + ") is " +
                                  entry->status + ": present the newest one");
    return *entry;
}

std::string chain_of(const Certificate& leaf, const LoadedCa& ca) {
    // Leaf and intermediates: a root is the peer's trust anchor, never sent.
    return leaf.pem() + (ca.cert.is_self_signed() ? std::string() : ca.cert.pem());
}

// NAME.crt as pki issue and sign write it (the leaf, then the CA), returning how to undo it.
class LeafFileWrite {
public:
    LeafFileWrite(const CaDirectory& dir, const std::string& name, const std::string& content) : path_(dir.leaf_cert(name)) {
        if (file_exists(path_)) previous_ = read_file(path_);
        write_file_atomic(path_, content, 0644);
    }
    void undo() noexcept {
        try {
            if (previous_) write_file_atomic(path_, *previous_, 0644);
            else std::remove(path_.c_str());
        } catch (...) {
        }
    }

private:
    std::string path_;
    std::optional<std::string> previous_;
};

// The lifetime of a certificate the online CA signs: `wanted`, at most --max-ttl, never below
// the minute check_lifetime requires (sign_leaf caps it further at the CA's notAfter).
std::chrono::seconds capped_lifetime(std::chrono::seconds wanted, std::chrono::seconds max_ttl) {
    return std::max<std::chrono::seconds>(std::min(wanted, max_ttl), std::chrono::minutes(1));
}

}  // namespace

OnlineCa::OnlineCa(CaDirectory dir, OnlineCaSettings settings)
    : dir_(std::move(dir)), settings_(std::move(settings)), state_(std::make_shared<State>()) {
    if (settings_.max_ttl < std::chrono::minutes(1)) throw InputError("--max-ttl must be at least a minute");
    if (!file_exists(dir_.ca_cert())) throw InputError("no CA in " + dir_.dir() + " (run: pki init)");
    if (!file_exists(dir_.provisioner_pub()))
        throw InputError("no provisioner key in " + dir_.dir() + " (the first pki token creates " + dir_.provisioner_pub() + ")");
    token_verifier_ = std::make_shared<const EnrollmentTokenVerifier>(read_file(dir_.provisioner_pub()));
    // A CA key that cannot be read (encrypted, no passphrase) fails now, not at the first request.
    std::lock_guard<std::mutex> guard(state_->mutex);
    state_->ca_pem = read_file(dir_.ca_cert());
    state_->ca = load_ca(dir_, settings_.ca_passphrase);
}

namespace {

// The CA as ca.crt says now (a rotate-ca while serving changes it), loaded once per ca.crt: an
// encrypted key costs a key derivation to open. The caller holds the directory lock.
LoadedCa current_ca(const CaDirectory& dir, const std::string& passphrase, std::mutex& mutex, std::string& ca_pem,
                    std::optional<LoadedCa>& cached) {
    std::lock_guard<std::mutex> guard(mutex);
    const std::string pem = read_file(dir.ca_cert());
    if (!cached || pem != ca_pem) {
        cached = load_ca(dir, passphrase);
        ca_pem = pem;
    }
    return *cached;
}

IssuedChain issued_chain(const SignedLeaf& leaf, const LoadedCa& ca, const CaDirectory& dir) {
    IssuedChain out;
    out.name = leaf.entry.name;
    out.kind = leaf.entry.kind;
    out.certificate_pem = leaf.certificate.pem();
    out.chain_pem = chain_of(leaf.certificate, ca);
    out.roots_pem = read_file(dir.bundle());
    out.serial = leaf.certificate.serial_hex();
    out.not_before = leaf.certificate.not_before();
    out.not_after = leaf.certificate.not_after();
    return out;
}

// sign_leaf's refusals (a name outside the CA's name constraints) as the API reports them.
template <typename Sign>
SignedLeaf signed_or_refused(Sign sign) {
    try {
        return sign();
    } catch (const OperationError& e) {
        throw OnlineCaRefusal("not_granted", 403, e.what());
    }
}

// A NAME.key that pki issue left for a certificate now superseded by one whose key is elsewhere.
void move_stale_key_aside(const CaDirectory& dir, const std::string& name) {
    const auto key = dir.leaf_key(name);
    if (file_exists(key)) ::rename(key.c_str(), (key + ".superseded").c_str());
}

}  // namespace

IssuedChain OnlineCa::enroll(const std::string& token, const std::string& csr_pem) {
    const auto grant = token_verifier_->verify(token, system_clock::now());
    const auto csr = parse_csr(csr_pem);
    SubjectAltNames granted;
    try {
        granted = checked_sans(grant.kind, grant.names);
    } catch (const Error& e) {
        throw OnlineCaRefusal("token_invalid", 401, std::string("enrollment token refused: its names are not valid (") + e.what() + ")");
    }
    const auto asked = csr.requested_names();
    const auto extra = names_beyond(asked, granted);
    if (!extra.empty())
        throw OnlineCaRefusal("not_granted", 403, "the CSR asks for " + join(extra, ", ") + ", which the token for '" +
                                                      grant.subject + "' does not grant");
    // The token's kind decides the profile; a CSR asking for another purpose (a client token
    // used to ask for serverAuth) is told so rather than quietly given the other one.
    const std::string purpose = grant.kind == LeafKind::server ? "serverAuth" : "clientAuth";
    for (const auto& usage : csr.requested_extended_key_usages())
        if (usage != purpose)
            throw OnlineCaRefusal("not_granted", 403, "the CSR asks for extendedKeyUsage " + usage + ", but the token for '" +
                                                          grant.subject + "' grants a " + leaf_kind_name(grant.kind) +
                                                          " certificate (" + purpose + " only)");
    LeafProfile profile{grant.kind, grant.subject, checked_sans(grant.kind, names_to_sign(asked, granted)),
                        capped_lifetime(grant.max_ttl, settings_.max_ttl)};

    FileLock lock(dir_.lock());
    if (token_was_used(dir_, grant.jti))
        throw OnlineCaRefusal("token_reused", 409, "this enrollment token was used before; ask for a new one (pki token)");
    const auto ca = current_ca(dir_, settings_.ca_passphrase, state_->mutex, state_->ca_pem, state_->ca);
    auto inventory = Inventory::load(dir_.inventory());
    auto* current = inventory.find_current(grant.subject);
    if (current && !current->is_leaf())
        throw OnlineCaRefusal("not_granted", 403, "'" + grant.subject + "' names a CA certificate in this directory");
    if (!current && file_exists(dir_.leaf_key(grant.subject)))
        throw OnlineCaRefusal("not_granted", 403, dir_.leaf_key(grant.subject) + " exists without an inventory entry; "
                                                  "the CA's operator must remove it first");
    const bool key_in_dir = current && !current->from_csr;  // valid or revoked: it no longer matches NAME.crt
    auto leaf = signed_or_refused([&] { return sign_leaf(ca, inventory, profile, csr.public_key_info()); });
    leaf.entry.key_type = csr.public_key_algorithm();
    leaf.entry.from_csr = true;
    leaf.entry.log_event = "enroll";
    leaf.entry.log_by = "token:" + grant.jti;
    if (current && current->status == "valid") current->status = "superseded";
    inventory.add(leaf.entry);

    record_used_token(dir_, grant.jti, grant.expires_at);
    LeafFileWrite file(dir_, grant.subject, leaf.certificate.pem() + ca.cert.pem());
    try {
        inventory.save(dir_.inventory());
    } catch (...) {
        file.undo();
        throw;
    }
    if (key_in_dir) move_stale_key_aside(dir_, grant.subject);
    return issued_chain(leaf, ca, dir_);
}

IssuedChain OnlineCa::renew(const Certificate& presented, const std::string& csr_pem) {
    std::optional<CertificateRequest> csr;
    if (!csr_pem.empty()) csr = parse_csr(csr_pem);

    FileLock lock(dir_.lock());
    auto inventory = Inventory::load(dir_.inventory());
    InventoryEntry& old_entry = presented_entry(inventory, presented);
    const auto now = system_clock::now();
    if (old_entry.not_after <= now)
        throw refused_certificate("the client certificate for '" + old_entry.name + "' expired at " +
                                  format_rfc3339(old_entry.not_after) + "; enroll again with a new token");
    SubjectAltNames names = old_entry.sans;
    if (csr) {
        const auto asked = csr->requested_names();
        const auto extra = names_beyond(asked, old_entry.sans);
        if (!extra.empty())
            throw OnlineCaRefusal("not_granted", 403, "the CSR asks for " + join(extra, ", ") + ", which '" + old_entry.name +
                                                          "' does not have; a renewal keeps the names (enroll for others)");
        names = names_to_sign(asked, old_entry.sans);
    }
    const LeafKind kind = old_entry.kind == "server" ? LeafKind::server : LeafKind::client;
    const LeafProfile profile{kind, old_entry.name, checked_sans(kind, names),
                              capped_lifetime(old_entry.requested_lifetime(), settings_.max_ttl)};
    const auto ca = current_ca(dir_, settings_.ca_passphrase, state_->mutex, state_->ca_pem, state_->ca);
    auto leaf = signed_or_refused(
        [&] { return sign_leaf(ca, inventory, profile, csr ? csr->public_key_info() : public_key_of(presented)); });
    const bool key_in_dir = !old_entry.from_csr;
    leaf.entry.key_type = csr ? csr->public_key_algorithm() : old_entry.key_type;
    leaf.entry.from_csr = csr ? true : old_entry.from_csr;
    // The lifetime first granted, not the capped one: a later, longer --max-ttl restores it.
    leaf.entry.set_requested_lifetime(old_entry.requested_lifetime());
    leaf.entry.log_event = "renew";
    leaf.entry.log_by = "certificate:" + old_entry.serial;
    old_entry.status = "superseded";
    inventory.add(leaf.entry);

    LeafFileWrite file(dir_, leaf.entry.name, leaf.certificate.pem() + ca.cert.pem());
    try {
        inventory.save(dir_.inventory());
    } catch (...) {
        file.undo();
        throw;
    }
    if (csr && key_in_dir) move_stale_key_aside(dir_, leaf.entry.name);
    return issued_chain(leaf, ca, dir_);
}

OnlineCa::Revoked OnlineCa::revoke(const Certificate& presented, const std::string& reason) {
    std::string checked_reason;
    try {
        checked_reason = crl_reason_name_checked(reason.empty() ? "unspecified" : reason);
    } catch (const InputError& e) {
        throw OnlineCaRefusal("bad_request", 400, e.what());
    }
    FileLock lock(dir_.lock());
    auto inventory = Inventory::load(dir_.inventory());
    InventoryEntry& entry = presented_entry(inventory, presented);
    entry.status = "revoked";
    entry.revoked_at = system_clock::now();
    entry.revocation_reason = checked_reason;
    entry.log_by = "certificate:" + entry.serial;
    const Revoked result{entry.serial, *entry.revoked_at};
    // The CRL first (as pki revoke): if it cannot be signed, index.json still says valid.
    write_crl_locked(dir_, inventory, kCrlValidity, settings_.ca_passphrase, true);
    inventory.save(dir_.inventory());
    return result;
}

std::string OnlineCa::roots_pem() const { return read_file(dir_.bundle()); }

std::string OnlineCa::crl_der() {
    auto fresh = [&] {
        if (!file_exists(dir_.crl_der())) return false;
        try {
            const std::string bytes = read_file(dir_.crl_der());
            const Botan::X509_CRL crl(std::vector<uint8_t>(bytes.begin(), bytes.end()));
            const auto this_update = to_time_point(crl.this_update());
            const auto next_update = to_time_point(crl.next_update());
            return system_clock::now() < this_update + (next_update - this_update) / 2;
        } catch (const std::exception&) {
            return false;  // unreadable: write it again
        }
    };
    if (fresh()) return read_file(dir_.crl_der());
    FileLock lock(dir_.lock());
    if (!fresh()) {  // another thread or process may have written it while this one waited
        auto inventory = Inventory::load(dir_.inventory());
        write_crl_locked(dir_, inventory, kCrlValidity, settings_.ca_passphrase, true);
        inventory.save(dir_.inventory());
    }
    return read_file(dir_.crl_der());
}

}  // namespace mcpmtls::pki
