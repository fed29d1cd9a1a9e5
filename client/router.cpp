#include "client/router.hpp"

#include "common/strings.hpp"
#include "common/time_zones.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <regex>
#include <set>

namespace mcpmtls::client {
namespace {

using nlohmann::json;

const std::set<std::string>& stopwords() {
    static const std::set<std::string> words = {
        "what", "whats", "s", "is", "the", "a", "an", "it", "in", "for", "of", "at", "to", "from", "me", "please",
        "tell", "give", "show", "how", "now", "right", "and", "i", "you", "do", "does", "be", "are", "with", "on",
        "by", "my", "can", "could", "will", "would", "there", "this", "that", "get", "like", "current", "currently",
        "returns", "return", "e", "g", "or", "name", "optionally", "default", "which", "when", "its", "as", "into",
        "one", "another", "any", "given", "use", "useful", "test", "built", "provider", "simulates", "offline",
        "plausible", "normals", "climate", "other", "next", "each", "daily"};
    return words;
}

// Words that mean the same thing to a person asking, folded onto the words tools use.
const std::map<std::string, std::vector<std::string>>& synonyms() {
    static const std::map<std::string, std::vector<std::string>> table = {
        {"temperature", {"weather"}}, {"rain", {"weather"}},      {"raining", {"weather"}}, {"sunny", {"weather"}},
        {"hot", {"weather"}},         {"cold", {"weather"}},      {"snow", {"weather"}},    {"wind", {"weather"}},
        {"clock", {"time"}},          {"hour", {"time"}},         {"o'clock", {"time"}},    {"date", {"time"}},
        {"tomorrow", {"forecast"}},   {"week", {"forecast"}},     {"days", {"forecast"}},   {"day", {"forecast"}},
        {"repeat", {"echo"}},         {"say", {"echo"}},          {"parrot", {"echo"}},     {"timezone", {"zone"}},
        {"zones", {"zone"}},          {"translate", {"convert"}}, {"conversion", {"convert"}},
    };
    return table;
}

std::string stem(std::string word) {
    if (word.size() > 4 && ends_with(word, "ing")) word.resize(word.size() - 3);
    else if (word.size() > 3 && ends_with(word, "es") && !ends_with(word, "ses")) word.resize(word.size() - 2);
    else if (word.size() > 3 && word.back() == 's' && !ends_with(word, "ss")) word.pop_back();
    return word;
}

std::vector<std::string> words_of(const std::string& text) {
    std::vector<std::string> words;
    std::string current;
    auto flush = [&] {
        if (!current.empty()) words.push_back(current);
        current.clear();
    };
    for (size_t i = 0; i < text.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        // camelCase and snake_case split into words
        if (std::isupper(c) && !current.empty() && std::islower(static_cast<unsigned char>(current.back()))) flush();
        if (std::isalnum(c) || c >= 0x80) current.push_back(static_cast<char>(std::tolower(c)));
        else flush();
    }
    flush();
    return words;
}

std::set<std::string> concepts_of(const std::string& text) {
    std::set<std::string> out;
    for (const auto& word : words_of(text)) {
        if (stopwords().count(word)) continue;
        out.insert(stem(word));
        auto it = synonyms().find(word);
        if (it != synonyms().end())
            for (const auto& s : it->second) out.insert(s);
    }
    return out;
}

// How well a question part matches a tool: its name counts most, then title, then description.
int score_tool(const std::set<std::string>& question, const json& tool) {
    int score = 0;
    auto weigh = [&](const std::string& text, int weight) {
        for (const auto& concept : concepts_of(text))
            if (question.count(concept)) score += weight;
    };
    weigh(tool.value("name", ""), 4);
    weigh(tool.value("title", ""), 2);
    weigh(tool.value("description", ""), 1);
    return score;
}

std::optional<std::string> find_time(const std::string& text) {
    std::smatch m;
    static const std::regex iso(R"((\d{4}-\d{2}-\d{2}T\d{1,2}:\d{2}(:\d{2})?))");
    if (std::regex_search(text, m, iso)) return m[1].str();
    static const std::regex clock(R"((^|[^\d:])(\d{1,2}):(\d{2})\s*(am|pm|AM|PM)?)");
    static const std::regex meridiem(R"((^|\D)(\d{1,2})\s*(am|pm|AM|PM)\b)");
    int hour = -1, minute = 0;
    std::string suffix;
    if (std::regex_search(text, m, clock)) {
        hour = std::stoi(m[2].str());
        minute = std::stoi(m[3].str());
        suffix = to_lower(m[4].str());
    } else if (std::regex_search(text, m, meridiem)) {
        hour = std::stoi(m[2].str());
        suffix = to_lower(m[3].str());
    } else {
        return std::nullopt;
    }
    if (suffix == "pm" && hour < 12) hour += 12;
    if (suffix == "am" && hour == 12) hour = 0;
    if (hour > 23 || minute > 59) return std::nullopt;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%02d:%02d", hour, minute);
    return std::string(buf);
}

std::optional<long> find_number(const std::string& text, const std::string& unit_hint) {
    std::smatch m;
    if (!unit_hint.empty()) {
        // At most six digits, preceded by a non-digit: a longer run is not a count anyone means,
        // and std::stol would throw on it (found by the router fuzz target).
        std::regex with_unit("(^|\\D)(\\d{1,6})\\s*-?\\s*" + unit_hint);
        if (std::regex_search(text, m, with_unit)) return std::stol(m[2].str());
    }
    static const std::regex bare(R"((^|[^\d:.-])(\d{1,6})(?![\d:]))");
    if (std::regex_search(text, m, bare)) return std::stol(m[2].str());
    return std::nullopt;
}

const std::set<std::string>& place_stops() {
    static const std::set<std::string> stops = {"for", "and", "from", "to", "today", "tomorrow", "now", "right", "please",
                                                "this", "next", "in", "at", "on", "with", "the", "days", "day", "then", "also"};
    return stops;
}

// The words after `after` (e.g. "in", "for", "from") that look like a place: they run to the
// next stop word, digit or punctuation.
std::vector<std::string> places_after(const std::string& text, const std::set<std::string>& prepositions) {
    std::vector<std::string> tokens;
    {
        std::string current;
        for (char ch : text) {
            unsigned char c = static_cast<unsigned char>(ch);
            if (std::isalnum(c) || c >= 0x80 || c == '\'' || c == '-' || c == '.' || c == '/' || c == '_') current.push_back(ch);
            else {
                if (!current.empty()) tokens.push_back(current);
                current.clear();
                if (c == '?' || c == ',' || c == ';' || c == '!') tokens.push_back(std::string(1, ch));
            }
        }
        if (!current.empty()) tokens.push_back(current);
    }
    std::vector<std::string> places;
    for (size_t i = 0; i < tokens.size(); ++i) {
        if (!prepositions.count(to_lower(tokens[i]))) continue;
        std::string place;
        for (size_t j = i + 1; j < tokens.size(); ++j) {
            const std::string word = tokens[j];
            const std::string lower = to_lower(word);
            if (place_stops().count(lower) && !(place.empty() && lower == "the")) break;
            if (lower == "the" && place.empty()) continue;
            if (std::isdigit(static_cast<unsigned char>(word[0])) || word == "?" || word == "," || word == ";" || word == "!") break;
            while (!place.empty() && !word.empty() && false) {}
            place += (place.empty() ? "" : " ") + word;
        }
        while (!place.empty() && (place.back() == '.' || place.back() == '\'')) place.pop_back();
        if (!place.empty()) places.push_back(place);
    }
    return places;
}

// A place -> IANA zone, from the time-zone database: an IANA name typed as is, or a zone whose
// city part is the place ("New York" -> America/New_York). A place the database does not name
// ("Mumbai") is passed on as it is to a zone argument whose description says it takes a city:
// the server knows its places.
std::string zone_for_place(const std::string& place, bool server_takes_cities) {
    std::string zone = find_time_zone(place);
    if (zone.empty()) zone = time_zone_of_city(place);
    if (zone.empty() && server_takes_cities) zone = place;
    return zone;
}

bool takes_cities(const json& property) { return to_lower(property.value("description", "")).find("city") != std::string::npos; }

enum class Role { zone, from_zone, to_zone, place, from_place, to_place, time, number, text, other };

Role role_of(const std::string& name, const json& property) {
    const std::string n = to_lower(name);
    const std::string d = to_lower(property.value("description", ""));
    const std::string type = property.value("type", "string");
    const bool zone = n.find("timezone") != std::string::npos || n.find("zone") != std::string::npos ||
                      d.find("time zone") != std::string::npos || d.find("iana") != std::string::npos;
    const bool from = starts_with(n, "from") || starts_with(n, "source");
    const bool to = starts_with(n, "to_") || starts_with(n, "target") || n == "to";
    if (zone) return from ? Role::from_zone : to ? Role::to_zone : Role::zone;
    if (type == "integer" || type == "number") return Role::number;
    if (n == "time" || n == "datetime" || d.find("hh:mm") != std::string::npos) return Role::time;
    if (n == "city" || n == "location" || n == "place" || d.find("city") != std::string::npos)
        return from ? Role::from_place : to ? Role::to_place : Role::place;
    if (n == "message" || n == "text" || n == "prompt" || n == "query" || d.find("text") != std::string::npos) return Role::text;
    return Role::other;
}

// The free text a message-like argument carries: what follows the tool's trigger word.
std::optional<std::string> text_after_trigger(const std::string& question, const json& tool) {
    std::set<std::string> triggers;
    for (const auto& w : words_of(tool.value("name", ""))) triggers.insert(w);
    for (const auto& w : words_of(tool.value("title", ""))) triggers.insert(w);
    for (const auto& [word, meanings] : synonyms())
        for (const auto& meaning : meanings)
            if (triggers.count(meaning)) triggers.insert(word);
    std::string lowered = to_lower(question);
    size_t best = std::string::npos;
    size_t best_len = 0;
    for (const auto& trigger : triggers) {
        std::regex word("\\b" + trigger + "\\b[:,]?\\s*");
        std::smatch m;
        if (std::regex_search(lowered, m, word) && static_cast<size_t>(m.position(0)) < best) {
            best = static_cast<size_t>(m.position(0));
            best_len = static_cast<size_t>(m.length(0));
        }
    }
    if (best == std::string::npos) return std::nullopt;
    std::string text = trim(question.substr(best + best_len));
    if (text.size() >= 2 && (text.front() == '"' || text.front() == '\'') && text.back() == text.front())
        text = text.substr(1, text.size() - 2);
    if (text.empty()) return std::nullopt;
    return text;
}

struct Candidate {
    PlannedCall call;
    int score = 0;
    bool free_text = false;  // takes the rest of the question as its argument
};

std::optional<Candidate> fill(const ToolInfo& info, const std::string& part, int score) {
    const json schema = info.tool.value("inputSchema", json::object());
    const json properties = schema.value("properties", json::object());
    const json required = schema.value("required", json::array());
    auto is_required = [&](const std::string& name) { return std::find(required.begin(), required.end(), name) != required.end(); };

    Candidate candidate;
    candidate.score = score;
    candidate.call.server = info.server;
    candidate.call.tool = info.tool.value("name", "");
    candidate.call.question_part = part;
    candidate.call.arguments = json::object();

    const auto places_in = places_after(part, {"in", "for", "at", "of"});
    const auto places_from = places_after(part, {"from"});
    const auto places_to = places_after(part, {"to", "into"});
    for (auto it = properties.begin(); it != properties.end(); ++it) {
        const std::string& name = it.key();
        json value;
        switch (role_of(name, it.value())) {
            case Role::zone:
                for (const auto& place : places_in)
                    if (auto zone = zone_for_place(place, takes_cities(it.value())); !zone.empty()) {
                        value = zone;
                        break;
                    }
                break;
            case Role::from_zone:
                if (!places_from.empty()) {
                    auto zone = zone_for_place(places_from.front(), takes_cities(it.value()));
                    if (!zone.empty()) value = zone;
                }
                break;
            case Role::to_zone:
                if (!places_to.empty()) {
                    auto zone = zone_for_place(places_to.back(), takes_cities(it.value()));
                    if (!zone.empty()) value = zone;
                }
                break;
            case Role::place:
                if (!places_in.empty()) value = places_in.front();
                break;
            case Role::from_place:
                if (!places_from.empty()) value = places_from.front();
                break;
            case Role::to_place:
                if (!places_to.empty()) value = places_to.back();
                break;
            case Role::time:
                if (auto t = find_time(part)) value = *t;
                break;
            case Role::number: {
                std::string unit = stem(to_lower(name));
                if (auto n = find_number(part, unit)) {
                    const json& p = it.value();
                    long v = *n;
                    if (p.contains("minimum") && p["minimum"].is_number() && v < p["minimum"].get<long>()) break;
                    if (p.contains("maximum") && p["maximum"].is_number() && v > p["maximum"].get<long>()) break;
                    value = v;
                }
                break;
            }
            case Role::text:
                if (auto text = text_after_trigger(part, info.tool)) {
                    value = *text;
                    candidate.free_text = true;
                }
                break;
            case Role::other: {
                // An identifier-like argument (a ticker, a code): an all-capitals word, or what
                // follows "of"/"for".
                std::smatch m;
                static const std::regex caps(R"(\b([A-Z][A-Z0-9.]{1,9})\b)");
                if (std::regex_search(part, m, caps)) value = m[1].str();
                else if (!places_in.empty()) value = places_in.front();
                break;
            }
        }
        if (!value.is_null()) candidate.call.arguments[name] = value;
        else if (is_required(name)) return std::nullopt;
    }
    return candidate;
}

std::optional<Candidate> route_part(const std::string& part, const std::vector<ToolInfo>& tools) {
    const auto concepts = concepts_of(part);
    std::vector<std::pair<int, const ToolInfo*>> ranked;
    for (const auto& info : tools) {
        int score = score_tool(concepts, info.tool);
        if (score >= 2) ranked.emplace_back(score, &info);
    }
    std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    for (const auto& [score, info] : ranked)
        if (auto candidate = fill(*info, part, score)) return candidate;
    return std::nullopt;
}

std::vector<std::string> split_compound(const std::string& question) {
    static const std::regex separators(R"(\s+and\s+(then\s+)?|\s*;\s*|\s+also\s+|\s+then\s+|,\s+and\s+)", std::regex::icase);
    std::vector<std::string> parts;
    std::sregex_token_iterator it(question.begin(), question.end(), separators, -1), end;
    for (; it != end; ++it) {
        std::string part = trim(it->str());
        if (!part.empty()) parts.push_back(part);
    }
    return parts;
}

// "weather in Tokyo and what time is it there?": "there" means the last place named before it.
void resolve_there(std::vector<std::string>& parts) {
    static const std::regex there(R"(\bthere\b)", std::regex::icase);
    std::string last_place;
    for (auto& part : parts) {
        const auto places = places_after(part, {"in", "for", "at", "of"});
        if (!places.empty()) {
            last_place = places.front();
        } else if (!last_place.empty() && std::regex_search(part, there)) {
            part = std::regex_replace(part, there, "in " + last_place);
        }
    }
}

}  // namespace

RoutePlan route_question(const std::string& question, const std::vector<ToolInfo>& tools) {
    RoutePlan plan;
    const std::string q = trim(question);
    if (q.empty()) return plan;
    auto whole = route_part(q, tools);
    // "echo salt and pepper": a free-text tool named at the start takes everything after it.
    if (whole && whole->free_text) {
        plan.calls.push_back(whole->call);
        return plan;
    }
    auto parts = split_compound(q);
    resolve_there(parts);
    if (parts.size() > 1) {
        std::vector<Candidate> routed;
        for (const auto& part : parts)
            if (auto c = route_part(part, tools)) routed.push_back(*c);
        if (routed.size() == parts.size()) {
            for (auto& c : routed) plan.calls.push_back(c.call);
            return plan;
        }
        if (!whole && !routed.empty()) {
            for (const auto& part : parts) {
                auto c = route_part(part, tools);
                if (c) plan.calls.push_back(c->call);
                else plan.unmatched_parts.push_back(part);
            }
            return plan;
        }
    }
    if (whole) plan.calls.push_back(whole->call);
    return plan;
}

std::string describe_capabilities(const std::vector<ToolInfo>& tools) {
    std::string text = "I can answer questions for these tools:\n";
    for (const auto& info : tools) {
        const json& tool = info.tool;
        std::string args;
        const json props = tool.value("inputSchema", json::object()).value("properties", json::object());
        for (auto it = props.begin(); it != props.end(); ++it) args += (args.empty() ? "" : ", ") + it.key();
        text += "  " + info.server + "/" + tool.value("name", "?") + "(" + args + "): " + tool.value("description", "") + "\n";
    }
    text += "Examples: \"What's the weather in Paris?\", \"forecast for Tokyo for 3 days\", \"what time is it in New York?\",\n"
            "\"convert 09:00 from London to Sydney\", \"echo hello\". Or call a tool directly: client call SERVER TOOL key=value\n";
    return text;
}

}  // namespace mcpmtls::client
