#include "mcp/resources.hpp"

#include <stdexcept>

namespace mcpmtls::mcp {
namespace {

// Matches template parts from position t in the template and u in the URI; a variable takes one
// or more characters up to the next '/', trying each length (templates are short).
bool match_from(const std::string& tmpl, size_t t, const std::string& uri, size_t u, std::map<std::string, std::string>& vars) {
    if (t == tmpl.size()) return u == uri.size();
    if (tmpl[t] != '{') return u < uri.size() && tmpl[t] == uri[u] && match_from(tmpl, t + 1, uri, u + 1, vars);
    const size_t close = tmpl.find('}', t);
    if (close == std::string::npos) return false;
    const std::string name = tmpl.substr(t + 1, close - t - 1);
    for (size_t end = u + 1; end <= uri.size() && uri[end - 1] != '/'; ++end) {
        vars[name] = uri.substr(u, end - u);
        if (match_from(tmpl, close + 1, uri, end, vars)) return true;
    }
    vars.erase(name);
    return false;
}

}  // namespace

std::optional<std::map<std::string, std::string>> match_uri_template(const std::string& uri_template, const std::string& uri) {
    std::map<std::string, std::string> variables;
    if (!match_from(uri_template, 0, uri, 0, variables)) return std::nullopt;
    return variables;
}

void ResourceRegistry::add(Resource resource) {
    if (resource.uri.empty() || resource.name.empty()) throw std::invalid_argument("a resource needs a URI and a name");
    for (const auto& existing : resources_)
        if (existing.uri == resource.uri) throw std::invalid_argument("resource '" + resource.uri + "' is registered twice");
    resources_.push_back(std::move(resource));
}

void ResourceRegistry::add(ResourceTemplate resource_template) {
    if (resource_template.uri_template.empty() || resource_template.name.empty())
        throw std::invalid_argument("a resource template needs a URI template and a name");
    if (find_template(resource_template.uri_template))
        throw std::invalid_argument("resource template '" + resource_template.uri_template + "' is registered twice");
    templates_.push_back(std::move(resource_template));
}

const ResourceTemplate* ResourceRegistry::find_template(const std::string& uri_template) const {
    for (const auto& t : templates_)
        if (t.uri_template == uri_template) return &t;
    return nullptr;
}

bool ResourceRegistry::exists(const std::string& uri) const {
    for (const auto& resource : resources_)
        if (resource.uri == uri) return true;
    for (const auto& t : templates_)
        if (match_uri_template(t.uri_template, uri)) return true;
    return false;
}

nlohmann::json ResourceRegistry::read(const std::string& uri) const {
    for (const auto& resource : resources_)
        if (resource.uri == uri) return resource.read(uri);
    for (const auto& t : templates_)
        if (auto variables = match_uri_template(t.uri_template, uri)) return t.read(uri, *variables);
    throw ResourceNotFound("no resource '" + uri + "'");
}

}  // namespace mcpmtls::mcp
