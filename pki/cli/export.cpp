// pki export: a certificate for Java, browsers, Windows or anything else that wants PKCS#12, DER
// or one PEM file with the whole chain. The PKCS#12 passphrase comes from a file, the
// environment, or the terminal (without echo), never from the command line, where other users
// could read it in the process list.
#include "common/files.hpp"
#include "pki/cli/cli_support.hpp"
#include "pki/cli/commands.hpp"
#include "pki/ca/export.hpp"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <iostream>

namespace mcpmtls::pki::cli {
namespace {

constexpr const char* kPassphraseVariable = "PKI_EXPORT_PASSPHRASE";

ArgSpec export_spec() {
    return ArgSpec("pki export", "Writes NAME's certificate as PKCS#12 (with its chain and key, AES-256-CBC and "
                                 "PBKDF2 under a passphrase), DER, or a PEM chain up to the root.")
        .positional("NAME")
        .add(Option::text("p12", "FILE", "PKCS#12 file (0600) with the leaf, its chain and its key"))
        .add(Option::text("der", "FILE", "the leaf certificate in DER"))
        .add(Option::text("chain", "FILE", "PEM: the leaf, its intermediate if any, and the root"))
        .add(Option::text("passphrase-file", "FILE",
                          "passphrase for the PKCS#12 file, on the first line of FILE (or set PKI_EXPORT_PASSPHRASE; "
                          "else it is asked for on the terminal)"))
        .add(dir_option());
}

// The controlling terminal, echo off while the line is read and restored on every path out.
class Terminal {
public:
    Terminal() : fd_(::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) {}
    ~Terminal() {
        if (echo_off_) ::tcsetattr(fd_, TCSAFLUSH, &saved_);
        if (fd_ >= 0) ::close(fd_);
    }
    Terminal(const Terminal&) = delete;
    Terminal& operator=(const Terminal&) = delete;
    bool available() const { return fd_ >= 0; }

    std::string read_secret(const std::string& prompt) {
        if (!echo_off_) {
            if (::tcgetattr(fd_, &saved_) != 0) throw InputError("cannot switch off echo on the terminal");
            termios quiet = saved_;
            quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
            if (::tcsetattr(fd_, TCSAFLUSH, &quiet) != 0) throw InputError("cannot switch off echo on the terminal");
            echo_off_ = true;
        }
        write_text(prompt);
        std::string line;
        char c = 0;
        while (::read(fd_, &c, 1) == 1 && c != '\n') line.push_back(c);
        write_text("\n");
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return line;
    }

private:
    void write_text(const std::string& text) const {
        if (::write(fd_, text.data(), text.size()) < 0) throw InputError("cannot write to the terminal");
    }

    int fd_;
    termios saved_{};
    bool echo_off_ = false;
};

std::string p12_passphrase(const Args& args, const std::string& p12_path) {
    std::string passphrase = passphrase_from(args.text("passphrase-file"), kPassphraseVariable);
    if (!passphrase.empty() || args.given("passphrase-file")) return passphrase;
    if (std::getenv(kPassphraseVariable)) throw InputError(std::string(kPassphraseVariable) + " is empty; an empty passphrase is refused");
    Terminal terminal;
    if (!terminal.available())
        throw InputError("no passphrase for " + p12_path + ": use --passphrase-file FILE or set " + kPassphraseVariable);
    passphrase = terminal.read_secret("Passphrase for " + p12_path + ": ");
    if (passphrase.empty()) throw InputError("an empty passphrase is refused");
    if (terminal.read_secret("Same passphrase again: ") != passphrase) throw InputError("the passphrases differ");
    return passphrase;
}

int run_export(const Args& args) {
    const CaDirectory dir = ca_directory(args);
    ExportOptions options;
    options.name = args.positionals()[0];
    options.p12_path = args.text("p12");
    options.der_path = args.text("der");
    options.chain_path = args.text("chain");
    if (!options.p12_path.empty()) options.passphrase = p12_passphrase(args, options.p12_path);
    for (const auto& path : export_certificate(dir, options)) std::cout << "wrote " << path << "\n";
    return kExitOk;
}

}  // namespace

Command export_command() {
    return {"export", "export a certificate as PKCS#12, DER or a PEM chain", export_spec(), run_export};
}

}  // namespace mcpmtls::pki::cli
