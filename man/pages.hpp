#pragma once
// The manual pages' OPTIONS sections, --config key lists and exit-status tables are generated
// from the same option rows, command specs and exit-code lines that make --help, as step's and
// Botan's documentation comes from their code: a row added to a program is in its man page by
// construction. Each generated part sits between two marker comments in the checked-in page,
//   .\" BEGIN GENERATED PART (make man)  ...  .\" END GENERATED PART
// and the prose around it is written by hand. `make man` rewrites the parts (build/man-pages),
// and the help test fails when a checked-in page differs from what this code makes.
#include <map>
#include <string>

namespace mcpmtls::man {

// Page file name ("client.1") -> part name ("OPTIONS") -> the roff that belongs there.
std::map<std::string, std::map<std::string, std::string>> generated_parts();

// `page_text` with every generated part replaced by `parts`' text; throws std::runtime_error
// when a part's markers are missing from the page.
std::string refresh(const std::string& page_text, const std::map<std::string, std::string>& parts);

}  // namespace mcpmtls::man
