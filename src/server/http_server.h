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
    size_t max_body_bytes = 64u << 20;   // larger bodies get 413 before they are read
    // Connection slots: one thread each. Stalled clients are closed by the deadlines
    // below, and one address may hold only max_connections_per_address of them, so a
    // few clients cannot lock the others out.
    int max_connections = 512;
    int max_connections_per_address = 128;
    // A request's head must arrive within header_timeout_s of its first byte, and its body
    // within body_timeout_s (plus one second per MiB announced) after the head.
    int header_timeout_s = 10;
    int body_timeout_s = 15;
    int keep_alive_timeout_s = 5;        // an idle connection is closed after this
    int write_timeout_s = 600;           // a client that reads nothing for this long
    // HTTPS when both are set (PEM files): see server/tls.h.
    std::string ssl_key_file;
    std::string ssl_cert_file;
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
    // Closes the listening socket and every open connection (stalled ones included).
    void stop();
    bool tls() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    int port_ = 0;
};

}  // namespace mmojo
