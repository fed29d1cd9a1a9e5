#pragma once
// Private to the pki command: the options several commands share (each declared once here) and
// the small renderings their outputs share.
#include "common/error.hpp"
#include "common/options.hpp"
#include "common/strings.hpp"
#include "pki/ca/authority.hpp"

#include <string>
#include <utility>
#include <vector>

namespace mcpmtls::pki::cli {

Option dir_option();         // --dir DIR (default certs)
Option passphrase_option();  // --passphrase-file FILE
// What unlocks the CA key: --passphrase-file for ca.key, and --pkcs11-module, --pin-file for a
// CA key in a token (the rows the servers use for theirs).
std::vector<Option> ca_key_options();
// --dir, with --pkcs11-module and --pin-file when the command has them.
CaDirectory ca_directory(const Args& args);
std::string passphrase(const Args& args);  // from --passphrase-file or PKI_PASSPHRASE

// What a new leaf is, for issue and sign: the kind and NAME (positionals), `own` options, its
// names (--dns, --ip, --uri, --email), its lifetime (--days N or --ttl DURATION, not both), the
// CA's passphrase and --dir.
ArgSpec leaf_spec(const std::string& program, const std::string& description, const std::vector<Option>& own);
void read_leaf_request(const Args& args, const std::string& command, LeafRequest& request);
// ca_directory(), signing with the --key pkcs11:... of leaf_spec when given.
CaDirectory signing_directory(const Args& args);

long days_left(TimePoint not_after);
std::string date_of(TimePoint t);  // YYYY-MM-DD
std::string describe_sans(const SubjectAltNames& sans);  // "DNS:a, IP:b, URI:c"
// A headline, then "  label: value" lines with the values aligned.
void print_summary(const std::string& headline, const std::vector<std::pair<std::string, std::string>>& fields);
// What issue and sign print: notes on stderr, then "<verb> server certificate 'NAME' (...)" and
// its names, serial, files; `key_location` says where its private key is.
void print_new_leaf(const std::string& verb, const IssuedCertificate& issued, const CaDirectory& dir,
                    const std::string& key_location);

}  // namespace mcpmtls::pki::cli
