// Router: CORS, API key, routing table, exception-to-JSON conversion (see router.h).
#include "server/router.h"

#include <cstdio>
#include <exception>

#include "server/errors.h"

namespace mmojo {

void HttpResponse::set_json(const nlohmann::json& value, int status_code) {
    status = status_code;
    content_type = "application/json; charset=utf-8";
    body = dump_json(value);
}

void Router::add(const std::string& method, const std::string& path, RouteHandler handler,
                 bool is_public) {
    routes_[{path, method}] = Route{std::move(handler), is_public};
    paths_[path] += 1;
}

void Router::add_cors_headers(const HttpRequest& request, HttpResponse& response) {
    const std::string origin = request.header("origin");
    response.headers.emplace_back("Access-Control-Allow-Origin", origin.empty() ? "*" : origin);
    if (!origin.empty()) {
        response.headers.emplace_back("Access-Control-Allow-Credentials", "true");
        response.headers.emplace_back("Vary", "Origin");
    }
}

// Constant-time comparison so the key cannot be guessed byte by byte from timings.
static bool same_secret(const std::string& a, const std::string& b) {
    unsigned diff = a.size() == b.size() ? 0u : 1u;
    for (size_t i = 0; i < a.size(); ++i) {
        diff |= static_cast<unsigned>(a[i] ^ (i < b.size() ? b[i] : 0));
    }
    return diff == 0;
}

bool Router::authorized(const HttpRequest& request) const {
    if (api_keys_.empty()) return true;
    std::string given;
    const std::string auth = request.header("authorization");
    const std::string prefix = "Bearer ";
    if (auth.size() > prefix.size() && auth.compare(0, prefix.size(), prefix) == 0) {
        given = auth.substr(prefix.size());
    } else {
        given = request.header("x-api-key");
    }
    if (given.empty()) return false;
    bool ok = false;
    for (const auto& key : api_keys_) ok = same_secret(given, key) || ok;
    return ok;
}

static void set_error(HttpResponse& response, ErrorType type, const std::string& message,
                      const nlohmann::json& extra = nlohmann::json::object()) {
    response.stream = nullptr;
    response.headers.clear();
    response.set_json(error_body(type, message, extra), error_status(type));
}

HttpResponse Router::dispatch(const HttpRequest& request) const {
    HttpResponse response;
    try {
        if (request.method == "OPTIONS") {
            // CORS preflight: allow what the browser asks for, no key needed.
            response.status = 200;
            response.content_type = "text/plain";
            response.headers.emplace_back("Access-Control-Allow-Methods",
                                          "GET, POST, OPTIONS");
            const std::string asked = request.header("access-control-request-headers");
            response.headers.emplace_back("Access-Control-Allow-Headers",
                                          asked.empty() ? "*" : asked);
            response.headers.emplace_back("Access-Control-Max-Age", "86400");
        } else {
            auto it = routes_.find({request.path, request.method == "HEAD" ? "GET" : request.method});
            if (it != routes_.end()) {
                if (!it->second.is_public && !authorized(request)) {
                    throw ApiError(ErrorType::kAuthentication, "Invalid API Key");
                }
                it->second.handler(request, response);
            } else if (paths_.count(request.path) != 0) {
                throw ApiError(ErrorType::kMethodNotAllowed,
                               "Method " + request.method + " not allowed for " + request.path);
            } else if ((request.method == "GET" || request.method == "HEAD") && fallback_) {
                fallback_(request, response);
            } else {
                throw ApiError(ErrorType::kNotFound, "File Not Found");
            }
        }
    } catch (const ApiError& e) {
        // A 5xx is the server's fault (a bug or an exhausted resource): log its cause.
        if (e.status() >= 500 && e.status() != 501 && e.status() != 503) {
            std::fprintf(stderr, "error: %s %s: %s\n", request.method.c_str(), request.path.c_str(), e.what());
        }
        set_error(response, e.type(), e.what(), e.extra);
    } catch (const nlohmann::json::exception& e) {
        set_error(response, ErrorType::kInvalidRequest, std::string("Invalid JSON: ") + e.what());
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "error: %s %s: out of memory\n", request.method.c_str(), request.path.c_str());
        set_error(response, ErrorType::kServer, "out of memory");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s %s: %s\n", request.method.c_str(), request.path.c_str(),
                     e.what());
        set_error(response, ErrorType::kServer, e.what());
    }
    add_cors_headers(request, response);
    return response;
}

}  // namespace mmojo
