#include "common/time_zones.hpp"

#include "common/fuzzy.hpp"
#include "common/strings.hpp"

#include <algorithm>
#include <date/tz.h>

namespace mcpmtls {

std::string find_time_zone(const std::string& text) {
    const std::string wanted = trim(text);
    if (wanted.empty()) return "";
    const std::string lowered = to_lower(wanted);
    if (lowered == "utc" || lowered == "gmt" || lowered == "z" || lowered == "etc/utc") return "Etc/UTC";
    try {
        return std::string(date::locate_zone(wanted)->name());
    } catch (const std::exception&) {
    }
    for (const auto& zone : date::get_tzdb().zones)
        if (to_lower(std::string(zone.name())) == lowered) return std::string(zone.name());
    return "";
}

std::string time_zone_of_city(const std::string& place) {
    const std::string wanted = fold_name(place);
    if (wanted.empty()) return "";
    for (const auto& zone : date::get_tzdb().zones) {
        std::string name(zone.name());
        auto slash = name.rfind('/');
        std::string city = name.substr(slash == std::string::npos ? 0 : slash + 1);
        std::replace(city.begin(), city.end(), '_', ' ');
        if (fold_name(city) == wanted) return name;
    }
    return "";
}

std::vector<std::string> similar_time_zones(const std::string& text, size_t limit) {
    std::vector<std::string> names;
    for (const auto& zone : date::get_tzdb().zones) names.emplace_back(zone.name());
    return closest(text, names, limit, 3);
}

}  // namespace mcpmtls
