// pki verify against chains made independently with the openssl CLI: each rejection has its
// reason, and the valid cases pass.
#include "test/support/fixtures.hpp"

#include <catch2/catch.hpp>

using namespace mcpmtls::testing;

namespace {

// Builds every chain once per test case into `dir` with a bash script of openssl commands.
void build_chains(const TempDir& dir) {
    const std::string script = R"SH(
set -e
cd "$1"
key() { openssl ecparam -name prime256v1 -genkey -noout -out "$1.key" 2>/dev/null; }
ext() { printf '%s\n' "$2" > "$1.ext"; }
# Roots
key root; openssl req -x509 -new -key root.key -sha256 -days 365 -subj '/CN=root' \
  -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' -out root.crt
key other; openssl req -x509 -new -key other.key -sha256 -days 365 -subj '/CN=other root' \
  -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' -out other.crt
key strictroot; openssl req -x509 -new -key strictroot.key -sha256 -days 365 -subj '/CN=pathlen0 root' \
  -addext 'basicConstraints=critical,CA:TRUE,pathlen:0' -addext 'keyUsage=critical,keyCertSign,cRLSign' -out strictroot.crt
sign() { # sign NAME ISSUER EXTENSIONS [SUBJECT]
  openssl req -new -key "$1.key" -subj "/CN=${4:-$1}" -out "$1.csr"
  ext "$1" "$3"
  openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial -days 30 -sha256 -extfile "$1.ext" -out "$1.crt" 2>/dev/null
}
CA='basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign'
NOTCA='basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature'
CLIENT="$NOTCA
extendedKeyUsage=clientAuth
subjectAltName=URI:spiffe://test/client"
SERVER="$NOTCA
extendedKeyUsage=serverAuth
subjectAltName=DNS:svc.example,DNS:*.wild.example,IP:10.1.2.3"
key inter; sign inter root "$CA"
key leaf; sign leaf inter "$CLIENT"                       # valid via intermediate
key direct; sign direct root "$CLIENT"                    # valid, issued by the root
key server; sign server root "$SERVER"                    # serverAuth only
key stranger; sign stranger other "$CLIENT"               # another CA
key notca; sign notca root "$NOTCA"                       # an "intermediate" without CA:TRUE
key underling; sign underling notca "$CLIENT"
key inter2; sign inter2 strictroot "$CA"                   # root says pathlen 0
key toodeep; sign toodeep inter2 "$CLIENT"
openssl genrsa -out weak.key 1024 2>/dev/null; sign weak root "$CLIENT"
key sha1; openssl req -new -key sha1.key -subj /CN=sha1 -out sha1.csr; ext sha1 "$CLIENT"
openssl x509 -req -in sha1.csr -CA root.crt -CAkey root.key -CAcreateserial -days 30 -sha1 -extfile sha1.ext -out sha1.crt 2>/dev/null
openssl x509 -in direct.crt -outform DER -out direct.der
# Expired and not yet valid, and a CRL, through `openssl ca`.
mkdir -p db; : > db/index.txt; echo 1000 > db/serial; echo 1000 > db/crlnumber
cat > ca.cnf <<CNF
[ca]
default_ca=t
[t]
database=db/index.txt
serial=db/serial
crlnumber=db/crlnumber
new_certs_dir=db
default_md=sha256
default_crl_days=7
policy=any
unique_subject=no
[any]
commonName=supplied
CNF
ext leafext "$CLIENT"
for n in expired future revoked; do key $n; openssl req -new -key $n.key -subj "/CN=$n" -out $n.csr; done
openssl ca -batch -notext -config ca.cnf -cert root.crt -keyfile root.key -in expired.csr -out expired.crt \
  -extfile leafext.ext -startdate 20200101000000Z -enddate 20200201000000Z 2>/dev/null
openssl ca -batch -notext -config ca.cnf -cert root.crt -keyfile root.key -in future.csr -out future.crt \
  -extfile leafext.ext -startdate 20400101000000Z -enddate 20410101000000Z 2>/dev/null
openssl ca -batch -notext -config ca.cnf -cert root.crt -keyfile root.key -in revoked.csr -out revoked.crt \
  -extfile leafext.ext -days 30 2>/dev/null
openssl ca -batch -config ca.cnf -cert root.crt -keyfile root.key -revoke revoked.crt 2>/dev/null
openssl ca -batch -config ca.cnf -cert root.crt -keyfile root.key -gencrl -out root.crl 2>/dev/null
)SH";
    write_text(dir.file("make.sh"), script);
    auto r = run_command({"bash", dir.file("make.sh"), dir.path()});
    if (r.exit_code != 0) FAIL("building chains failed: " << r.all());
    // Bad signature: one bit flipped near the end of the DER, inside the signature value.
    std::string der = read_text(dir.file("direct.der"));
    der[der.size() - 5] = static_cast<char>(der[der.size() - 5] ^ 0x01);
    write_text(dir.file("badsig.der"), der);
    auto pem = run_command({"openssl", "x509", "-inform", "DER", "-in", dir.file("badsig.der"), "-out", dir.file("badsig.crt")});
    if (pem.exit_code != 0) FAIL("openssl x509 failed: " << pem.all());
}

CommandResult verify(const TempDir& dir, std::vector<std::string> args, const std::string& cert) {
    std::vector<std::string> argv = {bin_path("pki"), "verify"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(dir.file(cert));
    return run_command(argv);
}

}  // namespace

TEST_CASE("pki verify rejects each broken chain with its reason and accepts the good ones", "[pki][verify]") {
    TempDir dir;
    build_chains(dir);
    const std::string root = dir.file("root.crt");
    struct Case {
        const char* what;
        std::vector<std::string> args;
        const char* cert;
        int exit_code;
        const char* reason;
    };
    const std::vector<Case> cases = {
        {"valid chain with intermediate", {"--ca", root, "--untrusted", dir.file("inter.crt"), "--purpose", "client"}, "leaf.crt", 0, "OK"},
        {"valid leaf of the root", {"--ca", root, "--purpose", "client"}, "direct.crt", 0, "OK"},
        {"expired", {"--ca", root, "--purpose", "client"}, "expired.crt", 1, "certificate has expired"},
        {"not yet valid", {"--ca", root, "--purpose", "client"}, "future.crt", 1, "certificate is not yet valid"},
        {"wrong CA", {"--ca", root, "--purpose", "client"}, "stranger.crt", 1, "issuer not found"},
        {"wrong EKU", {"--ca", root, "--purpose", "client"}, "server.crt", 1, "EKU does not allow clientAuth"},
        {"issuer not a CA", {"--ca", root, "--untrusted", dir.file("notca.crt"), "--purpose", "client"}, "underling.crt", 1, "issuer is not a CA"},
        {"path length exceeded", {"--ca", dir.file("strictroot.crt"), "--untrusted", dir.file("inter2.crt"), "--purpose", "client"}, "toodeep.crt", 1, "path length exceeded"},
        {"missing intermediate", {"--ca", root, "--purpose", "client"}, "leaf.crt", 1, "issuer not found"},
        {"bad signature", {"--ca", root, "--purpose", "client"}, "badsig.crt", 1, "bad signature"},
        {"host mismatch", {"--ca", root, "--purpose", "server", "--host", "other.example"}, "server.crt", 1, "host name 'other.example' does not match"},
        {"host match by DNS", {"--ca", root, "--purpose", "server", "--host", "svc.example"}, "server.crt", 0, "OK"},
        {"host match by IP", {"--ca", root, "--purpose", "server", "--host", "10.1.2.3"}, "server.crt", 0, "OK"},
        {"wildcard one label", {"--ca", root, "--purpose", "server", "--host", "a.wild.example"}, "server.crt", 0, "OK"},
        {"wildcard not two labels", {"--ca", root, "--purpose", "server", "--host", "a.b.wild.example"}, "server.crt", 1, "does not match"},
        {"revoked by openssl's CRL", {"--ca", root, "--crl", dir.file("root.crl"), "--purpose", "client"}, "revoked.crt", 1, "certificate is revoked"},
        {"not revoked, CRL checked", {"--ca", root, "--crl", dir.file("root.crl"), "--purpose", "client"}, "direct.crt", 0, "OK"},
        {"weak key", {"--ca", root, "--purpose", "client"}, "weak.crt", 1, "weak key: RSA 1024"},
        {"SHA-1 signature", {"--ca", root, "--purpose", "client"}, "sha1.crt", 1, "untrusted hash"},
        {"checked at a time when it was valid", {"--ca", root, "--purpose", "client", "--at", "2020-01-15T00:00:00Z"}, "expired.crt", 1, "issuer"},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        auto r = verify(dir, c.args, c.cert);
        CHECK(r.exit_code == c.exit_code);
        CHECK(r.out.find(c.reason) != std::string::npos);
        CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1);
    }
    // Unreadable input is exit 2, not a verdict.
    CHECK(verify(dir, {"--ca", dir.file("nope.crt")}, "direct.crt").exit_code == 2);
    CHECK(verify(dir, {"--ca", root, "--purpose", "both"}, "direct.crt").exit_code == 2);
    CHECK(verify(dir, {"--ca", root, "--at", "yesterday"}, "direct.crt").exit_code == 2);
}

TEST_CASE("pki verify honours a CRL made by pki revoke and a bundle of several CAs", "[pki][verify]") {
    DemoPki pki;
    REQUIRE(pki.pki({"issue", "client", "gone"}).exit_code == 0);
    REQUIRE(pki.pki({"revoke", "gone"}).exit_code == 0);
    auto revoked = run_command({bin_path("pki"), "verify", "--ca", pki.path("ca-bundle.crt"), "--crl", pki.path("ca.crl"),
                                "--purpose", "client", pki.path("gone.crt")});
    CHECK(revoked.exit_code == 1);
    CHECK(revoked.out == "certificate is revoked\n");
    auto fine = run_command({bin_path("pki"), "verify", "--ca", pki.path("ca-bundle.crt"), "--crl", pki.path("ca.crl"),
                             "--purpose", "client", pki.path("coordinator.crt")});
    CHECK(fine.out == "OK\n");
    // A CRL signed by a CA that is not trusted is refused as input.
    OpensslCa other;
    auto foreign = run_command({bin_path("pki"), "verify", "--ca", other.path("ca.crt"), "--crl", pki.path("ca.crl"),
                                "--purpose", "client", pki.path("coordinator.crt")});
    CHECK(foreign.exit_code == 2);
    CHECK(foreign.err.find("not signed by a trusted CA") != std::string::npos);
}
