// The server's own small HTTP request/response types. Only http_server.cpp knows about
// cpp-httplib; every route works on these, so routes can be unit-tested without sockets
// and the rest of the server does not pull in the 10k-line header.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace mmojo {

struct HttpRequest {
    std::string method;                         // "GET", "POST", ...
    std::string path;                           // decoded path, without the query
    std::string body;
    std::map<std::string, std::string> headers; // names lower-cased
    std::multimap<std::string, std::string> query;

    std::string header(const std::string& lower_name) const {
        auto it = headers.find(lower_name);
        return it == headers.end() ? std::string() : it->second;
    }
};

// The client end of a streamed response.
struct StreamSink {
    // Writes one chunk; returns false once the client is gone.
    std::function<bool(std::string_view)> write;
    // False once the client has closed the connection (checked between chunks).
    std::function<bool()> alive;
};

struct HttpResponse {
    int status = 200;
    std::string content_type = "application/json; charset=utf-8";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    // When set, the body is streamed (chunked transfer): the function is called once on the
    // connection's thread and writes chunks until it returns.
    std::function<void(StreamSink&)> stream;

    void set_json(const nlohmann::json& value, int status_code = 200);
};

using RouteHandler = std::function<void(const HttpRequest&, HttpResponse&)>;

}  // namespace mmojo
