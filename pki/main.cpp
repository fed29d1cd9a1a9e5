#include "services/pki_serve.hpp"

int main(int argc, char** argv) { return mcpmtls::services::run_pki(argc, argv); }
