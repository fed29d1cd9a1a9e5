#include "server/server_main.hpp"
#include "services/echo_tools.hpp"

int main(int argc, char** argv) { return mcpmtls::server::run_server_main(mcpmtls::services::echo_server(), argc, argv); }
