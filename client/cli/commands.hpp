#pragma once
// The client command: one file per command, each holding the function that runs it next to its
// spec; the global options (certificates, modes, servers) are declared once, in cli.cpp, as one
// table that a --config file can also set.
#include "client/coordinator.hpp"
#include "common/command.hpp"
#include "tls/certificate_renewal.hpp"

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

namespace mcpmtls::client::cli {

Command tools_command();
Command call_command();
Command ask_command();
Command check_command();
Command bench_command();
Command bridge_command();
Command enroll_command();
Command renew_command();
Command token_command();

// Where `client enroll` writes and `client renew` reads: --out-dir, else --cert-dir, else
// default_enrollment_directory() ($XDG_CONFIG_HOME/mcp-mtls/client, ~/.config/mcp-mtls/client).
std::string enrollment_directory(const Args& args);
std::string default_enrollment_directory();
// --renew-from: the renewal of the certificate `settings` presents, not started; null without it.
std::unique_ptr<tls::BackgroundRenewal> client_renewal(const Args& args, const tls::ClientTlsSettings& settings);

// The global options: one row each (flag, --config key, default, help).
std::vector<Option> global_options();
// Sets up logging and resolves the global options into what a coordinator needs.
CoordinatorOptions coordinator_options(const Args& args);

CommandRegistry registry();

// Runs `body` with a coordinator over the configured servers and closes every session after.
int with_coordinator(const Args& args, const std::function<int(Coordinator&)>& body);

// Rendering shared by commands: a tool result's text, a tool's signature, typed arguments.
std::string text_of(const nlohmann::json& result);
std::string signature_of(const nlohmann::json& tool);
// key=value words -> arguments typed by the tool's input schema; throws InputError.
nlohmann::json arguments_for(const nlohmann::json& tool, const std::vector<std::string>& pairs);
nlohmann::json typed_value(const std::string& key, const std::string& raw, const nlohmann::json& property);
// Shows a call's progress notifications on stderr, one line each (one write, so that parallel
// calls do not mix their lines): "client: weather/get_forecast: 2 of 3 (2026-11-30)".
ProgressHandler progress_on_stderr(const std::string& server, const std::string& tool);

}  // namespace mcpmtls::client::cli
