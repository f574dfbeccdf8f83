// The listening socket: a thin adapter from cpp-httplib to Router. This header does not
// include httplib.h; http_server.cpp is the only file that does.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "server/router.h"

namespace mmojo {

struct HttpServerOptions {
    std::string host = "127.0.0.1";
    int port = 8080;
    size_t max_body_bytes = 64u << 20;   // larger bodies get 413
    int n_threads = 16;                  // connection worker threads
    int read_timeout_s = 600;
    int write_timeout_s = 600;
};

class HttpServer {
public:
    HttpServer(const Router& router, const HttpServerOptions& options);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds the socket; throws std::runtime_error naming host:port on failure.
    void bind();
    int port() const { return port_; }
    // Accept loop; returns after stop().
    void run();
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    int port_ = 0;
};

}  // namespace mmojo
