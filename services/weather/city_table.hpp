#pragma once
#include "services/weather_tools.hpp"

#include <utility>
#include <vector>

namespace mcpmtls::services {
const std::vector<City>& built_in_cities();
// Nicknames and former names -> table names (folded lower case on the left).
const std::vector<std::pair<std::string, std::string>>& city_aliases();
}  // namespace mcpmtls::services
