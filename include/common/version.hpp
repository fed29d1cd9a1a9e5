#pragma once
// The product's version: the one place it is written. Programs print it with --version, the MCP
// servers announce it in serverInfo and the client in clientInfo and its User-Agent.
#include <string>

namespace mcpmtls {

inline constexpr const char* kVersion = "0.1.0";

// "pki (mcp-mtls) 0.1.0"
inline std::string version_line(const std::string& program) { return program + " (mcp-mtls) " + kVersion; }

}  // namespace mcpmtls
