#include "mcp/content.hpp"

namespace mcpmtls::mcp {

using nlohmann::json;

std::string base64_encode(const std::string& bytes) {
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                           static_cast<unsigned char>(bytes[i + 2]);
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += alphabet[(v >> 6) & 63];
        out += alphabet[v & 63];
    }
    if (i < bytes.size()) {
        const bool two = i + 1 < bytes.size();
        const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (two ? static_cast<unsigned char>(bytes[i + 1]) << 8 : 0);
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += two ? alphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

json text_content(const std::string& text) { return {{"type", "text"}, {"text", text}}; }

json image_content(const std::string& data_base64, const std::string& mime_type) {
    return {{"type", "image"}, {"data", data_base64}, {"mimeType", mime_type}};
}

json audio_content(const std::string& data_base64, const std::string& mime_type) {
    return {{"type", "audio"}, {"data", data_base64}, {"mimeType", mime_type}};
}

json text_resource_contents(const std::string& uri, const std::string& mime_type, const std::string& text) {
    return {{"uri", uri}, {"mimeType", mime_type}, {"text", text}};
}

json blob_resource_contents(const std::string& uri, const std::string& mime_type, const std::string& blob_base64) {
    return {{"uri", uri}, {"mimeType", mime_type}, {"blob", blob_base64}};
}

json embedded_resource(json contents) { return {{"type", "resource"}, {"resource", std::move(contents)}}; }

json prompt_message(const std::string& role, json content) { return {{"role", role}, {"content", std::move(content)}}; }

}  // namespace mcpmtls::mcp
