#pragma once
// Private to the pki command: the options several commands share (each declared once here) and
// the small renderings their outputs share.
#include "common/error.hpp"
#include "common/options.hpp"
#include "common/strings.hpp"
#include "pki/authority.hpp"

#include <string>

namespace mcpmtls::pki::cli {

Option dir_option();         // --dir DIR (default certs)
Option passphrase_option();  // --passphrase-file FILE
CaDirectory ca_directory(const Args& args);
std::string passphrase(const Args& args);  // from --passphrase-file or PKI_PASSPHRASE

long days_left(TimePoint not_after);
std::string date_of(TimePoint t);  // YYYY-MM-DD
std::string describe_sans(const SubjectAltNames& sans);  // "DNS:a, IP:b, URI:c"

}  // namespace mcpmtls::pki::cli
