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
// On the journal (stderr_is_journal) text lines carry no time of their own but the sd-daemon
// "<N>" priority prefix, as do JSON lines.
// Servers log asynchronously: a request thread hands its event to a logging thread instead of
// writing to stderr itself (events are never dropped: a full queue makes callers wait).
void setup_logging(LogFormat format, spdlog::level::level_enum level = spdlog::level::info, bool asynchronous = false);

LogFormat current_log_format();

// True when systemd connected stderr to the journal: $JOURNAL_STREAM names stderr's device and
// inode (a child that inherited the variable but writes elsewhere is not on the journal).
bool stderr_is_journal();

void log_event(spdlog::level::level_enum level, const std::string& event, const nlohmann::json& fields);
// Whether an event of this level would be written (to skip building its fields on a hot path).
bool log_enabled(spdlog::level::level_enum level);

}  // namespace mcpmtls
