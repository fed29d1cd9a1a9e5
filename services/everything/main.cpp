#include "server/server_main.hpp"
#include "services/everything_tools.hpp"

int main(int argc, char** argv) { return mcpmtls::server::run_server_main(mcpmtls::services::everything_server(), argc, argv); }
