#pragma once
// World cities the servers know by name: coordinates, IANA zone and rounded climate normals.
// The weather tools simulate weather from them; the datetime tools accept a city wherever they
// take a time zone ("Mumbai" -> Asia/Kolkata), which is how the client's router learns places
// from the servers instead of carrying a table of its own.
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mcpmtls::services {

struct City {
    std::string name;
    std::string country;
    double latitude;
    double longitude;
    std::string time_zone;
    double january_mean_c;   // monthly mean temperatures, rounded climate normals
    double july_mean_c;
    double annual_precipitation_mm;
    int wettest_month;       // 1..12
};

const std::vector<City>& built_in_cities();
// Nicknames and former names -> table names (folded lower case on the left).
const std::vector<std::pair<std::string, std::string>>& city_aliases();
// The city a user's words name ("paris", "São Paulo", "nyc", "Paris, France"), or nullopt.
std::optional<City> find_city(const std::string& query);
std::vector<std::string> city_names();
// Up to `limit` city names close to `query` (for "did you mean").
std::vector<std::string> similar_cities(const std::string& query, size_t limit);

}  // namespace mcpmtls::services
