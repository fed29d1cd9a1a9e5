#include "client/cli.hpp"

int main(int argc, char** argv) { return mcpmtls::client::run_client(argc, argv); }
