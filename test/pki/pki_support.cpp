#include "test/pki/pki_support.hpp"

#include <algorithm>
#include <dirent.h>
#include <stdexcept>
#include <sys/stat.h>

namespace mcpmtls::testing {

CommandResult pki(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
    std::vector<std::string> argv = {bin_path("pki")};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, env);
}

void pki_ok(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
    const auto r = pki(args, env);
    if (r.exit_code != 0) throw std::runtime_error("pki " + args.front() + " failed: " + r.all());
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

bool exists(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

size_t line_count(const std::string& text) { return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')); }

std::string openssl_text(const std::string& cert) { return run_command({"openssl", "x509", "-noout", "-text", "-in", cert}).out; }

long openssl_not_after(const std::string& cert) {
    const auto r = run_shell("date -d \"$(openssl x509 -noout -enddate -in '" + cert + "' | cut -d= -f2)\" +%s");
    if (r.exit_code != 0) throw std::runtime_error("cannot read notAfter of " + cert + ": " + r.all());
    return std::stol(r.out);
}

std::string openssl_serial(const std::string& cert) {
    auto out = run_command({"openssl", "x509", "-noout", "-serial", "-in", cert}).out;  // serial=ABCD...
    out = out.substr(out.find('=') + 1);
    out = out.substr(0, out.find('\n'));
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

std::string openssl_certificate_public_key(const std::string& cert) {
    return run_command({"openssl", "x509", "-noout", "-pubkey", "-in", cert}).out;
}

std::string openssl_key_public_key(const std::string& key) {
    return run_command({"openssl", "pkey", "-pubout", "-in", key}).out;
}

namespace {

void collect(const std::string& root, const std::string& relative, std::map<std::string, std::string>& out) {
    const std::string path = relative.empty() ? root : root + "/" + relative;
    DIR* dir = opendir(path.c_str());
    if (!dir) return;
    while (dirent* entry = readdir(dir)) {
        const std::string name = entry->d_name;
        if (name == "." || name == "..") continue;
        const std::string child = relative.empty() ? name : relative + "/" + name;
        struct stat st {};
        if (stat((root + "/" + child).c_str(), &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) collect(root, child, out);
        else out[child] = read_text(root + "/" + child);
    }
    closedir(dir);
}

}  // namespace

std::map<std::string, std::string> snapshot(const std::string& dir) {
    std::map<std::string, std::string> files;
    collect(dir, "", files);
    return files;
}

}  // namespace mcpmtls::testing
