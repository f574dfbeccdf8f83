// Request dispatch independent of the socket layer: CORS (with OPTIONS preflight), the
// --api-key check, exact-path routing and conversion of exceptions to JSON errors.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "server/http_types.h"

namespace mmojo {

class Router {
public:
    // `is_public`: reachable without the API key (/health, static UI files).
    void add(const std::string& method, const std::string& path, RouteHandler handler,
             bool is_public = false);
    // Handles GET/HEAD requests that match no route (the static UI); public.
    void set_fallback(RouteHandler handler) { fallback_ = std::move(handler); }
    // Empty list: no key needed. Otherwise any of the keys is accepted.
    void set_api_keys(std::vector<std::string> keys) { api_keys_ = std::move(keys); }

    // Never throws: every failure becomes an OpenAI-style error response.
    HttpResponse dispatch(const HttpRequest& request) const;

    // CORS headers added to every response, given the request's Origin.
    static void add_cors_headers(const HttpRequest& request, HttpResponse& response);

private:
    struct Route {
        RouteHandler handler;
        bool is_public = false;
    };
    bool authorized(const HttpRequest& request) const;

    std::map<std::pair<std::string, std::string>, Route> routes_;   // (path, method)
    std::map<std::string, int> paths_;                              // known paths
    RouteHandler fallback_;
    std::vector<std::string> api_keys_;
};

}  // namespace mmojo
