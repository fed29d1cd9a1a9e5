#pragma once
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace mcpmtls {

std::string to_hex(const uint8_t* data, size_t size, bool upper = false);
inline std::string to_hex(const std::vector<uint8_t>& bytes, bool upper = false) {
    return to_hex(bytes.data(), bytes.size(), upper);
}
// `AA:BB:...` as printed by openssl x509 -fingerprint.
std::string colon_hex(const std::string& hex);
std::string to_lower(std::string s);
std::vector<std::string> split(const std::string& s, char sep);
std::string join(const std::vector<std::string>& items, const std::string& separator);
// Equal ignoring ASCII case (header names, host names).
bool iequals(const std::string& a, const std::string& b);
// `value` equals `pattern`, or starts with what precedes a trailing '*' ("get_*", "spiffe://td/*";
// "*" alone matches anything). The one wildcard rule of identity and tool patterns.
bool wildcard_match(const std::string& pattern, const std::string& value, bool ignore_case);
std::string trim(const std::string& s);
bool starts_with(const std::string& s, const std::string& prefix);
bool ends_with(const std::string& s, const std::string& suffix);
// RFC 3986 percent-encoding: unreserved characters (ALPHA DIGIT - . _ ~) kept, every other byte
// %XX. What query strings and application/x-www-form-urlencoded bodies (OAuth) take.
std::string percent_encode(const std::string& text);

// "30d", "12h", "90m", "45s", "2w" or a bare number of days. Throws InputError.
std::chrono::seconds parse_duration(const std::string& text);
// A positive whole number within [min, max], for flags such as --days. Throws InputError.
long parse_positive(const std::string& flag, const std::string& text, long min, long max);

// RFC 3339 / ISO 8601 UTC: 2025-01-31T12:00:00Z (offsets like +02:00 are accepted on input).
std::string format_rfc3339(std::chrono::system_clock::time_point t);
std::chrono::system_clock::time_point parse_rfc3339(const std::string& text);

}  // namespace mcpmtls
