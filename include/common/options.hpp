#pragma once
// Every option of every program is one row: its flag, its --config key, its default, the values
// it allows and its help. Flag parsing, --config files, defaults, range checks, usage lines and
// --help all come from the rows, so none of them can drift from another, and a setting added
// to a program is one row plus its use.
//
// A --config file is a JSON object whose keys are the rows' config keys (the flag with '_' for
// '-'); a key no row declares, or a value of the wrong type or out of range, is a usage error
// (exit 2) naming the key. A flag on the command line wins over the file, which wins over the
// row's default.
#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mcpmtls {

class Option {
public:
    enum class Kind { flag, text, integer, list, json };

    // --NAME, a switch (true when given).
    static Option flag(std::string name, std::string help);
    // --NAME VALUE.
    static Option text(std::string name, std::string metavar, std::string help);
    // --NAME N: a whole number within [min, max].
    static Option integer(std::string name, std::string metavar, long min, long max, std::string help);
    // --NAME VALUE, repeatable: every value, in order.
    static Option list(std::string name, std::string metavar, std::string help);
    // A structured value that only a --config file gives (e.g. an authorization policy); the
    // program validates its shape.
    static Option json(std::string key, std::string help);

    Option& fallback(std::string value);  // the default, also shown in --help
    Option& fallback(long value);
    Option& one_of(std::vector<std::string> choices);
    // Also settable in a --config file, under `key` (default: the name with '_' for '-').
    Option& configurable(std::string key = "");
    // The same setting under another name (flag and config key); giving both is a usage error.
    Option& alias(std::string name);
    Option& required();

    const std::string& name() const { return name_; }
    Kind kind() const { return kind_; }
    const std::string& metavar() const { return metavar_; }
    const std::string& help() const { return help_; }
    const std::optional<std::string>& default_value() const { return default_; }
    const std::vector<std::string>& choices() const { return choices_; }
    const std::string& config_key() const { return config_key_; }  // empty: not in --config
    const std::vector<std::string>& aliases() const { return aliases_; }
    bool is_required() const { return required_; }
    bool takes_value() const { return kind_ != Kind::flag; }
    long min() const { return min_; }
    long max() const { return max_; }
    bool config_only() const { return kind_ == Kind::json; }

private:
    Option(Kind kind, std::string name, std::string metavar, std::string help);
    Kind kind_;
    std::string name_, metavar_, help_;
    std::optional<std::string> default_;
    std::vector<std::string> choices_;
    std::string config_key_;
    std::vector<std::string> aliases_;
    long min_ = 0, max_ = 0;
    bool required_ = false;
};

// What a parse found: every declared setting resolved to flag, else --config, else default.
class Args {
public:
    // Given on the command line or in the --config file (a default does not count).
    bool given(const std::string& name) const;
    bool flag(const std::string& name) const;
    std::string text(const std::string& name) const;  // "" when unset without default
    long integer(const std::string& name) const;      // the default when unset (0 without one)
    std::vector<std::string> list(const std::string& name) const;
    const nlohmann::json& json(const std::string& name) const;  // null when not given
    const std::vector<std::string>& positionals() const { return positionals_; }
    bool help_requested() const { return help_; }
    bool version_requested() const { return version_; }

private:
    friend class ArgSpec;
    struct Value {
        std::vector<std::string> texts;  // flag: {"1"}; list: every value; others: one
        nlohmann::json json;
        bool given = false;
    };
    const Value* find(const std::string& name) const;
    std::map<std::string, Value> values_;
    std::vector<std::string> positionals_;
    bool help_ = false, version_ = false;
};

// The rows of one program or command, its positional arguments and its description.
class ArgSpec {
public:
    ArgSpec() = default;
    // `program` opens the usage line ("pki issue", "echo-server").
    explicit ArgSpec(std::string program, std::string description = "");

    ArgSpec& add(Option option);
    ArgSpec& add(const std::vector<Option>& options);
    // A positional argument, shown as NAME in the usage line (optional: [NAME]).
    ArgSpec& positional(std::string name, bool required = true);
    // Any number of further positionals (NAME...).
    ArgSpec& more_positionals(std::string name, bool at_least_one = false);
    // --config FILE: the rows marked configurable may come from this JSON file.
    ArgSpec& config_file(std::string help);
    // --version prints the version.
    ArgSpec& version_flag();
    // Everything after the first positional is positional (a subcommand's own words).
    ArgSpec& stop_at_first_positional();

    // Throws InputError ("unknown flag --x", "--dir needs a value", "config.json: unknown
    // setting 'x'", ...). Reads the --config file when one is given.
    Args parse(const std::vector<std::string>& argv) const;
    // The same with the --config file's text given (tests and fuzzing read no file).
    Args parse(const std::vector<std::string>& argv, const std::string& config_text, const std::string& config_name) const;

    std::string synopsis() const;  // "usage: pki issue server|client NAME [--dns NAME]... ..."
    std::string help() const;      // synopsis, description, one line per option
    const std::string& program() const { return program_; }
    const std::string& description() const { return description_; }
    const std::vector<Option>& options() const { return options_; }
    const Option* find(const std::string& name) const;  // by name or alias
    ArgSpec with_program(std::string program) const;
    ArgSpec with_description(std::string description) const;
    // This spec after `rows` that every command of a program shares (and --config FILE when
    // `config_help` is not empty); usage and help show them apart as the global options.
    ArgSpec with_global(const std::vector<Option>& rows, const std::string& config_help) const;

private:
    Args parse_words(const std::vector<std::string>& argv) const;
    void apply_config(Args& args, const std::string& text, const std::string& source) const;
    void finish(Args& args) const;

    std::string program_, description_;
    std::vector<Option> options_;
    struct Positional {
        std::string name;
        bool required;
        bool repeated;
    };
    std::vector<Positional> positionals_;
    bool has_config_ = false;
    bool stop_at_positional_ = false;
    size_t global_rows_ = 0;  // the first rows are the program's global options
};

}  // namespace mcpmtls
