#pragma once
// What a server offers besides tools, as resources (resources/list, resources/read) and resource
// templates (resources/templates/list; URIs like weather://current/{city}), each one value
// holding its description and the function that reads it, like mcp::Tool.
#include "mcp/completion.hpp"

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace mcpmtls::mcp {

// Thrown by a reader for a URI it does not know (JSON-RPC error -32002, "Resource not found").
struct ResourceNotFound : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Resource {
    std::string uri;
    std::string name;
    std::string title;
    std::string description;
    std::string mime_type;
    // The "contents" array of resources/read (see mcp/content.hpp for its entries).
    std::function<nlohmann::json(const std::string& uri)> read;
};

struct ResourceTemplate {
    std::string uri_template;  // RFC 6570 level 1: {name} expands to one path segment
    std::string name;
    std::string title;
    std::string description;
    std::string mime_type;
    std::function<nlohmann::json(const std::string& uri, const std::map<std::string, std::string>& variables)> read;
    std::map<std::string, Completer> complete;  // by variable name
};

// The variables of `uri` when it matches `uri_template`, else nullopt.
std::optional<std::map<std::string, std::string>> match_uri_template(const std::string& uri_template, const std::string& uri);

class ResourceRegistry {
public:
    // Throw std::invalid_argument on an empty or duplicate URI (template).
    void add(Resource resource);
    void add(ResourceTemplate resource_template);
    bool empty() const { return resources_.empty() && templates_.empty(); }
    const std::vector<Resource>& resources() const { return resources_; }
    const std::vector<ResourceTemplate>& templates() const { return templates_; }
    // Whether resources/read would find `uri` (a resource, or a template it matches).
    bool exists(const std::string& uri) const;
    // The "contents" of `uri`; throws ResourceNotFound.
    nlohmann::json read(const std::string& uri) const;
    const ResourceTemplate* find_template(const std::string& uri_template) const;

private:
    std::vector<Resource> resources_;
    std::vector<ResourceTemplate> templates_;
};

}  // namespace mcpmtls::mcp
