#include "services/datetime_tools.hpp"

#include "common/strings.hpp"
#include "mcp/content.hpp"
#include "mcp/json_schema.hpp"
#include "common/time_zones.hpp"
#include "services/places.hpp"

#include <cmath>
#include <cstdio>
#include <date/tz.h>

namespace mcpmtls::services {
namespace {

using mcp::json;
using mcp::ToolResult;
using std::chrono::minutes;
using std::chrono::seconds;

std::string offset_text(seconds offset) {
    const long total = static_cast<long>(offset.count());
    const long magnitude = std::labs(total);
    char buf[48];
    std::snprintf(buf, sizeof buf, "%c%02ld:%02ld", total < 0 ? '-' : '+', magnitude / 3600, (magnitude % 3600) / 60);
    return buf;
}

std::string hours_text(seconds difference) {
    const double hours = static_cast<double>(difference.count()) / 3600.0;
    char buf[32];
    if (std::fabs(hours - std::round(hours)) < 1e-9) std::snprintf(buf, sizeof buf, "%+.0fh", hours);
    else if (std::fabs(hours * 2 - std::round(hours * 2)) < 1e-9) std::snprintf(buf, sizeof buf, "%+.1fh", hours);
    else std::snprintf(buf, sizeof buf, "%+.2fh", hours);
    return buf;
}

struct ZoneMoment {
    std::string zone;
    std::string local_iso;  // 2026-07-01T09:00:00+01:00
    std::string abbreviation;
    std::string utc_offset;
    bool dst = false;
    seconds offset{0};
};

ZoneMoment describe(const date::time_zone* zone, date::sys_seconds when) {
    const date::sys_info info = zone->get_info(when);
    ZoneMoment m;
    m.zone = std::string(zone->name());
    m.abbreviation = info.abbrev;
    m.offset = info.offset;
    m.utc_offset = offset_text(info.offset);
    m.dst = info.save != minutes(0);
    const auto local = date::local_seconds{(when + info.offset).time_since_epoch()};
    m.local_iso = date::format("%FT%T", local) + m.utc_offset;
    return m;
}

json moment_json(const ZoneMoment& m) {
    return {{"timezone", m.zone}, {"datetime", m.local_iso}, {"abbreviation", m.abbreviation},
            {"utc_offset", m.utc_offset}, {"is_dst", m.dst}};
}

// An IANA name as typed, a zone whose city part is the name, or a city the servers know
// ("Mumbai" -> Asia/Kolkata): callers (and the client's router) may name a place instead.
const date::time_zone* zone_or_null(const std::string& name) {
    std::string found = find_time_zone(name);
    if (found.empty()) found = time_zone_of_city(name);
    if (found.empty())
        if (auto city = find_city(name)) found = city->time_zone;
    if (found.empty()) return nullptr;
    try {
        return date::locate_zone(found);
    } catch (const std::exception&) {
        return nullptr;
    }
}

ToolResult unknown_zone(const std::string& name) {
    std::string message = "unknown time zone '" + name + "'";
    auto similar = similar_time_zones(name);
    if (!similar.empty()) {
        message += " (did you mean ";
        for (size_t i = 0; i < similar.size(); ++i) message += (i ? ", " : "") + similar[i];
        message += "?)";
    }
    return ToolResult::error(message + "; use an IANA name such as Europe/London or America/New_York");
}

// "HH:MM" (today in the source zone) or "YYYY-MM-DDTHH:MM[:SS]" (local, no offset).
bool parse_local_time(const std::string& text, const date::time_zone* zone, date::sys_seconds now,
                      date::local_seconds& out) {
    int year, month, day, hour, minute, second = 0;
    char tail = 0;
    if (std::sscanf(text.c_str(), "%2d:%2d%c", &hour, &minute, &tail) == 2 && text.size() == 5) {
        if (hour > 23 || minute > 59) return false;
        const auto local_now = zone->to_local(now);
        const auto today = date::floor<date::days>(local_now);
        out = today + std::chrono::hours(hour) + minutes(minute);
        return true;
    }
    int n = std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &year, &month, &day, &hour, &minute, &second, &tail);
    if ((n == 5 && text.size() == 16) || (n == 6 && text.size() == 19)) {
        const date::year_month_day ymd{date::year{year}, date::month{static_cast<unsigned>(month)}, date::day{static_cast<unsigned>(day)}};
        if (!ymd.ok() || hour > 23 || minute > 59 || second > 59) return false;
        out = date::local_days{ymd} + std::chrono::hours(hour) + minutes(minute) + seconds(second);
        return true;
    }
    return false;
}

json zone_schema(const std::string& description) {
    return {{"type", "string"}, {"description", description}};
}

// Completion for a time-zone argument: IANA names, then the cities the servers know.
mcp::Completer zone_completer() {
    auto candidates = std::make_shared<std::vector<std::string>>();
    for (const auto& zone : date::get_tzdb().zones) candidates->emplace_back(zone.name());
    for (const auto& city : city_names()) candidates->push_back(city);
    return [candidates](const std::string& partial, const json&) { return mcp::complete_from(*candidates, partial); };
}

}  // namespace

void add_datetime_tools(mcp::ToolRegistry& registry, Clock clock) {
    const json moment_schema = mcp::object_schema({{"timezone", {{"type", "string"}}},
                                                   {"datetime", {{"type", "string"}}},
                                                   {"abbreviation", {{"type", "string"}}},
                                                   {"utc_offset", {{"type", "string"}}},
                                                   {"is_dst", {{"type", "boolean"}}}},
                                                  {"timezone", "datetime", "utc_offset", "is_dst"}, false);

    registry.add(mcp::Tool{
        "get_current_time",
        "Current time",
        "Current local time in an IANA time zone: ISO 8601 time, zone abbreviation, UTC offset and whether "
        "daylight saving time is in effect.",
        mcp::object_schema({{"timezone", zone_schema("IANA time zone name or a city, e.g. Asia/Tokyo or Mumbai (default UTC)")}}),
        moment_schema,
        [clock](const json& arguments, const mcp::ToolCallContext&) {
            const std::string name = arguments.value("timezone", "UTC");
            const date::time_zone* zone = zone_or_null(name);
            if (!zone) return unknown_zone(name);
            const auto now = date::floor<seconds>(clock());
            ZoneMoment m = describe(zone, now);
            std::string text = "It is " + m.local_iso + " in " + m.zone + " (" + m.abbreviation + ", UTC" + m.utc_offset +
                               (m.dst ? ", daylight saving time" : "") + ").";
            return ToolResult::structured_result(moment_json(m), text);
        }});

    registry.add(mcp::Tool{
        "convert_time",
        "Convert time",
        "Converts a local time from one IANA time zone to another. time is HH:MM (today in the source zone) "
        "or a local ISO 8601 date-time YYYY-MM-DDTHH:MM[:SS].",
        mcp::object_schema({{"time", {{"type", "string"}, {"description", "HH:MM or YYYY-MM-DDTHH:MM[:SS], local to from_timezone"}}},
                            {"from_timezone", zone_schema("IANA time zone or city of the given time, e.g. Europe/London or London")},
                            {"to_timezone", zone_schema("IANA time zone or city to convert to, e.g. Australia/Sydney or Sydney")}},
                           {"time", "from_timezone", "to_timezone"}),
        mcp::object_schema({{"source", moment_schema}, {"target", moment_schema}, {"time_difference", {{"type", "string"}}}},
                           {"source", "target", "time_difference"}, false),
        [clock](const json& arguments, const mcp::ToolCallContext&) {
            const std::string time_text = arguments.at("time").get<std::string>();
            const std::string from_name = arguments.at("from_timezone").get<std::string>();
            const std::string to_name = arguments.at("to_timezone").get<std::string>();
            const date::time_zone* from = zone_or_null(from_name);
            if (!from) return unknown_zone(from_name);
            const date::time_zone* to = zone_or_null(to_name);
            if (!to) return unknown_zone(to_name);
            date::local_seconds local;
            if (!parse_local_time(time_text, from, date::floor<seconds>(clock()), local))
                return ToolResult::error("bad time '" + time_text + "': use HH:MM or YYYY-MM-DDTHH:MM[:SS]");
            const date::local_info info = from->get_info(local);
            std::string note;
            if (info.result == date::local_info::nonexistent)
                return ToolResult::error(date::format("%FT%T", local) + " does not exist in " + std::string(from->name()) +
                                         " (the clocks skip it at a daylight saving change)");
            date::sys_seconds instant{(local - info.first.offset).time_since_epoch()};
            if (info.result == date::local_info::ambiguous)
                note = " (that local time happens twice at the daylight saving change; the earlier one is used)";
            ZoneMoment source = describe(from, instant);
            ZoneMoment target = describe(to, instant);
            const std::string difference = hours_text(target.offset - source.offset);
            json data = {{"source", moment_json(source)}, {"target", moment_json(target)}, {"time_difference", difference}};
            std::string text = source.local_iso + " in " + source.zone + " (" + source.abbreviation + ") is " +
                               target.local_iso + " in " + target.zone + " (" + target.abbreviation + "), " +
                               difference + note + ".";
            return ToolResult::structured_result(data, text);
        }});
}

void add_datetime_content(mcp::ResourceRegistry& resources, mcp::PromptRegistry& prompts, Clock clock) {
    const mcp::Completer zones = zone_completer();
    resources.add(mcp::ResourceTemplate{
        "datetime://now/{timezone}", "current-time", "Current time in a zone",
        "The current local time in an IANA time zone (or a city), as JSON", "application/json",
        [clock](const std::string& uri, const std::map<std::string, std::string>& variables) {
            const date::time_zone* zone = zone_or_null(variables.at("timezone"));
            if (!zone) throw mcp::ResourceNotFound("unknown time zone '" + variables.at("timezone") + "'");
            return json::array({mcp::text_resource_contents(uri, "application/json",
                                                            moment_json(describe(zone, date::floor<seconds>(clock()))).dump())});
        },
        {{"timezone", zones}}});
    prompts.add(mcp::Prompt{
        "convert_time", "Convert a time", "Asks what a local time in one zone is in another",
        {{"time", "HH:MM or YYYY-MM-DDTHH:MM, local to from_timezone", true, nullptr},
         {"from_timezone", "IANA time zone or city of the given time", true, zones},
         {"to_timezone", "IANA time zone or city to convert to", true, zones}},
        [](const std::map<std::string, std::string>& args) {
            return json{{"messages", {mcp::prompt_message("user", mcp::text_content("What is " + args.at("time") + " in " + args.at("from_timezone") +
                                                                                  " in " + args.at("to_timezone") + "? Use the convert_time tool."))}}};
        }});
}

server::ServerDescription datetime_server() {
    return {"datetime-server", "datetime", "Date and time", 8444,
            "Current time in any IANA time zone and conversions between zones, using the IANA time-zone database.",
            [](mcp::ToolRegistry& registry) { add_datetime_tools(registry); },
            [](mcp::ResourceRegistry& resources, mcp::PromptRegistry& prompts) { add_datetime_content(resources, prompts); }};
}

}  // namespace mcpmtls::services
