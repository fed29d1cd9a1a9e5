#include "common/strings.hpp"

#include "common/error.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <sstream>

namespace mcpmtls {

std::string to_hex(const uint8_t* data, size_t size, bool upper) {
    static const char* lower_digits = "0123456789abcdef";
    static const char* upper_digits = "0123456789ABCDEF";
    const char* digits = upper ? upper_digits : lower_digits;
    std::string out;
    out.reserve(size * 2);
    for (size_t i = 0; i < size; ++i) {
        out.push_back(digits[data[i] >> 4]);
        out.push_back(digits[data[i] & 0x0f]);
    }
    return out;
}

std::string colon_hex(const std::string& hex) {
    std::string out;
    for (size_t i = 0; i < hex.size(); i += 2) {
        if (i) out.push_back(':');
        out += hex.substr(i, 2);
    }
    return out;
}

std::string to_lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> parts;
    std::string part;
    std::stringstream in(s);
    while (std::getline(in, part, sep)) parts.push_back(part);
    if (!s.empty() && s.back() == sep) parts.emplace_back();
    return parts;
}

std::string join(const std::vector<std::string>& items, const std::string& separator) {
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += separator;
        out += items[i];
    }
    return out;
}

bool iequals(const std::string& a, const std::string& b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
               return std::tolower(x) == std::tolower(y);
           });
}

bool wildcard_match(const std::string& pattern, const std::string& value, bool ignore_case) {
    const std::string p = ignore_case ? to_lower(pattern) : pattern;
    const std::string v = ignore_case ? to_lower(value) : value;
    if (!p.empty() && p.back() == '*') return starts_with(v, p.substr(0, p.size() - 1));
    return p == v;
}

std::string trim(const std::string& s) {
    auto begin = s.find_first_not_of(" \t\r\n");
    if (begin == std::string::npos) return "";
    auto end = s.find_last_not_of(" \t\r\n");
    return s.substr(begin, end - begin + 1);
}

bool starts_with(const std::string& s, const std::string& prefix) {
    return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string percent_encode(const std::string& text) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') out.push_back(static_cast<char>(c));
        else out += {'%', hex[c >> 4], hex[c & 15]};
    }
    return out;
}

std::chrono::seconds parse_duration(const std::string& text) {
    if (text.empty()) throw InputError("empty duration");
    size_t digits = 0;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
    std::string unit = text.substr(digits);
    if (digits == 0 || digits > 9 || unit.size() > 1)
        throw InputError("bad duration '" + text + "' (expected e.g. 30d, 12h, 90m, 45s, 2w)");
    long long n = std::stoll(text.substr(0, digits));
    long long factor = 86400;
    if (unit == "s") factor = 1;
    else if (unit == "m") factor = 60;
    else if (unit == "h") factor = 3600;
    else if (unit == "d" || unit.empty()) factor = 86400;
    else if (unit == "w") factor = 7 * 86400;
    else throw InputError("bad duration unit in '" + text + "' (use s, m, h, d or w)");
    return std::chrono::seconds(n * factor);
}

long parse_positive(const std::string& flag, const std::string& text, long min, long max) {
    if (text.empty() || text.size() > 9 ||
        !std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); }))
        throw InputError(flag + " needs a whole number, got '" + text + "'");
    long value = std::stol(text);
    if (value < min || value > max)
        throw InputError(flag + " must be between " + std::to_string(min) + " and " + std::to_string(max));
    return value;
}

std::string format_rfc3339(std::chrono::system_clock::time_point t) {
    std::time_t seconds = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::chrono::system_clock::time_point parse_rfc3339(const std::string& text) {
    int year, month, day, hour, minute, second;
    char sep;
    int consumed = 0;
    if (std::sscanf(text.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d%n", &year, &month, &day, &sep, &hour, &minute,
                    &second, &consumed) != 7 ||
        (sep != 'T' && sep != 't' && sep != ' '))
        throw InputError("bad time '" + text + "' (expected RFC 3339, e.g. 2025-01-31T12:00:00Z)");
    std::string rest = text.substr(static_cast<size_t>(consumed));
    if (!rest.empty() && rest[0] == '.') {  // fractional seconds are accepted and ignored
        size_t i = 1;
        while (i < rest.size() && std::isdigit(static_cast<unsigned char>(rest[i]))) ++i;
        rest = rest.substr(i);
    }
    long offset = 0;
    if (rest == "Z" || rest == "z") {
        offset = 0;
    } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
        int oh = 0, om = 0;
        if (std::sscanf(rest.c_str() + 1, "%2d:%2d", &oh, &om) != 2) throw InputError("bad time offset in '" + text + "'");
        offset = (oh * 3600 + om * 60) * (rest[0] == '+' ? 1 : -1);
    } else {
        throw InputError("bad time '" + text + "' (needs Z or an offset such as +02:00)");
    }
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
        throw InputError("bad time '" + text + "'");
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    std::time_t t = timegm(&tm);
    return std::chrono::system_clock::from_time_t(t - offset);
}

}  // namespace mcpmtls
