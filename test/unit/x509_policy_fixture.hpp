#pragma once
// Certificates for the verification-policy tests ([x509]), made once per test run with the
// openssl CLI in a temporary directory: a root, intermediates and leaves that each break (or
// satisfy) one rule of docs/verification-policy.md.
#include "pki/certificate.hpp"
#include "pki/verify/verifier.hpp"

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <filesystem>
#include <string>
#include <vector>

namespace x509_policy {

namespace pki = mcpmtls::pki;

class Certs {
public:
    static const Certs& get() {
        static Certs certs;
        return certs;
    }
    std::string path(const std::string& name) const { return dir_ + "/" + name; }
    pki::Certificate cert(const std::string& name) const { return pki::Certificate::load(path(name + ".crt")); }
    std::vector<pki::Certificate> chain(std::initializer_list<const char*> names) const {
        std::vector<pki::Certificate> out;
        for (const char* n : names) out.push_back(cert(n));
        return out;
    }
    // Verifies `chain` (leaf first) against `anchors`, optionally with CRLs from any CA.
    pki::VerifyResult verify(std::initializer_list<const char*> chain_names, std::initializer_list<const char*> anchors,
                             pki::Purpose purpose = pki::Purpose::client_auth, const std::string& host = "",
                             std::initializer_list<const char*> crls = {}) const {
        pki::VerifyOptions options;
        options.purpose = purpose;
        options.host = host;
        return verify_with(chain_names, anchors, options, crls);
    }
    // The same with every verifier option spelled out (anchor modes, validation time, ...).
    pki::VerifyResult verify_with(std::initializer_list<const char*> chain_names, std::initializer_list<const char*> anchors,
                                  const pki::VerifyOptions& options, std::initializer_list<const char*> crls = {}) const {
        std::vector<pki::Certificate> trusted;
        for (const char* a : anchors) trusted.push_back(cert(a));
        std::vector<pki::RevocationList> lists;
        for (const char* c : crls)
            for (auto& l : pki::RevocationList::load_all(path(std::string(c) + ".crl"))) lists.push_back(std::move(l));
        pki::TrustStore store(std::move(trusted), std::move(lists), pki::TrustStore::CrlIssuers::any_ca);
        return pki::verify_chain(chain(chain_names), store, options);
    }

private:
    Certs() {
        char tmpl[] = "/tmp/x509-policy-XXXXXX";
        if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
        dir_ = tmpl;
        std::ofstream(dir_ + "/make.sh") << kScript;
        const std::string cmd = "bash '" + dir_ + "/make.sh' '" + dir_ + "' > '" + dir_ + "/make.log' 2>&1";
        if (std::system(cmd.c_str()) != 0) throw std::runtime_error("making test certificates failed, see " + dir_ + "/make.log");
    }
    ~Certs() {
        std::error_code ignored;  // a destructor: a folder left in /tmp is not worth a throw
        std::filesystem::remove_all(dir_, ignored);
    }

    std::string dir_;

    static constexpr const char* kScript = R"SH(
set -e
cd "$1"
key() { openssl ecparam -name prime256v1 -genkey -noout -out "$1.key"; }
# sign NAME ISSUER EXTENSIONS [SUBJECT] [more openssl x509 arguments]
sign() {
  printf '%b\n' "$3" > "$1.ext"
  openssl req -new -key "$1.key" -subj "${4:-/CN=$1}" -out "$1.csr"
  openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial -days 365 -sha256 -extfile "$1.ext" -out "$1.crt" ${5:-}
}
# ca NAME: an openssl ca database for NAME.crt, for CRLs and chosen validity dates.
ca() {
  mkdir -p "db-$1"; : > "db-$1/index.txt"; echo 1000 > "db-$1/serial"; echo 1000 > "db-$1/crlnumber"
  printf '[ca]\ndefault_ca=t\n[t]\ndatabase=db-%s/index.txt\nserial=db-%s/serial\ncrlnumber=db-%s/crlnumber\nnew_certs_dir=db-%s\ndefault_md=sha256\ndefault_crl_days=7\npolicy=any\nunique_subject=no\ncopy_extensions=none\n[any]\ncommonName=supplied\n[onlyca]\nissuingDistributionPoint=critical,@idp\n[idp]\nonlyCA=TRUE\n' "$1" "$1" "$1" "$1" > "$1.cnf"
}
CA='basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign'
LEAF='basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature'
CLIENT="$LEAF\nextendedKeyUsage=clientAuth\nsubjectAltName=URI:spiffe://test/client"
SERVER="$LEAF\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:svc.example"

key root
openssl req -x509 -new -key root.key -sha256 -days 3650 -subj '/CN=policy test root' \
  -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' -out root.crt
key inter; sign inter root "$CA"
key leaf; sign leaf inter "$CLIENT"
key direct; sign direct root "$CLIENT"

# Issuers
key nokcs; sign nokcs root 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature,cRLSign'
key under_nokcs; sign under_nokcs nokcs "$CLIENT"
key servereku; sign servereku root "$CA\nextendedKeyUsage=serverAuth"
key under_servereku; sign under_servereku servereku "$CLIENT"
key clienteku; sign clienteku root "$CA\nextendedKeyUsage=clientAuth"
key under_clienteku; sign under_clienteku clienteku "$CLIENT"

# TLS leaf profile
key noeku; sign noeku root "$LEAF\nsubjectAltName=URI:spiffe://test/noeku"
key anyeku; sign anyeku root "$LEAF\nextendedKeyUsage=clientAuth,anyExtendedKeyUsage"
key caleaf; sign caleaf root 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature,keyCertSign\nextendedKeyUsage=clientAuth'
key codesign; sign codesign root "$LEAF\nextendedKeyUsage=clientAuth,codeSigning"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout selfsigned.key -out selfsigned.crt -days 30 \
  -subj '/CN=selfsigned' -addext 'extendedKeyUsage=clientAuth' -addext 'keyUsage=critical,digitalSignature'

# Extensions
key unknowncrit; sign unknowncrit root "$CLIENT\n1.3.6.1.4.1.55555.1=critical,DER:0500"
key policyca; sign policyca root "$CA\ncertificatePolicies=1.2.3.4\npolicyConstraints=critical,requireExplicitPolicy:0"
key with_policy; sign with_policy policyca "$CLIENT\ncertificatePolicies=1.2.3.4"
key without_policy; sign without_policy policyca "$CLIENT"
key other_policy; sign other_policy policyca "$CLIENT\ncertificatePolicies=1.2.3.5"

# Name constraints (IPv6 and directory names are the forms Botan 2 gets wrong)
key nc6; sign nc6 root "$CA\nnameConstraints=critical,permitted;IP:2001:db8::/ffff:ffff::"
key in6; sign in6 nc6 "$LEAF\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:2001:db8::1"
key out6; sign out6 nc6 "$LEAF\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:2001:db9::1"
key ncdn; sign ncdn root "$CA\nnameConstraints=critical,permitted;dirName:dn\n[dn]\nO=Good"
key good_dn; sign good_dn ncdn "$CLIENT" '/O=Good/CN=good'
key evil_dn; sign evil_dn ncdn "$CLIENT" '/O=Evil/CN=evil'
key ncdns; sign ncdns root "$CA\nnameConstraints=critical,excluded;DNS:bad.example"
key dns_ok; sign dns_ok ncdns "$LEAF\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:svc.good.example"
key dns_bad; sign dns_bad ncdns "$LEAF\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:svc.bad.example"

# Keys and algorithms
openssl genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:2048 -out dsa.param
openssl genpkey -paramfile dsa.param -out dsaleaf.key; sign dsaleaf root "$CLIENT"
openssl ecparam -name brainpoolP256r1 -genkey -noout -out brainpool.key; sign brainpool root "$CLIENT"
openssl genrsa -out rsa1024ca.key 1024; sign rsa1024ca root "$CA"
key under_rsa1024; sign under_rsa1024 rsa1024ca "$CLIENT"

# Encoding
key serialzero; sign serialzero root "$CLIENT" "" "-set_serial 0"
key critaki; sign critaki root "$CLIENT\nauthorityKeyIdentifier=critical,keyid:always"
key noaki; sign noaki root "$CLIENT\nauthorityKeyIdentifier=none"
key badsan; sign badsan root "$LEAF\nextendedKeyUsage=clientAuth\nsubjectAltName=DER:300a870801020304ffffff00"
key noski_ca; sign noski_ca root "$CA\nsubjectKeyIdentifier=none"
key under_noski; sign under_noski noski_ca "$CLIENT\nauthorityKeyIdentifier=none"

# Trust anchors judged by their own certificate (or not): a root with pathLen 0 above an
# intermediate, as `pki init` makes its roots; a root valid for one day only (the tests verify
# 30 days later, when its leaf is still valid).
key root_pathlen0
openssl req -x509 -new -key root_pathlen0.key -sha256 -days 3650 -subj '/CN=pathlen 0 root' \
  -addext 'basicConstraints=critical,CA:TRUE,pathlen:0' -addext 'keyUsage=critical,keyCertSign,cRLSign' -out root_pathlen0.crt
key inter_pathlen0; sign inter_pathlen0 root_pathlen0 "$CA"
key under_pathlen0; sign under_pathlen0 inter_pathlen0 "$CLIENT"
key inter_pl0; sign inter_pl0 root 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign'
key below_pl0; sign below_pl0 inter_pl0 "$CA"
key under_below_pl0; sign under_below_pl0 below_pl0 "$CLIENT"
key root_1day
openssl req -x509 -new -key root_1day.key -sha256 -days 1 -subj '/CN=one day root' \
  -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' -out root_1day.crt
key under_1day; sign under_1day root_1day "$CLIENT"

# Validity beyond the year 2400 (as in x509-limbo; Botan 2 cannot parse 9999-12-31 at all)
ca root
key forever; openssl req -new -key forever.key -subj '/CN=forever' -out forever.csr
printf '%b\n' "$CLIENT" > forever.ext
openssl ca -batch -notext -config root.cnf -cert root.crt -keyfile root.key -in forever.csr -out forever.crt \
  -extfile forever.ext -startdate 20200101000000Z -enddate 29690101000000Z

# Revocation: the root revokes `revoked`; a CRL for CA certificates only; a CRL of the
# intermediate (loaded as a CRL of any CA); a CRL of the root signed by another key.
key revoked; openssl req -new -key revoked.key -subj '/CN=revoked' -out revoked.csr
printf '%b\n' "$CLIENT" > revoked.ext
openssl ca -batch -notext -config root.cnf -cert root.crt -keyfile root.key -in revoked.csr -out revoked.crt -extfile revoked.ext -days 30
openssl ca -batch -config root.cnf -cert root.crt -keyfile root.key -revoke revoked.crt
openssl ca -batch -config root.cnf -cert root.crt -keyfile root.key -gencrl -out root.crl
openssl ca -batch -config root.cnf -cert root.crt -keyfile root.key -gencrl -crlexts onlyca -out root-onlyca.crl
ca inter
openssl ca -batch -config inter.cnf -cert inter.crt -keyfile inter.key -revoke leaf.crt
openssl ca -batch -config inter.cnf -cert inter.crt -keyfile inter.key -gencrl -out inter.crl
key impostor
openssl req -x509 -new -key impostor.key -sha256 -days 30 -subj '/CN=policy test root' \
  -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' -out impostor.crt
ca impostor
openssl ca -batch -config impostor.cnf -cert impostor.crt -keyfile impostor.key -gencrl -out forged.crl
)SH";
};

inline bool has_failure(const pki::VerifyResult& r, const std::string& text) {
    for (const auto& f : r.failures)
        if (f.message.find(text) != std::string::npos) return true;
    return false;
}

inline std::string all_reasons(const pki::VerifyResult& r) {
    std::string out;
    for (const auto& f : r.failures) out += f.message + "; ";
    return out;
}

}  // namespace x509_policy
