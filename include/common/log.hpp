#pragma once
// Structured logging on top of spdlog. Every event has a name and fields; `text` renders them
// as `event key=value ...`, `json` as one JSON object per line (for log shippers).
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <string>

namespace mcpmtls {

enum class LogFormat { text, json };

// Throws InputError for anything but "text" or "json".
LogFormat parse_log_format(const std::string& name);

// Configures the process-wide logger (stderr). Safe to call again to change format or level.
// Servers log asynchronously: a request thread hands its event to a logging thread instead of
// writing to stderr itself (events are never dropped: a full queue makes callers wait).
void setup_logging(LogFormat format, spdlog::level::level_enum level = spdlog::level::info, bool asynchronous = false);

LogFormat current_log_format();

void log_event(spdlog::level::level_enum level, const std::string& event, const nlohmann::json& fields);
// Whether an event of this level would be written (to skip building its fields on a hot path).
bool log_enabled(spdlog::level::level_enum level);

}  // namespace mcpmtls
