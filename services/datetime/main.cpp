#include "server/server_main.hpp"
#include "services/datetime_tools.hpp"

int main(int argc, char** argv) { return mcpmtls::server::run_server_main(mcpmtls::services::datetime_server(), argc, argv); }
