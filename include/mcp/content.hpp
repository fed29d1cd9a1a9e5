#pragma once
// MCP content blocks as the specification spells them (text, image, audio, embedded resources,
// resource contents), built in one place so that tools, prompts and resources agree on the
// shapes. Binary payloads travel base64-encoded.
#include <nlohmann/json.hpp>
#include <string>

namespace mcpmtls::mcp {

std::string base64_encode(const std::string& bytes);

// {"type":"text","text":...}
nlohmann::json text_content(const std::string& text);
// {"type":"image"|"audio","data":BASE64,"mimeType":...}; `data_base64` is already encoded.
nlohmann::json image_content(const std::string& data_base64, const std::string& mime_type);
nlohmann::json audio_content(const std::string& data_base64, const std::string& mime_type);

// One entry of resources/read "contents" (and of an embedded resource): text or a blob.
nlohmann::json text_resource_contents(const std::string& uri, const std::string& mime_type, const std::string& text);
nlohmann::json blob_resource_contents(const std::string& uri, const std::string& mime_type, const std::string& blob_base64);
// {"type":"resource","resource":CONTENTS}
nlohmann::json embedded_resource(nlohmann::json contents);

// A prompt message: {"role":ROLE,"content":BLOCK}
nlohmann::json prompt_message(const std::string& role, nlohmann::json content);

}  // namespace mcpmtls::mcp
