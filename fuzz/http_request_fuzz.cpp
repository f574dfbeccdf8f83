// Fuzz target of HTTP request parsing: arbitrary bytes as what a client sends on a
// connection. They go through the server's own head check (request_head.h: the
// Content-Length rules applied before httplib reads anything), then, when it accepts them,
// through cpp-httplib's request parser (Server::process_request over an in-memory stream,
// keep-alive loop included, as http_server.cpp runs it) into the Router, whose routes parse
// the JSON body and check the API key. Any crash, sanitizer report, hang or escaped
// exception is a bug; every outcome must be a written response or a closed connection.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#define CPPHTTPLIB_USE_POLL
#include <httplib.h>

#include "server/api_types.h"
#include "server/errors.h"
#include "server/request_head.h"
#include "server/router.h"

namespace {

// Reads come from the fuzz input; writes are counted and dropped.
class MemoryStream : public httplib::Stream {
public:
    explicit MemoryStream(std::string_view in) : in_(in) {}
    bool is_readable() const override { return true; }
    bool is_writable() const override { return true; }
    ssize_t read(char* ptr, size_t size) override {
        const size_t n = std::min(size, in_.size());
        std::memcpy(ptr, in_.data(), n);
        in_.remove_prefix(n);
        return ssize_t(n);
    }
    ssize_t write(const char*, size_t size) override {
        written_ += size;
        return ssize_t(size);
    }
    void get_remote_ip_and_port(std::string& ip, int& port) const override {
        ip = "127.0.0.1";
        port = 1;
    }
    void get_local_ip_and_port(std::string& ip, int& port) const override {
        ip = "127.0.0.1";
        port = 2;
    }
    socket_t socket() const override { return INVALID_SOCKET; }
    size_t left() const { return in_.size(); }
    std::string_view rest() const { return in_; }

private:
    std::string_view in_;
    size_t written_ = 0;
};

class FuzzServer : public httplib::Server {
public:
    FuzzServer() {
        router_.set_api_keys({"secret"});
        router_.add("POST", "/completion", [](const mmojo::HttpRequest& req, mmojo::HttpResponse& res) {
            res.set_json(mmojo::parse_body(req.body));
        });
        router_.add("GET", "/health", [](const mmojo::HttpRequest&, mmojo::HttpResponse& res) {
            res.set_json({{"status", "ok"}});
        }, true);
        auto handler = [this](const httplib::Request& req, httplib::Response& res) {
            mmojo::HttpRequest in;
            in.method = req.method;
            in.path = req.path;
            in.body = req.body;
            for (const auto& [name, value] : req.headers) in.headers[name] = value;
            mmojo::HttpResponse out = router_.dispatch(in);
            res.status = out.status;
            res.set_content(out.body, out.content_type.c_str());
        };
        Get(".*", handler);
        Post(".*", handler);
        set_payload_max_length(1 << 16);
    }

    // The connection loop of http_server.cpp without sockets.
    void serve(std::string_view bytes) {
        MemoryStream stream(bytes);
        for (int count = 4; count > 0 && stream.left() > 0; --count) {
            const size_t end = mmojo::request_head_end(stream.rest());
            if (end == std::string_view::npos) return;   // the real front waits, then 408
            const mmojo::RequestHeadVerdict verdict =
                mmojo::check_request_head(stream.rest().substr(0, end), 1 << 16);
            if (verdict.status != 0) return;             // answered by the front, closed
            bool closed = false;
            if (!process_request(stream, count == 1, closed, nullptr) || closed) return;
        }
    }

private:
    mmojo::Router router_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > 128 * 1024) return 0;
    static FuzzServer* server = new FuzzServer();
    server->serve(std::string_view(reinterpret_cast<const char*>(data), size));
    return 0;
}
