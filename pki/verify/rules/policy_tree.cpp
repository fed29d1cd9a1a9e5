// Certificate policies, RFC 5280 6.1.2-6.1.5 (docs/verification-policy.md, "Certificate
// policies"): the valid_policy_tree and the explicit_policy, policy_mapping and
// inhibit_anyPolicy counters, run over the path with the caller's initial inputs. It decides
// whether the path is valid under an acceptable policy; by default none is required.
#include "pki/der.hpp"
#include "pki/verify/rule_support.hpp"

#include <set>

namespace mcpmtls::pki::rules {
namespace {

class PolicyTree {
public:
    struct Node {
        std::string policy;
        std::set<std::string> expected;
        int parent;
        bool live = true;
    };

    PolicyTree() { levels_.push_back({{oid::kAnyPolicy, {oid::kAnyPolicy}, -1}}); }
    bool null() const { return null_; }
    void make_null() { null_ = true; }
    size_t depth() const { return levels_.size() - 1; }

    // 6.1.3 (d) for certificate at depth i (= depth() + 1 after the call).
    void process_certificate(const std::vector<std::string>& policies, bool any_allowed) {
        const size_t parent_depth = depth();
        levels_.emplace_back();
        auto& parents = levels_[parent_depth];
        for (const auto& p : policies) {
            if (p == oid::kAnyPolicy) continue;
            bool matched = false;
            for (size_t k = 0; k < parents.size(); ++k)
                if (parents[k].live && parents[k].expected.count(p)) {
                    add(parent_depth + 1, {p, {p}, static_cast<int>(k)});
                    matched = true;
                }
            if (!matched)
                for (size_t k = 0; k < parents.size(); ++k)
                    if (parents[k].live && parents[k].policy == oid::kAnyPolicy) add(parent_depth + 1, {p, {p}, static_cast<int>(k)});
        }
        if (any_allowed && contains(policies, oid::kAnyPolicy)) {
            for (size_t k = 0; k < parents.size(); ++k) {
                if (!parents[k].live) continue;
                for (const auto& value : std::set<std::string>(parents[k].expected)) {
                    bool present = false;
                    for (const auto& child : levels_[parent_depth + 1])
                        if (child.live && child.parent == static_cast<int>(k) && child.policy == value) present = true;
                    if (!present) add(parent_depth + 1, {value, {value}, static_cast<int>(k)});
                }
            }
        }
        prune();
    }

    // 6.1.4 (b): policy mappings of the certificate at the current depth.
    void apply_mappings(const std::vector<std::pair<std::string, std::string>>& mappings, bool mapping_allowed) {
        const size_t d = depth();
        std::map<std::string, std::set<std::string>> mapped;
        for (const auto& [issuer, subject] : mappings) mapped[issuer].insert(subject);
        for (const auto& [issuer, subjects] : mapped) {
            if (mapping_allowed) {
                bool found = false;
                for (auto& n : levels_[d])
                    if (n.live && n.policy == issuer) {
                        n.expected = subjects;
                        found = true;
                    }
                if (!found) {
                    for (size_t k = 0; k < levels_[d].size(); ++k) {
                        const Node any = levels_[d][k];
                        if (!any.live || any.policy != oid::kAnyPolicy) continue;
                        add(d, {issuer, subjects, any.parent});
                        break;
                    }
                }
            } else {
                for (auto& n : levels_[d])
                    if (n.live && n.policy == issuer) n.live = false;
            }
        }
        prune();
    }

    // 6.1.5 (g): intersection with the user-initial-policy-set (not anyPolicy).
    void intersect(const std::set<std::string>& initial) {
        if (null_) return;
        const size_t n = depth();
        // valid_policy_node_set: nodes whose parent is an anyPolicy node.
        auto parent_is_any = [&](size_t d, const Node& node) {
            return d > 0 && node.parent >= 0 && levels_[d - 1][node.parent].policy == oid::kAnyPolicy;
        };
        std::set<std::string> in_set;
        for (size_t d = 1; d <= n; ++d)
            for (auto& node : levels_[d]) {
                if (!node.live || !parent_is_any(d, node)) continue;
                if (node.policy != oid::kAnyPolicy && !initial.count(node.policy)) kill(d, node);
                else in_set.insert(node.policy);
            }
        for (size_t k = 0; k < levels_[n].size(); ++k) {
            Node any = levels_[n][k];
            if (!any.live || any.policy != oid::kAnyPolicy) continue;
            for (const auto& p : initial)
                if (!in_set.count(p)) add(n, {p, {p}, any.parent});
            levels_[n][k].live = false;
        }
        prune();
    }

private:
    void add(size_t d, Node node) { levels_[d].push_back(std::move(node)); }

    void kill(size_t d, Node& node) {
        node.live = false;
        if (d + 1 >= levels_.size()) return;
        const int index = static_cast<int>(&node - levels_[d].data());
        for (auto& child : levels_[d + 1])
            if (child.live && child.parent == index) kill(d + 1, child);
    }

    void prune() {
        for (size_t d = levels_.size() - 1; d-- > 0;) {
            for (size_t k = 0; k < levels_[d].size(); ++k) {
                if (!levels_[d][k].live) continue;
                bool child = false;
                for (const auto& c : levels_[d + 1])
                    if (c.live && c.parent == static_cast<int>(k)) child = true;
                if (!child) levels_[d][k].live = false;
            }
        }
        if (!levels_[0][0].live) null_ = true;
    }

    std::vector<std::vector<Node>> levels_;
    bool null_ = false;
};

}  // namespace

// Returns an empty string when the path satisfies RFC 5280's policy processing, else why not.
// With `anchor_counts`, the trust anchor is processed as the first certificate (its
// constraints apply, like every other rule of ours on anchors; an anchor without
// certificatePolicies restricts nothing). Without it, the path starts below the anchor, as in
// RFC 5280 6.1, where the anchor is no certificate of the path.
std::string check_policies(const Path& path, const PolicyInputs& inputs, bool anchor_counts) {
    const size_t n = anchor_counts ? path.size() : path.size() - 1;
    uint64_t explicit_policy = inputs.initial_explicit_policy ? 0 : n + 1;
    uint64_t inhibit_any = inputs.initial_any_policy_inhibit ? 0 : n + 1;
    uint64_t policy_mapping = inputs.initial_policy_mapping_inhibit ? 0 : n + 1;
    PolicyTree tree;
    for (size_t i = 1; i <= n; ++i) {
        const auto& cert = *path[n - i];
        const bool is_anchor = anchor_counts && i == 1, is_leaf = i == n;
        const auto extensions = extensions_of(cert);
        const bool is_self_issued = self_issued(cert);
        const Extension* cp = find(extensions, oid::kCertificatePolicies);
        try {
            if (cp || is_anchor) {
                std::vector<std::string> policies;
                if (cp)
                    for (const auto& info : der::parse_certificate_policies(cp->value)) policies.push_back(info.oid);
                else
                    policies.push_back(oid::kAnyPolicy);
                const bool any_allowed = is_anchor || inhibit_any > 0 || (!is_leaf && is_self_issued);
                if (!tree.null()) tree.process_certificate(policies, any_allowed);
            } else {
                tree.make_null();
            }
            if (explicit_policy == 0 && tree.null()) return "no acceptable certificate policy (an explicit policy is required)";
            if (is_leaf) break;
            // 6.1.4: prepare for the next certificate.
            if (const Extension* pm = find(extensions, oid::kPolicyMappings)) {
                auto mappings = der::parse_policy_mappings(pm->value);
                for (const auto& [a, b] : mappings)
                    if (a == oid::kAnyPolicy || b == oid::kAnyPolicy) return "policy mapping to or from anyPolicy";
                if (!tree.null()) tree.apply_mappings(mappings, policy_mapping > 0);
            }
            if (!is_self_issued) {
                if (explicit_policy) --explicit_policy;
                if (policy_mapping) --policy_mapping;
                if (inhibit_any) --inhibit_any;
            }
            if (const Extension* pc = find(extensions, oid::kPolicyConstraints)) {
                auto c = der::parse_policy_constraints(pc->value);
                if (c.require_explicit_policy && *c.require_explicit_policy < explicit_policy) explicit_policy = *c.require_explicit_policy;
                if (c.inhibit_policy_mapping && *c.inhibit_policy_mapping < policy_mapping) policy_mapping = *c.inhibit_policy_mapping;
            }
            if (const Extension* ia = find(extensions, oid::kInhibitAnyPolicy)) {
                auto skip = der::parse_inhibit_any_policy(ia->value);
                if (skip < inhibit_any) inhibit_any = skip;
            }
        } catch (const der::Malformed&) {
            return "malformed certificate policy extension" + label(cert);
        }
    }
    // 6.1.5 wrap-up.
    const auto& leaf = *path.front();
    if (explicit_policy) --explicit_policy;
    if (const Extension* pc = find(extensions_of(leaf), oid::kPolicyConstraints)) {
        try {
            auto c = der::parse_policy_constraints(pc->value);
            if (c.require_explicit_policy && *c.require_explicit_policy == 0) explicit_policy = 0;
        } catch (const der::Malformed&) {
            return "malformed policyConstraints";
        }
    }
    std::set<std::string> initial(inputs.initial_policy_set.begin(), inputs.initial_policy_set.end());
    if (!initial.empty() && !initial.count(oid::kAnyPolicy)) tree.intersect(initial);
    if (explicit_policy == 0 && tree.null()) return "no acceptable certificate policy (an explicit policy is required)";
    return "";
}

}  // namespace mcpmtls::pki::rules
