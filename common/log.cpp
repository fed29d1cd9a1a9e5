#include "common/log.hpp"

#include "common/error.hpp"
#include "common/strings.hpp"

#include <atomic>
#include <spdlog/async.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace mcpmtls {
namespace {

// The logger is the one piece of global mutable state the project allows.
std::atomic<LogFormat> g_format{LogFormat::text};

std::string render_text_value(const nlohmann::json& value) {
    if (value.is_string()) {
        const auto& s = value.get_ref<const std::string&>();
        bool plain = !s.empty() && s.find_first_of(" \t\"=\n") == std::string::npos;
        return plain ? s : value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

LogFormat parse_log_format(const std::string& name) {
    if (name == "text") return LogFormat::text;
    if (name == "json") return LogFormat::json;
    throw InputError("unknown log format '" + name + "' (expected text or json)");
}

void setup_logging(LogFormat format, spdlog::level::level_enum level, bool asynchronous) {
    g_format = format;
    auto logger = spdlog::get("mcp-mtls");
    if (!logger) {
        if (asynchronous) {
            spdlog::init_thread_pool(32768, 1);
            logger = spdlog::create_async<spdlog::sinks::stderr_sink_mt>("mcp-mtls");
        } else {
            logger = spdlog::stderr_logger_mt("mcp-mtls");
        }
        spdlog::set_default_logger(logger);
    }
    if (format == LogFormat::json)
        logger->set_pattern("%v");  // the message is the whole JSON object, time included
    else
        logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
    logger->set_level(level);
    logger->flush_on(spdlog::level::info);
}

LogFormat current_log_format() { return g_format; }

bool log_enabled(spdlog::level::level_enum level) { return spdlog::default_logger_raw()->should_log(level); }

void log_event(spdlog::level::level_enum level, const std::string& event, const nlohmann::json& fields) {
    auto logger = spdlog::default_logger_raw();
    if (!logger->should_log(level)) return;
    if (g_format == LogFormat::json) {
        nlohmann::json line = nlohmann::json::object();
        line["time"] = format_rfc3339(std::chrono::system_clock::now());
        line["level"] = spdlog::level::to_string_view(level).data();
        line["event"] = event;
        if (fields.is_object())
            for (auto it = fields.begin(); it != fields.end(); ++it) line[it.key()] = it.value();
        logger->log(level, "{}", line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        return;
    }
    std::string text = event;
    if (fields.is_object())
        for (auto it = fields.begin(); it != fields.end(); ++it)
            text += " " + it.key() + "=" + render_text_value(it.value());
    logger->log(level, "{}", text);
}

}  // namespace mcpmtls
