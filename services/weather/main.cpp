#include "server/server_main.hpp"
#include "services/weather_tools.hpp"

int main(int argc, char** argv) { return mcpmtls::server::run_server_main(mcpmtls::services::weather_server(), argc, argv); }
