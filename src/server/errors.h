// API errors in the OpenAI shape that llama-server also uses:
//   {"error": {"code": <http status>, "message": "...", "type": "invalid_request_error"}}
// Handlers throw ApiError; the HTTP layer turns it into that body and status, so a bad
// request never takes the server down.
#pragma once

#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace mmojo {

enum class ErrorType {
    kInvalidRequest,   // 400 invalid_request_error
    kExceedContext,    // 400 exceed_context_size_error
    kAuthentication,   // 401 authentication_error
    kPermission,       // 403 permission_error
    kNotFound,         // 404 not_found_error
    kMethodNotAllowed, // 405 invalid_request_error
    kPayloadTooLarge,  // 413 invalid_request_error
    kTooManyRequests,  // 429 rate_limit_error
    kServer,           // 500 server_error
    kNotSupported,     // 501 not_supported_error
    kUnavailable,      // 503 unavailable_error
};

int error_status(ErrorType type);
const char* error_type_name(ErrorType type);

class ApiError : public std::runtime_error {
public:
    ApiError(ErrorType type, const std::string& message)
        : std::runtime_error(message), type_(type) {}
    ErrorType type() const { return type_; }
    int status() const { return error_status(type_); }
    // Extra fields merged into the "error" object (e.g. n_prompt_tokens, n_ctx).
    nlohmann::json extra = nlohmann::json::object();

private:
    ErrorType type_;
};

// The JSON body for an error.
nlohmann::json error_body(ErrorType type, const std::string& message,
                          const nlohmann::json& extra = nlohmann::json::object());
nlohmann::json error_body(const ApiError& error);

// Serializes JSON for the wire: invalid UTF-8 in strings becomes U+FFFD instead of throwing.
std::string dump_json(const nlohmann::json& value);

}  // namespace mmojo
