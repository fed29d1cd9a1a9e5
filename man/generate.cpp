// build/man-pages [--check] DIR: rewrites the generated parts of DIR's man pages (see
// man/pages.hpp); with --check, changes nothing and exits 1 naming each page that is stale.
#include "man/pages.hpp"

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

int main(int argc, char** argv) {
    const bool check = argc == 3 && std::string(argv[1]) == "--check";
    if (argc != 2 && !check) {
        std::cerr << "usage: man-pages [--check] DIR\n";
        return 2;
    }
    const std::string dir = argv[argc - 1];
    int stale = 0;
    try {
        for (const auto& [page, parts] : mcpmtls::man::generated_parts()) {
            const std::string path = dir + "/" + page;
            std::ifstream in(path);
            if (!in) throw std::runtime_error("cannot read " + path);
            std::stringstream text;
            text << in.rdbuf();
            const std::string fresh = mcpmtls::man::refresh(text.str(), parts);
            if (fresh == text.str()) continue;
            ++stale;
            if (check) {
                std::cerr << path << " differs from the option rows: run make man\n";
                continue;
            }
            std::ofstream(path) << fresh;
            std::cout << "updated " << path << "\n";
        }
    } catch (const std::exception& e) {
        std::cerr << "man-pages: " << e.what() << "\n";
        return 1;
    }
    return check && stale ? 1 : 0;
}
