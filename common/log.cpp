#include "common/log.hpp"

#include "common/error.hpp"
#include "common/strings.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <spdlog/async.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mcpmtls {
namespace {

// The logger is the one piece of global mutable state the project allows.
std::atomic<LogFormat> g_format{LogFormat::text};
bool g_asynchronous = false;

std::string render_text_value(const nlohmann::json& value) {
    if (value.is_string()) {
        const auto& s = value.get_ref<const std::string&>();
        bool plain = !s.empty() && s.find_first_of(" \t\"=\n") == std::string::npos;
        return plain ? s : value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// sd-daemon(3)'s "<N>" prefix: journald takes the line's priority from it (and strips it).
class JournalPriority final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& message, const std::tm&, spdlog::memory_buf_t& out) override {
        static constexpr const char* kPriority[] = {"<7>", "<7>", "<6>", "<4>", "<3>", "<2>", "<6>"};  // trace .. off
        const std::string_view prefix = kPriority[static_cast<int>(message.level)];
        out.append(prefix.data(), prefix.data() + prefix.size());
    }
    std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<JournalPriority>(); }
};

std::unique_ptr<spdlog::formatter> journal_formatter(LogFormat format) {
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<JournalPriority>('*');
    formatter->set_pattern(format == LogFormat::json ? "%*%v" : "%*%l %v");
    return formatter;
}

}  // namespace

bool stderr_is_journal() {
    const char* stream = std::getenv("JOURNAL_STREAM");
    unsigned long long device = 0, inode = 0;
    if (!stream || std::sscanf(stream, "%llu:%llu", &device, &inode) != 2) return false;
    struct stat st {};
    return ::fstat(STDERR_FILENO, &st) == 0 && static_cast<unsigned long long>(st.st_dev) == device &&
           static_cast<unsigned long long>(st.st_ino) == inode;
}

LogFormat parse_log_format(const std::string& name) {
    if (name == "text") return LogFormat::text;
    if (name == "json") return LogFormat::json;
    throw InputError("unknown log format '" + name + "' (expected text or json)");
}

void setup_logging(LogFormat format, spdlog::level::level_enum level, bool asynchronous) {
    g_format = format;
    auto logger = spdlog::get("mcp-mtls");
    if (logger && asynchronous && !g_asynchronous) {
        // A server logs synchronously until it has entered its sandbox, whose rules bind only
        // the threads started after it: the logging thread is one of them.
        logger->flush();
        spdlog::drop("mcp-mtls");
        logger.reset();
    }
    if (!logger) {
        g_asynchronous = asynchronous;
        if (asynchronous) {
            spdlog::init_thread_pool(32768, 1);
            logger = spdlog::create_async<spdlog::sinks::stderr_sink_mt>("mcp-mtls");
        } else {
            logger = spdlog::stderr_logger_mt("mcp-mtls");
        }
        spdlog::set_default_logger(logger);
    }
    if (stderr_is_journal())
        logger->set_formatter(journal_formatter(format));  // the journal stamps each line itself
    else if (format == LogFormat::json)
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
