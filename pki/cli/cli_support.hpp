#pragma once
// Private to the pki command: the options several commands share (each declared once here) and
// the small renderings their outputs share.
#include "common/error.hpp"
#include "common/options.hpp"
#include "common/strings.hpp"
#include "pki/authority.hpp"

#include <string>
#include <utility>
#include <vector>

namespace mcpmtls::pki::cli {

Option dir_option();         // --dir DIR (default certs)
Option passphrase_option();  // --passphrase-file FILE
CaDirectory ca_directory(const Args& args);
std::string passphrase(const Args& args);  // from --passphrase-file or PKI_PASSPHRASE

long days_left(TimePoint not_after);
std::string date_of(TimePoint t);  // YYYY-MM-DD
std::string describe_sans(const SubjectAltNames& sans);  // "DNS:a, IP:b, URI:c"
// A headline, then "  label: value" lines with the values aligned.
void print_summary(const std::string& headline, const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace mcpmtls::pki::cli
