// pki export: PKCS#12 that openssl reads and describes as AES-256-CBC with PBKDF2, that curl uses
// as its client identity against our server, that a wrong passphrase does not open; DER and a PEM
// chain; and the passphrase rules (file, environment, terminal without echo, never empty).
#include "test/pki/pki_support.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

using namespace mcpmtls::testing;

namespace {

int mode_of(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 0777) : -1;
}

CommandResult pkcs12_info(const std::string& p12, const std::string& passphrase) {
    return run_command({"openssl", "pkcs12", "-info", "-noout", "-in", p12, "-passin", "pass:" + passphrase});
}

// Runs argv on a new pseudo-terminal (its controlling terminal), answering each prompt that ends
// with ": " with the next of `answers`; prints everything the terminal showed and exits with the
// program's status. Python's pty module is the one dependency.
const char* kPtyDriver = R"PY(
import os, pty, select, sys
count = int(sys.argv[1])
answers, program = sys.argv[2:2 + count], sys.argv[2 + count:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(program[0], program)
shown = b""
while True:
    ready, _, _ = select.select([fd], [], [], 30)
    if not ready:
        break
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    shown += data
    if shown.rstrip().endswith(b":") and answers:
        os.write(fd, (answers.pop(0) + "\n").encode())
_, status = os.waitpid(pid, 0)
sys.stdout.write(shown.decode(errors="replace"))
sys.exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 99)
)PY";

CommandResult on_terminal(const std::vector<std::string>& answers, const std::vector<std::string>& argv) {
    std::vector<std::string> command = {"python3", "-c", kPtyDriver, std::to_string(answers.size())};
    command.insert(command.end(), answers.begin(), answers.end());
    command.insert(command.end(), argv.begin(), argv.end());
    return run_command(command);
}

}  // namespace

TEST_CASE("export --p12: AES-256-CBC with PBKDF2, opened by openssl with the passphrase only, used by curl", "[pki]") {
    TempDir root, dir, out;
    pki_ok({"init", "--dir", root.path(), "--path-len", "1"});
    pki_ok({"init", "--intermediate", "--root-dir", root.path(), "--dir", dir.path()});
    pki_ok({"issue", "server", "echo", "--dns", "localhost", "--ip", "127.0.0.1", "--dir", dir.path()});
    pki_ok({"issue", "client", "agent", "--uri", "spiffe://demo/agent", "--dir", dir.path()});
    write_text(out.file("pass"), "export secret\n");
    const auto r = pki({"export", "agent", "--p12", out.file("agent.p12"), "--passphrase-file", out.file("pass"), "--der",
                        out.file("agent.der"), "--chain", out.file("agent-chain.pem"), "--dir", dir.path()});
    REQUIRE(r.exit_code == 0);
    CHECK(mode_of(out.file("agent.p12")) == 0600);

    const auto info = pkcs12_info(out.file("agent.p12"), "export secret");
    INFO(info.all());
    CHECK(info.exit_code == 0);
    CHECK(contains(info.err, "MAC: sha256"));
    CHECK(contains(info.err, "Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC"));
    CHECK(contains(info.err, "PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC"));
    CHECK(contains(info.err, "PRF hmacWithSHA256"));
    CHECK_FALSE(contains(info.all(), "RC2"));
    CHECK_FALSE(contains(info.all(), "3DES"));
    CHECK_FALSE(contains(info.all(), "pbeWithSHA1"));
    CHECK(pkcs12_info(out.file("agent.p12"), "wrong secret").exit_code != 0);

    // The leaf, the intermediate and the root inside; the key is the agent's.
    const auto certs = run_shell("openssl pkcs12 -in '" + out.file("agent.p12") + "' -passin pass:'export secret' -nokeys | grep -c 'BEGIN CERTIFICATE'");
    CHECK(certs.out == "3\n");
    const auto key = run_shell("openssl pkcs12 -in '" + out.file("agent.p12") + "' -passin pass:'export secret' -nocerts -nodes | openssl pkey -pubout");
    CHECK(key.out == openssl_key_public_key(dir.file("agent.key")));

    // DER: the leaf; the chain: leaf, intermediate, root, verifiable from the root alone.
    CHECK(run_command({"openssl", "x509", "-inform", "DER", "-in", out.file("agent.der"), "-noout", "-serial"}).out ==
          run_command({"openssl", "x509", "-in", dir.file("agent.crt"), "-noout", "-serial"}).out);
    const std::string chain = read_text(out.file("agent-chain.pem"));
    CHECK(contains(chain, read_text(dir.file("ca.crt"))));
    CHECK(contains(chain, read_text(root.file("ca.crt"))));

    // curl presents the PKCS#12 identity to our server, which trusts only the root.
    ServerProcess echo("echo-server", dir.file("echo.crt"), dir.file("echo.key"), dir.file("ca-bundle.crt"));
    const auto curl = curl_mcp(echo.url(), root.file("ca.crt"), "", "", initialize_body(),
                               {"--cert-type", "P12", "--cert", out.file("agent.p12") + ":export secret"});
    CHECK(contains(curl.out, "HTTP/1.1 200"));
    const auto wrong = curl_mcp(echo.url(), root.file("ca.crt"), "", "", initialize_body(),
                                {"--cert-type", "P12", "--cert", out.file("agent.p12") + ":not it"});
    CHECK_FALSE(contains(wrong.out, "HTTP/1.1 200"));
}

TEST_CASE("export asks for the passphrase on the terminal without echo, refuses an empty one, and needs one", "[pki]") {
    TempDir dir, out;
    pki_ok({"init", "--dir", dir.path()});
    pki_ok({"issue", "client", "agent", "--dir", dir.path()});
    const std::vector<std::string> export_p12 = {bin_path("pki"), "export", "agent", "--p12", out.file("agent.p12"), "--dir",
                                                 dir.path()};

    const auto typed = on_terminal({"typed secret", "typed secret"}, export_p12);
    INFO(typed.all());
    CHECK(typed.exit_code == 0);
    CHECK(contains(typed.out, "Passphrase for"));
    CHECK_FALSE(contains(typed.out, "typed secret"));  // never echoed
    CHECK(pkcs12_info(out.file("agent.p12"), "typed secret").exit_code == 0);

    const auto before = snapshot(out.path());
    const auto empty = on_terminal({""}, export_p12);
    CHECK(empty.exit_code == 2);
    CHECK(contains(empty.out, "an empty passphrase is refused"));
    const auto differ = on_terminal({"one", "two"}, export_p12);
    CHECK(differ.exit_code == 2);
    CHECK(contains(differ.out, "differ"));

    // No terminal (setsid: no controlling terminal), no file, no variable: a usage error.
    std::vector<std::string> detached = {"setsid", "-w"};
    detached.insert(detached.end(), export_p12.begin(), export_p12.end());
    const auto none = run_command(detached);
    CHECK(none.exit_code == 2);
    CHECK(line_count(none.err) == 1);
    CHECK(contains(none.err, "PKI_EXPORT_PASSPHRASE"));
    const auto empty_variable = run_command(detached, {{"PKI_EXPORT_PASSPHRASE", ""}});
    CHECK(empty_variable.exit_code == 2);
    write_text(out.file("empty-pass"), "\n");
    std::vector<std::string> with_empty_file = export_p12;
    with_empty_file.insert(with_empty_file.end(), {"--passphrase-file", out.file("empty-pass")});
    CHECK(run_command(with_empty_file).exit_code == 2);
    std::map<std::string, std::string> files_now = snapshot(out.path());
    files_now.erase("empty-pass");
    CHECK(files_now == before);

    // From the environment, as a timer would.
    CHECK(run_command(detached, {{"PKI_EXPORT_PASSPHRASE", "from env"}}).exit_code == 0);
    CHECK(pkcs12_info(out.file("agent.p12"), "from env").exit_code == 0);
}

TEST_CASE("export of a certificate signed from a CSR gives DER and a chain but no PKCS#12, and writes nothing then", "[pki]") {
    TempDir dir, out;
    pki_ok({"init", "--dir", dir.path()});
    run_shell("cd '" + out.path() + "' && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout h.key "
              "-subj /CN=h -out h.csr 2>/dev/null");
    pki_ok({"sign", "client", "host", "--csr", out.file("h.csr"), "--dir", dir.path()});
    const auto before = snapshot(out.path());
    const auto p12 = pki({"export", "host", "--p12", out.file("host.p12"), "--der", out.file("host.der"), "--dir", dir.path()},
                         {{"PKI_EXPORT_PASSPHRASE", "x"}});
    CHECK(p12.exit_code == 1);
    CHECK(line_count(p12.err) == 1);
    CHECK(contains(p12.err, "signed from a CSR"));
    CHECK(snapshot(out.path()) == before);
    CHECK(pki({"export", "host", "--der", out.file("host.der"), "--dir", dir.path()}).exit_code == 0);
    CHECK(pki({"export", "host", "--dir", dir.path()}).exit_code == 2);                      // nothing asked for
    CHECK(pki({"export", "nobody", "--der", out.file("n.der"), "--dir", dir.path()}).exit_code == 1);
}
