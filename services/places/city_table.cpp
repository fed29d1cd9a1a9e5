// World cities with coordinates, IANA zone and rounded climate normals: mean temperature of
// January and July (°C), annual precipitation (mm) and the wettest month. The figures are
// rounded 1991-2020 style normals as commonly published (national met services, WMO), good
// enough for a plausible simulation; they are not observations.
#include "services/places.hpp"

#include "common/fuzzy.hpp"

namespace mcpmtls::services {

const std::vector<City>& built_in_cities() {
    static const std::vector<City> cities = {
        {"Amsterdam", "Netherlands", 52.37, 4.90, "Europe/Amsterdam", 3.6, 17.9, 840, 10},
        {"Anchorage", "United States", 61.22, -149.90, "America/Anchorage", -8.0, 15.3, 420, 8},
        {"Athens", "Greece", 37.98, 23.73, "Europe/Athens", 10.0, 28.5, 380, 12},
        {"Auckland", "New Zealand", -36.85, 174.76, "Pacific/Auckland", 20.0, 11.0, 1200, 7},
        {"Bangkok", "Thailand", 13.76, 100.50, "Asia/Bangkok", 27.0, 29.0, 1650, 9},
        {"Barcelona", "Spain", 41.39, 2.17, "Europe/Madrid", 10.0, 25.0, 590, 10},
        {"Beijing", "China", 39.90, 116.41, "Asia/Shanghai", -3.1, 27.0, 570, 7},
        {"Berlin", "Germany", 52.52, 13.40, "Europe/Berlin", 1.0, 19.5, 590, 6},
        {"Bogotá", "Colombia", 4.71, -74.07, "America/Bogota", 13.5, 13.5, 1000, 10},
        {"Boston", "United States", 42.36, -71.06, "America/New_York", -1.5, 23.0, 1100, 11},
        {"Brussels", "Belgium", 50.85, 4.35, "Europe/Brussels", 3.5, 18.5, 850, 12},
        {"Budapest", "Hungary", 47.50, 19.04, "Europe/Budapest", 0.0, 22.0, 560, 6},
        {"Buenos Aires", "Argentina", -34.60, -58.38, "America/Argentina/Buenos_Aires", 24.5, 11.0, 1240, 3},
        {"Cairo", "Egypt", 30.04, 31.24, "Africa/Cairo", 14.0, 28.5, 25, 1},
        {"Cape Town", "South Africa", -33.92, 18.42, "Africa/Johannesburg", 21.5, 12.5, 520, 6},
        {"Casablanca", "Morocco", 33.57, -7.59, "Africa/Casablanca", 12.5, 22.5, 430, 12},
        {"Chicago", "United States", 41.88, -87.63, "America/Chicago", -4.0, 24.0, 950, 6},
        {"Copenhagen", "Denmark", 55.68, 12.57, "Europe/Copenhagen", 1.5, 17.5, 600, 8},
        {"Dallas", "United States", 32.78, -96.80, "America/Chicago", 8.5, 30.0, 950, 5},
        {"Delhi", "India", 28.61, 77.21, "Asia/Kolkata", 14.0, 31.5, 790, 7},
        {"Denver", "United States", 39.74, -104.99, "America/Denver", 0.0, 23.5, 400, 5},
        {"Dhaka", "Bangladesh", 23.81, 90.41, "Asia/Dhaka", 19.0, 29.0, 2100, 7},
        {"Dubai", "United Arab Emirates", 25.20, 55.27, "Asia/Dubai", 19.5, 36.0, 95, 2},
        {"Dublin", "Ireland", 53.35, -6.26, "Europe/Dublin", 5.5, 15.5, 760, 12},
        {"Edinburgh", "United Kingdom", 55.95, -3.19, "Europe/London", 4.0, 15.0, 700, 10},
        {"Frankfurt", "Germany", 50.11, 8.68, "Europe/Berlin", 1.5, 20.0, 630, 6},
        {"Geneva", "Switzerland", 46.20, 6.14, "Europe/Zurich", 1.5, 20.5, 1000, 9},
        {"Hanoi", "Vietnam", 21.03, 105.85, "Asia/Ho_Chi_Minh", 16.5, 29.5, 1680, 8},
        {"Havana", "Cuba", 23.11, -82.37, "America/Havana", 22.0, 28.0, 1190, 9},
        {"Helsinki", "Finland", 60.17, 24.94, "Europe/Helsinki", -4.0, 17.8, 650, 8},
        {"Hong Kong", "China", 22.32, 114.17, "Asia/Hong_Kong", 16.5, 29.0, 2400, 8},
        {"Honolulu", "United States", 21.31, -157.86, "Pacific/Honolulu", 23.0, 27.5, 430, 12},
        {"Houston", "United States", 29.76, -95.37, "America/Chicago", 12.0, 29.5, 1260, 6},
        {"Istanbul", "Turkey", 41.01, 28.98, "Europe/Istanbul", 6.0, 24.0, 820, 12},
        {"Jakarta", "Indonesia", -6.21, 106.85, "Asia/Jakarta", 27.0, 28.0, 1800, 1},
        {"Johannesburg", "South Africa", -26.20, 28.05, "Africa/Johannesburg", 20.0, 10.5, 710, 1},
        {"Karachi", "Pakistan", 24.86, 67.01, "Asia/Karachi", 19.0, 30.5, 175, 7},
        {"Kathmandu", "Nepal", 27.72, 85.32, "Asia/Kathmandu", 10.5, 24.5, 1500, 7},
        {"Kuala Lumpur", "Malaysia", 3.14, 101.69, "Asia/Kuala_Lumpur", 27.0, 28.0, 2600, 11},
        {"Kyiv", "Ukraine", 50.45, 30.52, "Europe/Kyiv", -3.5, 20.5, 620, 7},
        {"Lagos", "Nigeria", 6.52, 3.38, "Africa/Lagos", 27.5, 25.5, 1700, 6},
        {"Lima", "Peru", -12.05, -77.04, "America/Lima", 23.0, 16.5, 15, 8},
        {"Lisbon", "Portugal", 38.72, -9.14, "Europe/Lisbon", 11.5, 23.5, 720, 12},
        {"London", "United Kingdom", 51.51, -0.13, "Europe/London", 5.5, 19.0, 620, 10},
        {"Los Angeles", "United States", 34.05, -118.24, "America/Los_Angeles", 14.5, 23.0, 360, 2},
        {"Madrid", "Spain", 40.42, -3.70, "Europe/Madrid", 6.5, 26.0, 420, 4},
        {"Manila", "Philippines", 14.60, 120.98, "Asia/Manila", 26.0, 28.0, 1800, 8},
        {"Melbourne", "Australia", -37.81, 144.96, "Australia/Melbourne", 21.0, 10.5, 600, 10},
        {"Mexico City", "Mexico", 19.43, -99.13, "America/Mexico_City", 14.5, 17.5, 820, 7},
        {"Miami", "United States", 25.76, -80.19, "America/New_York", 20.5, 29.5, 1570, 8},
        {"Milan", "Italy", 45.46, 9.19, "Europe/Rome", 3.0, 24.5, 950, 10},
        {"Montreal", "Canada", 45.50, -73.57, "America/Toronto", -9.5, 21.5, 1000, 8},
        {"Moscow", "Russia", 55.76, 37.62, "Europe/Moscow", -6.5, 19.5, 700, 7},
        {"Mumbai", "India", 19.08, 72.88, "Asia/Kolkata", 24.5, 27.5, 2200, 7},
        {"Munich", "Germany", 48.14, 11.58, "Europe/Berlin", 0.0, 19.0, 950, 6},
        {"Nairobi", "Kenya", -1.29, 36.82, "Africa/Nairobi", 19.5, 16.0, 870, 4},
        {"New Orleans", "United States", 29.95, -90.07, "America/Chicago", 12.0, 28.5, 1600, 6},
        {"New York", "United States", 40.71, -74.01, "America/New_York", 1.0, 25.5, 1170, 7},
        {"Osaka", "Japan", 34.69, 135.50, "Asia/Tokyo", 6.0, 28.0, 1280, 6},
        {"Oslo", "Norway", 59.91, 10.75, "Europe/Oslo", -3.0, 17.0, 790, 8},
        {"Paris", "France", 48.86, 2.35, "Europe/Paris", 5.0, 20.5, 640, 5},
        {"Perth", "Australia", -31.95, 115.86, "Australia/Perth", 24.5, 13.5, 730, 6},
        {"Phoenix", "United States", 33.45, -112.07, "America/Phoenix", 13.5, 35.0, 200, 8},
        {"Prague", "Czechia", 50.08, 14.44, "Europe/Prague", -0.5, 19.0, 520, 7},
        {"Reykjavik", "Iceland", 64.15, -21.94, "Atlantic/Reykjavik", 0.0, 11.5, 850, 10},
        {"Riyadh", "Saudi Arabia", 24.71, 46.68, "Asia/Riyadh", 15.0, 36.5, 100, 4},
        {"Rio de Janeiro", "Brazil", -22.91, -43.17, "America/Sao_Paulo", 27.0, 22.0, 1200, 12},
        {"Rome", "Italy", 41.90, 12.50, "Europe/Rome", 8.0, 25.0, 800, 11},
        {"San Francisco", "United States", 37.77, -122.42, "America/Los_Angeles", 11.0, 17.5, 600, 1},
        {"Santiago", "Chile", -33.45, -70.67, "America/Santiago", 21.5, 8.5, 310, 6},
        {"São Paulo", "Brazil", -23.55, -46.63, "America/Sao_Paulo", 23.0, 16.5, 1450, 1},
        {"Seattle", "United States", 47.61, -122.33, "America/Los_Angeles", 5.5, 19.5, 950, 11},
        {"Seoul", "South Korea", 37.57, 126.98, "Asia/Seoul", -2.0, 25.5, 1450, 7},
        {"Shanghai", "China", 31.23, 121.47, "Asia/Shanghai", 5.0, 29.0, 1200, 6},
        {"Singapore", "Singapore", 1.35, 103.82, "Asia/Singapore", 26.5, 28.0, 2340, 12},
        {"Stockholm", "Sweden", 59.33, 18.07, "Europe/Stockholm", -1.0, 18.0, 540, 7},
        {"Sydney", "Australia", -33.87, 151.21, "Australia/Sydney", 23.5, 13.0, 1150, 6},
        {"Taipei", "Taiwan", 25.03, 121.57, "Asia/Taipei", 16.5, 30.0, 2400, 8},
        {"Tehran", "Iran", 35.69, 51.39, "Asia/Tehran", 4.0, 31.0, 230, 3},
        {"Tel Aviv", "Israel", 32.09, 34.78, "Asia/Jerusalem", 13.5, 27.0, 530, 1},
        {"Tokyo", "Japan", 35.68, 139.69, "Asia/Tokyo", 5.5, 26.0, 1530, 9},
        {"Toronto", "Canada", 43.65, -79.38, "America/Toronto", -5.0, 22.5, 830, 7},
        {"Vancouver", "Canada", 49.28, -123.12, "America/Vancouver", 4.0, 18.0, 1190, 11},
        {"Vienna", "Austria", 48.21, 16.37, "Europe/Vienna", 0.5, 21.0, 650, 7},
        {"Warsaw", "Poland", 52.23, 21.01, "Europe/Warsaw", -1.5, 19.5, 530, 7},
        {"Washington", "United States", 38.91, -77.04, "America/New_York", 2.5, 27.0, 1040, 5},
        {"Wellington", "New Zealand", -41.29, 174.78, "Pacific/Auckland", 17.5, 9.0, 1250, 6},
        {"Zurich", "Switzerland", 47.38, 8.54, "Europe/Zurich", 0.5, 19.0, 1100, 6},
    };
    return cities;
}

const std::vector<std::pair<std::string, std::string>>& city_aliases() {
    static const std::vector<std::pair<std::string, std::string>> aliases = {
        {"nyc", "New York"},       {"new york city", "New York"}, {"la", "Los Angeles"},
        {"sf", "San Francisco"},   {"rio", "Rio de Janeiro"},     {"kiev", "Kyiv"},
        {"bombay", "Mumbai"},      {"new delhi", "Delhi"},        {"peking", "Beijing"},
        {"washington dc", "Washington"}, {"washington d c", "Washington"},
        {"hk", "Hong Kong"},       {"cdmx", "Mexico City"},
    };
    return aliases;
}

std::optional<City> find_city(const std::string& query) {
    std::string wanted = fold_name(query.substr(0, query.find(',')));
    for (const auto& [alias, name] : city_aliases())
        if (wanted == alias) wanted = fold_name(name);
    for (const auto& city : built_in_cities())
        if (fold_name(city.name) == wanted) return city;
    return std::nullopt;
}

std::vector<std::string> city_names() {
    std::vector<std::string> names;
    for (const auto& city : built_in_cities()) names.push_back(city.name);
    return names;
}

std::vector<std::string> similar_cities(const std::string& query, size_t limit) {
    return closest(query.substr(0, query.find(',')), city_names(), limit, 3);
}

}  // namespace mcpmtls::services
