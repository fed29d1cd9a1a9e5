#include "pki/der.hpp"

#include "common/strings.hpp"
#include "pki/oids.hpp"

#include <algorithm>
#include <cctype>
#include <set>

namespace mcpmtls::pki::der {

uint8_t Reader::peek_tag() const {
    if (p_ == end_) throw Malformed("unexpected end of DER");
    return *p_;
}

Tlv Reader::next() {
    if (end_ - p_ < 2) throw Malformed("truncated DER");
    Tlv t;
    t.tag = *p_++;
    if ((t.tag & 0x1f) == 0x1f) throw Malformed("DER tag number too large");
    uint8_t first = *p_++;
    size_t length = 0;
    if (first < 0x80) {
        length = first;
    } else {
        size_t count = first & 0x7f;
        if (count == 0) throw Malformed("indefinite length in DER");
        if (count > 4 || static_cast<size_t>(end_ - p_) < count) throw Malformed("bad DER length");
        for (size_t i = 0; i < count; ++i) length = (length << 8) | *p_++;
        if (length < 0x80) throw Malformed("non-minimal DER length");
    }
    if (static_cast<size_t>(end_ - p_) < length) throw Malformed("DER length beyond the data");
    t.data = p_;
    t.size = length;
    p_ += length;
    return t;
}

Tlv Reader::next(uint8_t expected_tag) {
    Tlv t = next();
    if (t.tag != expected_tag) throw Malformed("unexpected DER tag");
    return t;
}

std::optional<Tlv> Reader::next_if(uint8_t tag) {
    if (empty() || peek_tag() != tag) return std::nullopt;
    return next();
}

Tlv Reader::only(uint8_t expected_tag) {
    Tlv t = next(expected_tag);
    expect_end();
    return t;
}

void Reader::expect_end() const {
    if (p_ != end_) throw Malformed("trailing data after DER value");
}

std::string decode_oid(const Tlv& oid) {
    if (oid.tag != kOid || oid.size == 0) throw Malformed("bad OID");
    std::vector<uint64_t> arcs;
    uint64_t value = 0;
    for (size_t i = 0; i < oid.size; ++i) {
        if (value > (UINT64_MAX >> 7)) throw Malformed("OID arc too large");
        value = (value << 7) | (oid.data[i] & 0x7f);
        if (!(oid.data[i] & 0x80)) {
            arcs.push_back(value);
            value = 0;
        } else if (i + 1 == oid.size) {
            throw Malformed("truncated OID");
        }
    }
    std::string out;
    const uint64_t first = arcs[0];
    out = first < 40 ? "0." + std::to_string(first) : first < 80 ? "1." + std::to_string(first - 40) : "2." + std::to_string(first - 80);
    for (size_t i = 1; i < arcs.size(); ++i) out += "." + std::to_string(arcs[i]);
    return out;
}

uint64_t decode_small_uint(const Tlv& integer) {
    if (integer.size == 0 || integer.size > 9) throw Malformed("bad INTEGER");
    if (integer.data[0] & 0x80) throw Malformed("negative INTEGER");
    uint64_t v = 0;
    for (size_t i = 0; i < integer.size; ++i) {
        if (i == 0 && integer.size == 9 && integer.data[0] != 0) throw Malformed("INTEGER too large");
        v = (v << 8) | integer.data[i];
    }
    return v;
}

namespace {

bool ia5(const Tlv& t) {
    return std::all_of(t.data, t.data + t.size, [](uint8_t c) { return c < 0x80; });
}

// The whole TLV of `inner` (its header and contents), re-encoded; used for directoryName.
std::vector<uint8_t> encode_tlv(uint8_t tag, const uint8_t* data, size_t size) {
    std::vector<uint8_t> out{tag};
    if (size < 0x80) {
        out.push_back(static_cast<uint8_t>(size));
    } else {
        std::vector<uint8_t> len;
        for (size_t s = size; s; s >>= 8) len.insert(len.begin(), static_cast<uint8_t>(s & 0xff));
        out.push_back(static_cast<uint8_t>(0x80 | len.size()));
        out.insert(out.end(), len.begin(), len.end());
    }
    out.insert(out.end(), data, data + size);
    return out;
}

// RFC 5280 7.1 (simplified RFC 4518): strings compare after trimming, collapsing inner white
// space and folding ASCII case, whatever their ASN.1 string type.
std::string comparison_form(const Tlv& value) {
    std::string text;
    switch (value.tag) {
        case kUtf8String: case kPrintableString: case kTeletexString: case kIa5String: case kVisibleString:
            text = value.text();
            break;
        case kBmpString:
            if (value.size % 2) throw Malformed("bad BMPString");
            for (size_t i = 0; i < value.size; i += 2) {
                unsigned cp = (value.data[i] << 8) | value.data[i + 1];
                if (cp < 0x80) text.push_back(static_cast<char>(cp));
                else return "#" + to_hex(value.data, value.size);
            }
            break;
        case kUniversalString:
            if (value.size % 4) throw Malformed("bad UniversalString");
            for (size_t i = 0; i < value.size; i += 4) {
                unsigned long cp = (static_cast<unsigned long>(value.data[i]) << 24) | (value.data[i + 1] << 16) |
                                   (value.data[i + 2] << 8) | value.data[i + 3];
                if (cp < 0x80) text.push_back(static_cast<char>(cp));
                else return "#" + to_hex(value.data, value.size);
            }
            break;
        default:
            return "#" + to_hex(&value.tag, 1) + to_hex(value.data, value.size);
    }
    std::string out;
    bool space = false;
    for (char c : text) {
        if (std::isspace(static_cast<unsigned char>(c))) {
            space = !out.empty();
            continue;
        }
        if (space) out.push_back(' ');
        space = false;
        out.push_back(c);
    }
    return to_lower(out);
}

// A RelativeDistinguishedName (SET OF AttributeTypeAndValue, also nameRelativeToCRLIssuer),
// sorted so that RDNs compare whatever order they were encoded in.
Rdn parse_rdn(const Tlv& set, const char* empty_error) {
    Rdn rdn;
    Reader atvs(set);
    while (!atvs.empty()) {
        Reader atv(atvs.next(kSequence));
        Attribute a;
        a.oid = decode_oid(atv.next(kOid));
        a.value = comparison_form(atv.next());
        atv.expect_end();
        rdn.push_back(std::move(a));
    }
    if (rdn.empty()) throw Malformed(empty_error);
    std::sort(rdn.begin(), rdn.end());
    return rdn;
}

// distributionPoint [0] EXPLICIT DistributionPointName, in a CRL distribution point and in an
// issuing distribution point alike.
DistributionPointName parse_dp_name(const Tlv& field) {
    Reader inner(field);
    const Tlv choice = inner.next();
    DistributionPointName name;
    if (choice.tag == 0xa0) {
        Reader names(choice);
        while (!names.empty()) name.full_names.push_back(parse_general_name(names.next()));
        if (name.full_names.empty()) throw Malformed("empty fullName");
    } else if (choice.tag == 0xa1) {
        name.relative = parse_rdn(choice, "empty nameRelativeToCRLIssuer");
    } else {
        throw Malformed("bad DistributionPointName");
    }
    inner.expect_end();
    return name;
}

}  // namespace

GeneralName parse_general_name(const Tlv& t) {
    if ((t.tag & 0xc0) != 0x80) throw Malformed("GeneralName is not context-specific");
    GeneralName name;
    const int number = t.tag & 0x1f;
    const bool constructed = t.tag & 0x20;
    if (number > 8) throw Malformed("unknown GeneralName form");
    name.type = static_cast<GeneralName::Type>(number);
    const bool must_be_constructed = number == 0 || number == 3 || number == 4 || number == 5;
    if (constructed != must_be_constructed) throw Malformed("bad GeneralName encoding");
    switch (name.type) {
        case GeneralName::rfc822: case GeneralName::dns: case GeneralName::uri:
            if (!ia5(t)) throw Malformed("non-ASCII IA5String in GeneralName");
            name.text = t.text();
            break;
        case GeneralName::ip:
            if (t.size != 4 && t.size != 16 && t.size != 8 && t.size != 32) throw Malformed("bad iPAddress length");
            name.value = t.bytes();
            break;
        case GeneralName::directory: {
            const Tlv seq = Reader(t).only(kSequence);
            name.value = encode_tlv(seq.tag, seq.data, seq.size);
            parse_name(name.value);  // must be a valid Name
            break;
        }
        default:
            name.value = t.bytes();
            break;
    }
    return name;
}

std::vector<GeneralName> parse_general_names(const std::vector<uint8_t>& bytes) {
    std::vector<GeneralName> names;
    Reader items(Reader(bytes).only(kSequence));
    while (!items.empty()) names.push_back(parse_general_name(items.next()));
    if (names.empty()) throw Malformed("empty GeneralNames");
    return names;
}

std::vector<Rdn> parse_name(const std::vector<uint8_t>& bytes) {
    std::vector<Rdn> rdns;
    Reader items(Reader(bytes).only(kSequence));
    while (!items.empty()) rdns.push_back(parse_rdn(items.next(kSet), "empty RDN"));
    return rdns;
}

bool name_within(const std::vector<Rdn>& name, const std::vector<Rdn>& base) {
    if (base.size() > name.size()) return false;
    for (size_t i = 0; i < base.size(); ++i)
        if (!(name[i] == base[i])) return false;
    return true;
}

std::vector<std::string> email_attributes(const std::vector<uint8_t>& bytes) {
    std::vector<std::string> out;
    Reader outer(bytes);
    Reader items(outer.next(kSequence));
    while (!items.empty()) {
        Reader atvs(items.next(kSet));
        while (!atvs.empty()) {
            Reader atv(atvs.next(kSequence));
            const std::string type = decode_oid(atv.next(kOid));
            Tlv value = atv.next();
            if (type == oid::kEmailAddress) out.push_back(value.text());
        }
    }
    return out;
}

NameConstraints parse_name_constraints(const std::vector<uint8_t>& bytes) {
    NameConstraints nc;
    Reader fields(Reader(bytes).only(kSequence));
    bool any = false;
    auto subtrees = [&](const Tlv& t, std::vector<Subtree>& out) {
        Reader items(t);
        while (!items.empty()) {
            Reader subtree(items.next(kSequence));
            Subtree s;
            s.base = parse_general_name(subtree.next());
            while (!subtree.empty()) {
                Tlv bound = subtree.next();
                // minimum must be 0 and maximum absent (RFC 5280 4.2.1.10).
                if (bound.tag == 0x80 && decode_small_uint(bound) == 0) continue;
                throw Malformed("name constraint with minimum or maximum");
            }
            out.push_back(std::move(s));
        }
        if (out.empty()) throw Malformed("empty GeneralSubtrees");
        any = true;
    };
    if (auto t = fields.next_if(0xa0)) subtrees(*t, nc.permitted);
    if (auto t = fields.next_if(0xa1)) subtrees(*t, nc.excluded);
    fields.expect_end();
    if (!any) throw Malformed("empty name constraints");
    return nc;
}

std::vector<PolicyInformation> parse_certificate_policies(const std::vector<uint8_t>& bytes) {
    std::vector<PolicyInformation> out;
    std::set<std::string> seen;
    Reader items(Reader(bytes).only(kSequence));
    while (!items.empty()) {
        Reader info(items.next(kSequence));
        PolicyInformation p;
        p.oid = decode_oid(info.next(kOid));
        if (!seen.insert(p.oid).second) throw Malformed("duplicate certificate policy");
        if (!info.empty()) {
            Reader qualifiers(info.next(kSequence));
            while (!qualifiers.empty()) {
                Reader q(qualifiers.next(kSequence));
                p.qualifier_oids.push_back(decode_oid(q.next(kOid)));
            }
            if (p.qualifier_oids.empty()) throw Malformed("empty policy qualifiers");
        }
        info.expect_end();
        out.push_back(std::move(p));
    }
    if (out.empty()) throw Malformed("empty certificate policies");
    return out;
}

std::vector<std::pair<std::string, std::string>> parse_policy_mappings(const std::vector<uint8_t>& bytes) {
    std::vector<std::pair<std::string, std::string>> out;
    Reader items(Reader(bytes).only(kSequence));
    while (!items.empty()) {
        Reader m(items.next(kSequence));
        std::string issuer = decode_oid(m.next(kOid));
        std::string subject = decode_oid(m.next(kOid));
        m.expect_end();
        out.emplace_back(issuer, subject);
    }
    if (out.empty()) throw Malformed("empty policy mappings");
    return out;
}

PolicyConstraints parse_policy_constraints(const std::vector<uint8_t>& bytes) {
    PolicyConstraints pc;
    Reader fields(Reader(bytes).only(kSequence));
    if (auto t = fields.next_if(0x80)) pc.require_explicit_policy = decode_small_uint(*t);
    if (auto t = fields.next_if(0x81)) pc.inhibit_policy_mapping = decode_small_uint(*t);
    fields.expect_end();
    if (!pc.require_explicit_policy && !pc.inhibit_policy_mapping) throw Malformed("empty policy constraints");
    return pc;
}

uint64_t parse_inhibit_any_policy(const std::vector<uint8_t>& bytes) {
    return decode_small_uint(Reader(bytes).only(kInteger));
}

AuthorityKeyId parse_authority_key_id(const std::vector<uint8_t>& bytes) {
    AuthorityKeyId aki;
    Reader fields(Reader(bytes).only(kSequence));
    aki.has_key_id = fields.next_if(0x80).has_value();
    aki.has_issuer = fields.next_if(0xa1).has_value();
    aki.has_serial = fields.next_if(0x82).has_value();
    fields.expect_end();
    return aki;
}

std::vector<DistributionPoint> parse_crl_distribution_points(const std::vector<uint8_t>& bytes) {
    std::vector<DistributionPoint> out;
    Reader items(Reader(bytes).only(kSequence));
    while (!items.empty()) {
        Reader fields(items.next(kSequence));
        DistributionPoint dp;
        if (auto t = fields.next_if(0xa0)) dp.name = parse_dp_name(*t);
        if (auto t = fields.next_if(0x81)) dp.reasons = t->bytes();
        if (auto t = fields.next_if(0xa2)) {
            Reader names(*t);
            while (!names.empty()) dp.crl_issuer.push_back(parse_general_name(names.next()));
        }
        fields.expect_end();
        out.push_back(std::move(dp));
    }
    return out;
}

IssuingDistributionPoint parse_issuing_distribution_point(const std::vector<uint8_t>& bytes) {
    IssuingDistributionPoint idp;
    Reader fields(Reader(bytes).only(kSequence));
    auto flag = [](const Tlv& t) { return t.size == 1 && t.data[0] != 0; };
    if (auto t = fields.next_if(0xa0)) idp.name = parse_dp_name(*t);
    if (auto t = fields.next_if(0x81)) idp.only_user = flag(*t);
    if (auto t = fields.next_if(0x82)) idp.only_ca = flag(*t);
    if (auto t = fields.next_if(0x83)) idp.only_some_reasons = t->bytes();
    if (auto t = fields.next_if(0x84)) idp.indirect = flag(*t);
    if (auto t = fields.next_if(0x85)) idp.only_attribute = flag(*t);
    fields.expect_end();
    return idp;
}

}  // namespace mcpmtls::pki::der
