#pragma once
// A small declarative command-line parser: each command states its flags, the parser rejects
// anything else with a one-line error (exit 2) and renders --help from the same table.
#include <map>
#include <string>
#include <vector>

namespace mcpmtls {

class Args {
public:
    bool has(const std::string& name) const { return values_.count(name) > 0; }
    std::string get(const std::string& name, const std::string& fallback = "") const;
    const std::vector<std::string>& all(const std::string& name) const;
    const std::vector<std::string>& positionals() const { return positionals_; }
    void drop_first_positional() {
        if (!positionals_.empty()) positionals_.erase(positionals_.begin());
    }

private:
    friend class ArgSpec;
    std::map<std::string, std::vector<std::string>> values_;
    std::vector<std::string> positionals_;
};

class ArgSpec {
public:
    // `usage` is the synopsis line, e.g. "pki issue server|client NAME [options]".
    explicit ArgSpec(std::string usage, std::string summary = "") : usage_(std::move(usage)), summary_(std::move(summary)) {}
    ArgSpec& flag(const std::string& name, const std::string& help);  // --name, no value
    ArgSpec& option(const std::string& name, const std::string& metavar, const std::string& help);
    ArgSpec& repeated(const std::string& name, const std::string& metavar, const std::string& help);
    // Positional arguments allowed: [min, max]. Extra ones are a usage error.
    ArgSpec& positionals(size_t min, size_t max) { min_positionals_ = min; max_positionals_ = max; return *this; }
    // Stop at the first positional: everything after it is positional (for subcommands).
    ArgSpec& stop_at_first_positional() { stop_at_positional_ = true; return *this; }

    // Throws InputError ("unknown flag --x", "--dir needs a value", ...). "--help"/"-h" set "help".
    Args parse(const std::vector<std::string>& argv) const;
    std::string help() const;

private:
    struct Option {
        std::string name, metavar, help;
        bool takes_value = false;
        bool repeatable = false;
    };
    const Option* find(const std::string& name) const;

    std::string usage_, summary_;
    std::vector<Option> options_;
    size_t min_positionals_ = 0, max_positionals_ = 0;
    bool stop_at_positional_ = false;
};

}  // namespace mcpmtls
