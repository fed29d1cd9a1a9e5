#pragma once
// Names of places and IANA time zones, from the system's time-zone database (tzdata): shared by
// the datetime tools, which resolve what a caller typed, and the client's question router,
// which turns "in New York" into a zone before it asks.
#include <string>
#include <vector>

namespace mcpmtls {

// The IANA zone `text` names ("Europe/Paris", "europe/paris", "UTC", "GMT"), or empty.
std::string find_time_zone(const std::string& text);
// The zone whose city part is `place` ("New York" -> America/New_York, "são paulo" ->
// America/Sao_Paulo), compared folded (case, accents, '_' for ' '); empty if none.
std::string time_zone_of_city(const std::string& place);
// Up to `limit` zone names close to `text` (for "did you mean").
std::vector<std::string> similar_time_zones(const std::string& text, size_t limit = 3);

}  // namespace mcpmtls
