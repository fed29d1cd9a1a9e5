#pragma once
// `pki serve`: the directory's CA online over HTTPS (docs/enrollment.md). It lives above the
// server layer because it serves with the same connection machinery as the MCP servers; the
// operations it exposes are pki::OnlineCa's. The pki program's full command table is here too,
// since it is the only place that sees both the offline commands and this one.
#include "common/command.hpp"

namespace mcpmtls::services {

Command serve_command();

// Every pki command, serve included: bin/pki's and its man page's.
CommandRegistry pki_registry();
int run_pki(int argc, char** argv);

}  // namespace mcpmtls::services
