// x509-harness: runs pki::verify_chain over the public X.509 path-validation suites in
// ../shared/x509-suites (x509-limbo, BoringSSL's verify_certificate_chain_unittest data
// "google-chains", NIST PKITS) and compares each verdict with the suite's expectation.
//
//   x509-harness --suites DIR --exceptions FILE --out DIR [--only SUITE] [--verbose]
//
// Writes DIR/<suite>-results.json in the x509-limbo results format and ends with one line per
// suite: "SUITE: N agree, M disagree, K skipped". Exits 1 when a disagreement is not listed
// in the exceptions file or a listed case agrees again (stale entry), 2 on bad input.
#include "common/error.hpp"
#include "common/files.hpp"
#include "pki/certificate.hpp"
#include "pki/verify/verifier.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <dirent.h>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace pki = mcpmtls::pki;
using json = nlohmann::json;

namespace {

enum class Verdict { success, failure, skipped };

std::string verdict_name(Verdict v) {
    switch (v) {
        case Verdict::success: return "SUCCESS";
        case Verdict::failure: return "FAILURE";
        case Verdict::skipped: return "SKIPPED";
    }
    return "SKIPPED";
}

// One test case, already mapped to what verify_chain understands. Certificates and CRLs stay
// encoded until run() so that a parse error becomes the case's verdict, not a harness error.
struct Case {
    std::string id;
    bool expect_success = false;
    std::string skip;                       // non-empty: why the case is skipped
    std::vector<std::string> trusted;       // PEM or DER, one certificate each (PEM may hold many)
    std::vector<std::string> intermediates;
    std::string peer;
    std::vector<std::string> crls;          // PEM or DER
    pki::VerifyOptions options;
};

struct Outcome {
    std::string id;
    bool expect_success = false;
    Verdict actual = Verdict::skipped;
    std::string context;
};

// --- time ------------------------------------------------------------------------------------

pki::TimePoint from_utc(int year, int month, int day, int hour, int minute, int second) {
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    return std::chrono::system_clock::from_time_t(timegm(&tm));
}

// RFC 3339 as limbo writes it: 2023-04-25T00:00:01+00:00 or ...Z (offsets honoured).
pki::TimePoint parse_rfc3339(const std::string& text) {
    int y, mo, d, h, mi, s;
    char rest[16] = {};
    if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%15s", &y, &mo, &d, &h, &mi, &s, rest) < 6)
        throw mcpmtls::InputError("bad validation_time '" + text + "'");
    auto t = from_utc(y, mo, d, h, mi, s);
    std::string zone = rest;
    if (!zone.empty() && zone[0] == '.') zone = zone.substr(zone.find_first_not_of("0123456789", 1));
    if (!zone.empty() && zone != "Z" && (zone[0] == '+' || zone[0] == '-')) {
        int zh = 0, zm = 0;
        std::sscanf(zone.c_str() + 1, "%2d:%2d", &zh, &zm);
        auto offset = std::chrono::hours(zh) + std::chrono::minutes(zm);
        t = zone[0] == '+' ? t - offset : t + offset;
    }
    return t;
}

// ASN.1 UTCTime YYMMDDHHMMSSZ (google-chains utc_time).
pki::TimePoint parse_utctime(const std::string& text) {
    int yy, mo, d, h, mi, s;
    if (text.size() != 13 || std::sscanf(text.c_str(), "%2d%2d%2d%2d%2d%2d", &yy, &mo, &d, &h, &mi, &s) != 6)
        throw mcpmtls::InputError("bad utc_time '" + text + "'");
    return from_utc(yy < 50 ? 2000 + yy : 1900 + yy, mo, d, h, mi, s);
}

// --- files -----------------------------------------------------------------------------------

std::vector<std::string> list_dir(const std::string& path) {
    std::vector<std::string> names;
    DIR* dir = opendir(path.c_str());
    if (!dir) throw mcpmtls::InputError("cannot open directory " + path);
    while (auto* entry = readdir(dir)) {
        std::string name = entry->d_name;
        if (name != "." && name != "..") names.push_back(name);
    }
    closedir(dir);
    std::sort(names.begin(), names.end());
    return names;
}

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string trim(const std::string& s) {
    auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return "";
    auto e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

// --- limbo -----------------------------------------------------------------------------------

void limbo_case(const json& tc, std::vector<Case>& cases) {
    Case c;
    c.id = tc.at("id").get<std::string>();
    c.expect_success = tc.at("expected_result").get<std::string>() == "SUCCESS";
    auto strings = [&](const char* key) {
        std::vector<std::string> out;
        if (tc.contains(key) && tc.at(key).is_array())
            for (const auto& v : tc.at(key)) out.push_back(v.get<std::string>());
        return out;
    };
    auto nonempty = [&](const char* key) {
        return tc.contains(key) && !tc.at(key).is_null() && !(tc.at(key).is_array() && tc.at(key).empty());
    };
    c.trusted = strings("trusted_certs");
    c.intermediates = strings("untrusted_intermediates");
    c.peer = tc.at("peer_certificate").get<std::string>();
    c.crls = strings("crls");

    const std::string kind = tc.value("validation_kind", "SERVER");
    c.options.purpose = kind == "CLIENT" ? pki::Purpose::client_auth : pki::Purpose::server_auth;
    if (kind != "SERVER" && kind != "CLIENT") c.skip = "validation_kind " + kind;
    for (const auto& eku : strings("extended_key_usage")) {
        if (eku == "serverAuth" && kind == "SERVER") continue;
        if (eku == "clientAuth" && kind == "CLIENT") continue;
        if (eku == "serverAuth") c.options.purpose = pki::Purpose::server_auth;
        else if (eku == "clientAuth") c.options.purpose = pki::Purpose::client_auth;
        else c.skip = "extended_key_usage " + eku;
    }
    if (nonempty("max_chain_depth")) c.skip = "max_chain_depth is not a verifier option";
    if (nonempty("signature_algorithms")) c.skip = "signature_algorithms constraints are not a verifier option";
    // The verifier requires digitalSignature (when keyUsage is present) for every TLS purpose.
    for (const auto& usage : strings("key_usage"))
        if (usage != "digitalSignature") c.skip = "key_usage " + usage + " is not a verifier option";
    if (nonempty("expected_peer_names")) c.skip = "several expected peer names";
    if (tc.contains("expected_peer_name") && !tc.at("expected_peer_name").is_null()) {
        const auto& name = tc.at("expected_peer_name");
        const std::string name_kind = name.at("kind").get<std::string>();
        if (name_kind == "DNS" || name_kind == "IP") c.options.host = name.at("value").get<std::string>();
        else c.skip = "peer name kind " + name_kind;
    }
    if (tc.contains("validation_time") && tc.at("validation_time").is_string())
        c.options.at = parse_rfc3339(tc.at("validation_time").get<std::string>());
    cases.push_back(std::move(c));
}

// The 2023 copy, with each online case replaced by its refreshed file under online/ (same id:
// x509-limbo regenerates these from live sites).
std::vector<Case> load_limbo(const std::string& dir) {
    std::vector<Case> cases;
    const json suite = json::parse(mcpmtls::read_file(dir + "/limbo-ddc40b4-2023-12-02.json"));
    for (const auto& tc : suite.at("testcases")) limbo_case(tc, cases);
    for (const auto& name : list_dir(dir + "/online")) {
        if (!ends_with(name, ".limbo.json")) continue;
        const json tc = json::parse(mcpmtls::read_file(dir + "/online/" + name));
        std::vector<Case> one;
        limbo_case(tc, one);
        auto same = std::find_if(cases.begin(), cases.end(), [&](const Case& c) { return c.id == one.front().id; });
        if (same != cases.end()) *same = std::move(one.front());
        else cases.push_back(std::move(one.front()));
    }
    return cases;
}

// --- google-chains ---------------------------------------------------------------------------

std::vector<std::string> pem_blocks(const std::string& text) {
    std::vector<std::string> blocks;
    const std::string begin = "-----BEGIN CERTIFICATE-----", end = "-----END CERTIFICATE-----";
    size_t pos = 0;
    while ((pos = text.find(begin, pos)) != std::string::npos) {
        size_t stop = text.find(end, pos);
        if (stop == std::string::npos) break;
        blocks.push_back(text.substr(pos, stop + end.size() - pos) + "\n");
        pos = stop + end.size();
    }
    return blocks;
}

std::vector<Case> load_google(const std::string& dir) {
    std::vector<Case> cases;
    for (const auto& test_dir : list_dir(dir)) {
        const std::string path = dir + "/" + test_dir;
        if (test_dir == "LICENSE") continue;
        for (const auto& file : list_dir(path)) {
            if (!ends_with(file, ".test")) continue;
            Case c;
            c.id = "google::" + test_dir + "::" + file.substr(0, file.size() - 5);
            std::map<std::string, std::string> fields;
            bool in_errors = false, any_error = false;
            std::istringstream in(mcpmtls::read_file(path + "/" + file));
            for (std::string line; std::getline(in, line);) {
                if (in_errors) {
                    if (line.rfind("ERROR", 0) == 0) any_error = true;
                    continue;
                }
                auto colon = line.find(':');
                if (colon == std::string::npos) continue;
                std::string key = line.substr(0, colon);
                fields[key] = trim(line.substr(colon + 1));
                if (key == "expected_errors") in_errors = true;
            }
            c.expect_success = !any_error;
            const std::string purpose = fields["key_purpose"];
            if (purpose == "SERVER_AUTH" || purpose == "SERVER_AUTH_STRICT" || purpose == "SERVER_AUTH_STRICT_LEAF")
                c.options.purpose = pki::Purpose::server_auth;
            else if (purpose == "CLIENT_AUTH" || purpose == "CLIENT_AUTH_STRICT" || purpose == "CLIENT_AUTH_STRICT_LEAF")
                c.options.purpose = pki::Purpose::client_auth;
            else if (purpose == "ANY_EKU")
                c.options.purpose = pki::Purpose::any;
            else
                c.skip = "key_purpose " + purpose;
            // How the suite trusts its anchor (BoringSSL's CertificateTrust): plain
            // TRUSTED_ANCHOR is RFC 5280's name and key; WITH_CONSTRAINTS enforces the anchor
            // certificate's constraints (RFC 5937) and WITH_EXPIRATION its validity period.
            // REQUIRE_BASIC_CONSTRAINTS only matters with constraints, where our `enforce`
            // always requires basicConstraints cA. A lone certificate trusted directly as a leaf,
            // distrusted and unspecified certificates have no counterpart in a trust store of
            // anchors.
            using AC = pki::AnchorConstraints;
            using AV = pki::AnchorValidity;
            static const std::map<std::string, std::pair<AC, AV>> anchor_trust = {
                {"TRUSTED_ANCHOR", {AC::ignore, AV::ignore}},
                {"TRUSTED_ANCHOR_WITH_REQUIRE_BASIC_CONSTRAINTS", {AC::ignore, AV::ignore}},
                {"TRUSTED_ANCHOR_WITH_CONSTRAINTS", {AC::enforce, AV::ignore}},
                {"TRUSTED_ANCHOR_WITH_CONSTRAINTS_REQUIRE_BASIC_CONSTRAINTS", {AC::enforce, AV::ignore}},
                {"TRUSTED_ANCHOR_WITH_EXPIRATION", {AC::ignore, AV::enforce}},
                {"TRUSTED_ANCHOR_WITH_EXPIRATION_AND_CONSTRAINTS", {AC::enforce, AV::enforce}},
            };
            std::string trust = fields["last_cert_trust"];
            auto blocks = pem_blocks(mcpmtls::read_file(path + "/" + fields["chain"]));
            // Trusted as anchor or as leaf: when the chain has more certificates, the last one
            // is not the target and can only act as an anchor.
            if (trust == "TRUSTED_ANCHOR_OR_LEAF" && blocks.size() > 1) trust = "TRUSTED_ANCHOR";
            if (auto mode = anchor_trust.find(trust); mode != anchor_trust.end()) {
                c.options.anchor_constraints = mode->second.first;
                c.options.anchor_validity = mode->second.second;
            } else if (trust.find("LEAF") != std::string::npos) {
                c.skip = "last_cert_trust " + trust + ": a directly trusted leaf has no counterpart in a trust store of anchors";
            } else {
                c.skip = "last_cert_trust " + trust + ": the chain has no trust anchor, and a trust store cannot be empty";
            }
            const std::string when = fields["utc_time"];
            c.options.at = parse_utctime(when == "DEFAULT" || when.empty() ? "211005120000Z" : when);
            if (blocks.empty()) {
                if (c.skip.empty()) c.skip = "chain holds no certificate";
            } else {  // one certificate: it is both the target and the trust anchor
                c.peer = blocks.front();
                c.trusted = {blocks.back()};
                if (blocks.size() > 2) c.intermediates.assign(blocks.begin() + 1, blocks.end() - 1);
            }
            cases.push_back(std::move(c));
        }
    }
    return cases;
}

// --- PKITS -----------------------------------------------------------------------------------

std::vector<Case> load_pkits(const std::string& dir) {
    std::vector<Case> cases;
    const json suite = json::parse(mcpmtls::read_file(dir + "/pkits_expected.json"));
    for (const auto& t : suite) {
        Case c;
        std::string gtest = t.at("gtest").get<std::string>();
        c.id = "pkits::" + t.at("test_number").get<std::string>() + "::" + gtest.substr(gtest.find('.') + 1);
        c.expect_success = t.at("should_validate").get<bool>();
        const auto& names = t.at("certs_root_first");
        for (size_t i = 0; i < names.size(); ++i) {
            std::string der = mcpmtls::read_file(dir + "/certs/" + names[i].get<std::string>() + ".crt");
            if (i == 0) c.trusted.push_back(der);
            else if (i + 1 == names.size()) c.peer = der;
            else c.intermediates.push_back(der);
        }
        for (const auto& crl : t.at("crls")) c.crls.push_back(mcpmtls::read_file(dir + "/crls/" + crl.get<std::string>() + ".crl"));
        // RFC 5280 policy inputs; SetUserConstrainedPolicySet is an expected output, not checked.
        for (const auto& [key, raw] : t.at("settings").items()) {
            std::string value = raw.get<std::string>();
            if (value.size() >= 2 && value.front() == '"') value = value.substr(1, value.size() - 2);
            if (key == "SetInitialPolicySet") {
                std::istringstream names(value);
                for (std::string name; std::getline(names, name, ',');) {
                    const std::string prefix = "NIST-test-policy-";
                    if (name == "anyPolicy") c.options.policy.initial_policy_set.push_back("2.5.29.32.0");
                    else if (name.rfind(prefix, 0) == 0)
                        c.options.policy.initial_policy_set.push_back("2.16.840.1.101.3.2.1.48." + name.substr(prefix.size()));
                    else c.skip = "unknown policy " + name;
                }
            } else if (key == "SetInitialExplicitPolicy") {
                c.options.policy.initial_explicit_policy = value == "true";
            } else if (key == "SetInitialPolicyMappingInhibit") {
                c.options.policy.initial_policy_mapping_inhibit = value == "true";
            } else if (key == "SetInitialInhibitAnyPolicy") {
                c.options.policy.initial_any_policy_inhibit = value == "true";
            } else if (key != "SetUserConstrainedPolicySet") {
                c.skip = "setting " + key;
            }
        }
        c.options.purpose = pki::Purpose::any;  // PKITS certificates carry no TLS EKU
        c.options.at = from_utc(2022, 1, 1, 0, 0, 0);
        cases.push_back(std::move(c));
    }
    return cases;
}

// --- running ---------------------------------------------------------------------------------

Outcome run(const Case& c) {
    Outcome out{c.id, c.expect_success, Verdict::skipped, c.skip};
    if (!c.skip.empty()) return out;
    std::vector<pki::Certificate> anchors, chain;
    std::vector<pki::RevocationList> crls;
    try {
        for (const auto& t : c.trusted)
            for (auto& cert : pki::Certificate::parse_all(t, "trusted certificate")) anchors.push_back(std::move(cert));
        chain = pki::Certificate::parse_all(c.peer, "peer certificate");
        chain.erase(chain.begin() + 1, chain.end());
        for (const auto& i : c.intermediates)
            for (auto& cert : pki::Certificate::parse_all(i, "intermediate")) chain.push_back(std::move(cert));
        for (const auto& crl : c.crls)
            for (auto& one : pki::RevocationList::parse_all(crl, "CRL")) crls.push_back(std::move(one));
    } catch (const std::exception& e) {
        out.actual = Verdict::failure;
        out.context = std::string("parse error: ") + e.what();
        return out;
    }
    try {
        pki::TrustStore trust(std::move(anchors), std::move(crls), pki::TrustStore::CrlIssuers::any_ca);
        auto result = pki::verify_chain(chain, trust, c.options);
        out.actual = result.valid() ? Verdict::success : Verdict::failure;
        std::string context;
        for (const auto& f : result.failures) context += (context.empty() ? "" : "; ") + f.message;
        out.context = context;
    } catch (const std::exception& e) {
        out.actual = Verdict::failure;
        out.context = std::string("error: ") + e.what();
    }
    return out;
}

struct Exception {
    std::string expected, actual, reason, category;
};

struct Options {
    std::string suites = "../shared/x509-suites";
    std::string exceptions = "test/x509-exceptions.json";
    std::string out = "build/x509-suites";
    std::string only;
    bool verbose = false;
};

int usage() {
    std::cerr << "usage: x509-harness [--suites DIR] [--exceptions FILE] [--out DIR] [--only limbo|google|pkits] [--verbose]\n";
    return 2;
}

int main_impl(int argc, char** argv) {
    Options opt;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw mcpmtls::InputError(a + " needs a value");
            return argv[++i];
        };
        if (a == "--suites") opt.suites = value();
        else if (a == "--exceptions") opt.exceptions = value();
        else if (a == "--out") opt.out = value();
        else if (a == "--only") opt.only = value();
        else if (a == "--verbose" || a == "-v") opt.verbose = true;
        else return usage();
    }

    std::map<std::string, Exception> exceptions;
    const json ex = json::parse(mcpmtls::read_file(opt.exceptions));
    for (const auto& [id, e] : ex.items()) {
        if (id.rfind("_", 0) == 0) continue;  // "_comment" and the like
        exceptions[id] = {e.at("expected").get<std::string>(), e.at("actual").get<std::string>(),
                          e.value("reason", ""), e.value("category", "")};
        if (exceptions[id].reason.empty() || exceptions[id].category.empty())
            throw mcpmtls::InputError(opt.exceptions + ": " + id + " needs a reason and a category");
    }

    struct Suite {
        std::string name;
        std::function<std::vector<Case>()> load;
    };
    const std::vector<Suite> suites = {
        {"limbo", [&] { return load_limbo(opt.suites + "/limbo"); }},
        {"google", [&] { return load_google(opt.suites + "/google-chains"); }},
        {"pkits", [&] { return load_pkits(opt.suites + "/nist-pkits"); }},
    };
    mcpmtls::make_directories(opt.out);
    std::vector<std::string> summaries, problems;
    std::set<std::string> seen;
    for (const auto& suite : suites) {
        if (!opt.only.empty() && opt.only != suite.name) continue;
        size_t agree = 0, disagree = 0, skipped = 0;
        json results = json::array();
        for (const auto& c : suite.load()) {
            if (!seen.insert(c.id).second) throw mcpmtls::InputError("duplicate case id " + c.id);
            Outcome o = run(c);
            results.push_back({{"id", o.id}, {"actual_result", verdict_name(o.actual)}, {"context", o.context}});
            auto listed = exceptions.find(o.id);
            if (o.actual == Verdict::skipped) {
                ++skipped;
                if (listed != exceptions.end()) problems.push_back("stale exception (case is skipped): " + o.id);
                continue;
            }
            const bool agrees = (o.actual == Verdict::success) == o.expect_success;
            const std::string expected = o.expect_success ? "SUCCESS" : "FAILURE";
            if (agrees) {
                ++agree;
                if (listed != exceptions.end()) problems.push_back("stale exception (now agrees): " + o.id);
            } else {
                ++disagree;
                if (listed == exceptions.end())
                    problems.push_back("unlisted disagreement: " + o.id + " expected " + expected + ", got " +
                                       verdict_name(o.actual) + (o.context.empty() ? "" : " (" + o.context + ")"));
                else if (listed->second.expected != expected || listed->second.actual != verdict_name(o.actual))
                    problems.push_back("exception lists the wrong verdicts: " + o.id);
            }
            if (opt.verbose && !agrees)
                std::cerr << suite.name << "\t" << o.id << "\texpected " << expected << "\t" << o.context << "\n";
        }
        json doc = {{"version", 1}, {"harness", "mcp-mtls"}, {"results", results}};
        mcpmtls::write_file_atomic(opt.out + "/" + suite.name + "-results.json", doc.dump(1) + "\n");
        summaries.push_back(suite.name + ": " + std::to_string(agree) + " agree, " + std::to_string(disagree) +
                            " disagree, " + std::to_string(skipped) + " skipped");
    }
    if (opt.only.empty())
        for (const auto& [id, e] : exceptions)
            if (!seen.count(id)) problems.push_back("exception for an unknown case: " + id);
    for (const auto& p : problems) std::cerr << "x509-harness: " << p << "\n";
    for (const auto& s : summaries) std::cout << s << "\n";
    return problems.empty() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return main_impl(argc, argv);
    } catch (const mcpmtls::Error& e) {
        std::cerr << "x509-harness: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "x509-harness: " << e.what() << "\n";
        return 2;
    }
}
