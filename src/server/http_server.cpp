// cpp-httplib adapter (the only user of httplib.h): converts each httplib request into an
// HttpRequest, dispatches it through Router, and writes the HttpResponse back, streaming
// it with chunked transfer encoding when the route asked for that. httplib's own errors
// (413 body too large, 400 malformed request line) get OpenAI-style JSON bodies too.

// gcc 12 with -fsanitize=address reports a false "may be used uninitialized" inside the
// std::regex and std::function code that httplib instantiates here; the warning is about
// library internals, not this file, so it is silenced for this one translation unit.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include "server/http_server.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

// httplib caps bodies sent as application/x-www-form-urlencoded at 8 KiB (413), apart from
// the payload limit set below. `curl -d` sends JSON with exactly that type, and llama-server
// reads any body as JSON whatever its type, so only the payload limit applies here.
#define CPPHTTPLIB_FORM_URL_ENCODED_PAYLOAD_MAX_LENGTH SIZE_MAX
#include <cstdint>
#include <httplib.h>

#include "server/errors.h"

namespace mmojo {

struct HttpServer::Impl {
    const Router& router;
    HttpServerOptions options;
    httplib::Server server;
    Impl(const Router& r, const HttpServerOptions& o) : router(r), options(o) {}
};

static std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

static HttpRequest convert_request(const httplib::Request& req) {
    HttpRequest out;
    out.method = req.method;
    out.path = req.path;
    out.body = req.body;
    for (const auto& [name, value] : req.headers) out.headers[lower(name)] = value;
    for (const auto& [name, value] : req.params) out.query.emplace(name, value);
    return out;
}

static void write_response(HttpResponse&& response, const httplib::Request& req,
                           httplib::Response& res) {
    res.status = response.status;
    for (const auto& [name, value] : response.headers) res.set_header(name.c_str(), value);
    if (response.stream) {
        auto stream = std::make_shared<std::function<void(StreamSink&)>>(
            std::move(response.stream));
        res.set_chunked_content_provider(
            response.content_type, [stream](size_t, httplib::DataSink& sink) {
                StreamSink out;
                out.write = [&sink](std::string_view chunk) {
                    if (chunk.empty()) return sink.is_writable();   // empty = end of stream
                    return sink.is_writable() && sink.write(chunk.data(), chunk.size());
                };
                out.alive = [&sink] { return sink.is_writable(); };
                (*stream)(out);
                sink.done();
                return true;
            });
        return;
    }
    if (req.method == "HEAD") {
        res.set_header("Content-Type", response.content_type);
        return;
    }
    res.set_content(std::move(response.body), response.content_type.c_str());
}

HttpServer::HttpServer(const Router& router, const HttpServerOptions& options)
    : impl_(std::make_unique<Impl>(router, options)) {
    auto& svr = impl_->server;
    const Router* r = &router;
    auto handler = [r](const httplib::Request& req, httplib::Response& res) {
        write_response(r->dispatch(convert_request(req)), req, res);
    };
    for (const char* pattern : {".*"}) {
        svr.Get(pattern, handler);
        svr.Post(pattern, handler);
        svr.Put(pattern, handler);
        svr.Delete(pattern, handler);
        svr.Patch(pattern, handler);
        svr.Options(pattern, handler);
    }
    // httplib-generated failures (413, 400, 414, unknown method) with an empty body.
    svr.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return;
        ErrorType type = ErrorType::kInvalidRequest;
        std::string message = "Bad request";
        if (res.status == 413) {
            type = ErrorType::kPayloadTooLarge;
            message = "Request body too large";
        } else if (res.status == 404) {
            type = ErrorType::kNotFound;
            message = "File Not Found";
        } else if (res.status >= 500) {
            type = ErrorType::kServer;
            message = "Internal server error";
        }
        HttpRequest request;
        request.headers["origin"] = req.get_header_value("Origin");
        HttpResponse response;
        Router::add_cors_headers(request, response);
        for (const auto& [name, value] : response.headers) res.set_header(name.c_str(), value);
        nlohmann::json body = error_body(type, message);
        body["error"]["code"] = res.status;
        res.set_content(dump_json(body), "application/json; charset=utf-8");
    });
    svr.set_exception_handler([](const httplib::Request&, httplib::Response& res,
                                 std::exception_ptr ep) {
        std::string message = "unknown error";
        try {
            if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
            message = e.what();
        } catch (...) {
        }
        res.status = 500;
        res.set_content(dump_json(error_body(ErrorType::kServer, message)),
                        "application/json; charset=utf-8");
    });
    svr.set_payload_max_length(options.max_body_bytes);
    svr.set_read_timeout(options.read_timeout_s, 0);
    svr.set_write_timeout(options.write_timeout_s, 0);
    svr.set_keep_alive_max_count(1000);
    svr.set_keep_alive_timeout(2);   // idle connections must not hold up shutdown for long
    const int n_threads = std::max(4, options.n_threads);
    svr.new_task_queue = [n_threads] { return new httplib::ThreadPool(size_t(n_threads)); };
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::bind() {
    auto& svr = impl_->server;
    const auto& o = impl_->options;
    if (o.port == 0) {
        port_ = svr.bind_to_any_port(o.host.c_str());
        if (port_ <= 0) throw std::runtime_error("cannot bind " + o.host + " to a free port");
    } else {
        if (!svr.bind_to_port(o.host.c_str(), o.port)) {
            throw std::runtime_error("cannot bind " + o.host + ":" + std::to_string(o.port) +
                                     " (address in use or not available)");
        }
        port_ = o.port;
    }
}

void HttpServer::run() { impl_->server.listen_after_bind(); }

void HttpServer::stop() {
    if (impl_) impl_->server.stop();
}

}  // namespace mmojo
