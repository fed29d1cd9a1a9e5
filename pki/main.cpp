#include "pki/cli/commands.hpp"

int main(int argc, char** argv) { return mcpmtls::pki::cli::run_pki(argc, argv); }
