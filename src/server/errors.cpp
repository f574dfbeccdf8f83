// Mapping of API error kinds to HTTP status and OpenAI "type" strings (see errors.h).
#include "server/errors.h"

namespace mmojo {

int error_status(ErrorType type) {
    switch (type) {
        case ErrorType::kInvalidRequest: return 400;
        case ErrorType::kExceedContext: return 400;
        case ErrorType::kAuthentication: return 401;
        case ErrorType::kPermission: return 403;
        case ErrorType::kNotFound: return 404;
        case ErrorType::kMethodNotAllowed: return 405;
        case ErrorType::kPayloadTooLarge: return 413;
        case ErrorType::kTooManyRequests: return 429;
        case ErrorType::kServer: return 500;
        case ErrorType::kNotSupported: return 501;
        case ErrorType::kUnavailable: return 503;
    }
    return 500;
}

const char* error_type_name(ErrorType type) {
    switch (type) {
        case ErrorType::kInvalidRequest: return "invalid_request_error";
        case ErrorType::kExceedContext: return "exceed_context_size_error";
        case ErrorType::kAuthentication: return "authentication_error";
        case ErrorType::kPermission: return "permission_error";
        case ErrorType::kNotFound: return "not_found_error";
        case ErrorType::kMethodNotAllowed: return "invalid_request_error";
        case ErrorType::kPayloadTooLarge: return "invalid_request_error";
        case ErrorType::kTooManyRequests: return "rate_limit_error";
        case ErrorType::kServer: return "server_error";
        case ErrorType::kNotSupported: return "not_supported_error";
        case ErrorType::kUnavailable: return "unavailable_error";
    }
    return "server_error";
}

nlohmann::json error_body(ErrorType type, const std::string& message, const nlohmann::json& extra) {
    nlohmann::json inner = {
        {"code", error_status(type)},
        {"message", message},
        {"type", error_type_name(type)},
    };
    if (extra.is_object()) {
        for (auto it = extra.begin(); it != extra.end(); ++it) inner[it.key()] = it.value();
    }
    return nlohmann::json{{"error", inner}};
}

nlohmann::json error_body(const ApiError& error) {
    return error_body(error.type(), error.what(), error.extra);
}

std::string dump_json(const nlohmann::json& value) {
    return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace mmojo
