// Command-line and configuration parsing: `pki` subcommand flags, duration and serial syntax,
// and a server's flags with its --config JSON. Input: lines; the first line picks the pki
// command, the following lines are its arguments; after a line "--config--" comes JSON text
// that a server is started with (parsed, never run).
#include "common/strings.hpp"
#include "fuzz/common.hpp"
#include "pki/certificate.hpp"
#include "pki/cli/commands.hpp"
#include "server/server_main.hpp"

#include <cstdint>
#include <string>
#include <vector>

using namespace mcpmtls;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fuzz::quiet_logging();
    static const std::vector<Command> commands = pki::cli::all_commands();
    static const server::ServerDescription server = [] {
        server::ServerDescription d;
        d.binary = "echo-server";
        d.short_name = "echo";
        d.title = "Echo";
        d.default_port = 8445;
        return d;
    }();

    const std::string input(reinterpret_cast<const char*>(data), size);
    std::string config_json;
    std::string lines_text = input;
    if (auto split = input.find("\n--config--\n"); split != std::string::npos) {
        lines_text = input.substr(0, split);
        config_json = input.substr(split + 12);
    }
    std::vector<std::string> words;
    size_t start = 0;
    while (start <= lines_text.size()) {
        size_t end = lines_text.find('\n', start);
        if (end == std::string::npos) end = lines_text.size();
        words.push_back(lines_text.substr(start, end - start));
        start = end + 1;
    }
    if (words.empty()) return 0;

    const Command& command = commands[static_cast<unsigned char>(words[0].empty() ? 0 : words[0][0]) % commands.size()];
    const std::vector<std::string> rest(words.begin() + 1, words.end());
    fuzz::expect_clean_outcome([&] { (void)command.spec.parse(rest); });
    for (const auto& word : rest) {
        fuzz::expect_clean_outcome([&] { (void)parse_duration(word); });
        fuzz::expect_clean_outcome([&] { (void)pki::normalize_serial_hex(word); });
    }
    fuzz::expect_clean_outcome([&] { server::validate_server_settings(server, rest, config_json); });
    return 0;
}
