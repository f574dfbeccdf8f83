// cpp-httplib adapter (the only user of httplib.h): converts each httplib request into an
// HttpRequest, dispatches it through Router, and writes the HttpResponse back, streaming
// it with chunked transfer encoding when the route asked for that. httplib's own errors
// (413 body too large, 400 malformed request line) get OpenAI-style JSON bodies too.
//
// httplib parses requests and writes responses; the connections are ours
// (GuardedServer::process_and_close_socket), because httplib 0.11 measures its read
// timeout per recv() (a client sending a byte a minute holds a thread for ever), runs a
// fixed pool of threads (16 stalled clients locked everyone out) and joins them all at
// shutdown (stalled clients kept SIGTERM from ending the process). Here:
//  - a request's head must arrive within header_timeout_s of its first byte and its body
//    within body_timeout_s (+1 s per MiB) after that; idle connections close after
//    keep_alive_timeout_s;
//  - the head is checked before httplib reads it (server/request_head.h): an impossible
//    Content-Length is a 400 or 413 at once;
//  - one thread per connection up to max_connections, at most max_connections_per_address
//    per client address (server/connection_limits.h); beyond that a 503 / 429 at once;
//  - stop() shuts every open socket down, so the threads end at once;
//  - with --ssl-key-file / --ssl-cert-file the same streams run over TLS (server/tls.h).

// gcc 12 with -fsanitize=address reports a false "may be used uninitialized" inside the
// std::regex and std::function code that httplib instantiates here; the warning is about
// library internals, not this file, so it is silenced for this one translation unit.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include "server/http_server.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

// poll() instead of select(): select cannot watch a socket numbered above FD_SETSIZE (1024),
// and with hundreds of connection slots the numbers get there.
#define CPPHTTPLIB_USE_POLL
// httplib caps bodies sent as application/x-www-form-urlencoded at 8 KiB (413), apart from
// the payload limit set below. `curl -d` sends JSON with exactly that type, and llama-server
// reads any body as JSON whatever its type, so only the payload limit applies here.
#define CPPHTTPLIB_FORM_URL_ENCODED_PAYLOAD_MAX_LENGTH SIZE_MAX
#include <cstdint>
#include <httplib.h>

#include "base/free_memory.h"
#include "server/connection_limits.h"
#include "server/errors.h"
#include "server/request_head.h"
#include "server/tls.h"

namespace mmojo {

namespace {

using Clock = std::chrono::steady_clock;

// Set on the accept thread while it runs a connection that found every slot taken: the
// connection is answered 503 and closed at once instead of waiting in a queue.
thread_local bool t_no_free_slot = false;

// httplib's task queue: one thread per connection, created on demand and kept for the
// next one, never more than `max` (see t_no_free_slot).
class ConnectionThreads : public httplib::TaskQueue {
public:
    explicit ConnectionThreads(size_t max) : max_(max) {}
    ~ConnectionThreads() override { shutdown(); }

    void enqueue(std::function<void()> fn) override {
        std::unique_lock<std::mutex> lock(mutex_);
        if (busy_ >= max_ || stopping_) {
            lock.unlock();
            t_no_free_slot = true;
            fn();
            t_no_free_slot = false;
            return;
        }
        ++busy_;
        jobs_.push_back(std::move(fn));
        // A thread that was woken but has not taken its job yet still counts as idle, so
        // compare with the queue length, not with zero.
        if (idle_ < jobs_.size()) {
            threads_.emplace_back([this] { work(); });
        } else {
            wake_.notify_one();
        }
    }

    void shutdown() override {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        for (auto& t : threads_) {
            if (t.joinable()) t.join();
        }
        threads_.clear();
    }

private:
    void work() {
        std::unique_lock<std::mutex> lock(mutex_);
        for (;;) {
            ++idle_;
            wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
            --idle_;
            if (jobs_.empty()) return;
            std::function<void()> job = std::move(jobs_.front());
            jobs_.pop_front();
            lock.unlock();
            job();
            job = nullptr;
            lock.lock();
            --busy_;
        }
    }

    const size_t max_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::function<void()>> jobs_;
    std::vector<std::thread> threads_;
    size_t busy_ = 0;
    size_t idle_ = 0;
    bool stopping_ = false;
};

// Bytes in and out of one connection: the socket itself, or a TLS session over it.
class Channel {
public:
    virtual ~Channel() = default;
    virtual long recv(char* data, size_t size) = 0;   // > 0, 0 at end, < 0 error, or kAgain
    virtual long send(const char* data, size_t size) = 0;
    virtual size_t pending() const { return 0; }
};

class PlainChannel : public Channel {
public:
    explicit PlainChannel(socket_t sock) : sock_(sock) {}
    long recv(char* data, size_t size) override {
        return long(httplib::detail::read_socket(sock_, data, size, 0));
    }
    long send(const char* data, size_t size) override {
        return long(httplib::detail::send_socket(sock_, data, size, 0));
    }

private:
    socket_t sock_;
};

class TlsChannel : public Channel {
public:
    explicit TlsChannel(std::unique_ptr<TlsSession> session) : session_(std::move(session)) {}
    long recv(char* data, size_t size) override { return session_->read(data, size); }
    long send(const char* data, size_t size) override { return session_->write(data, size); }
    size_t pending() const override { return session_->pending(); }
    TlsSession& session() { return *session_; }

private:
    std::unique_ptr<TlsSession> session_;
};

bool wait_socket_readable(socket_t sock, Clock::time_point deadline) {
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now());
        if (left.count() <= 0) return false;
        // At most a second per wait, so a shut-down socket or a passed deadline is seen soon.
        const long long us = std::min<long long>(left.count(), 1'000'000);
        const ssize_t r = httplib::detail::select_read(sock, time_t(us / 1'000'000), time_t(us % 1'000'000));
        if (r > 0) return true;
        if (r < 0) return false;
    }
}

// The httplib::Stream of one connection: bytes already read (a request head that was
// checked, or the start of a pipelined request) come first, then the channel, each read
// bounded by the current deadline.
class ConnectionStream : public httplib::Stream {
public:
    ConnectionStream(socket_t sock, Channel& channel, int write_timeout_s, Clock::time_point* io_deadline)
        : sock_(sock), channel_(channel), write_timeout_s_(write_timeout_s), io_deadline_(io_deadline) {}

    // Reads from now on fail once `t` has passed (the TLS record layer's reads too).
    void set_deadline(Clock::time_point t) {
        deadline_ = t;
        *io_deadline_ = t;
    }
    size_t buffered() const { return buffer_.size() - offset_; }

    // Waits for input until `until`; false when nothing came.
    bool wait_input(Clock::time_point until) const { return buffered() > 0 || wait_channel(until); }

    enum class Head { kComplete, kClosed, kTimedOut, kTooLarge };
    // Reads until the buffered bytes hold a whole request head; `head` views it (the bytes
    // stay buffered for httplib to parse).
    Head read_head(std::string_view& head) {
        for (;;) {
            const std::string_view have(buffer_.data() + offset_, buffered());
            const size_t end = request_head_end(have);
            if (end != std::string_view::npos) {
                head = have.substr(0, end);
                return Head::kComplete;
            }
            if (have.size() > kMaxRequestHeadBytes) return Head::kTooLarge;
            const long n = fill();
            if (n == 0) return Head::kClosed;
            if (n < 0) return Head::kTimedOut;
        }
    }

    bool is_readable() const override { return wait_input(deadline_); }
    bool is_writable() const override {
        return httplib::detail::select_write(sock_, write_timeout_s_, 0) > 0 &&
               httplib::detail::is_socket_alive(sock_);
    }

    ssize_t read(char* ptr, size_t size) override {
        if (buffered() == 0 && fill() <= 0) return -1;
        const size_t n = std::min(size, buffered());
        std::memcpy(ptr, buffer_.data() + offset_, n);
        offset_ += n;
        if (offset_ == buffer_.size()) {
            // A big pipelined burst must not stay allocated for the connection's life.
            if (buffer_.capacity() > (1u << 20)) std::string().swap(buffer_);
            buffer_.clear();
            offset_ = 0;
        }
        return ssize_t(n);
    }

    ssize_t write(const char* ptr, size_t size) override {
        if (!is_writable()) return -1;
        return ssize_t(channel_.send(ptr, size));
    }

    bool write_all(std::string_view bytes) {
        while (!bytes.empty()) {
            const ssize_t n = write(bytes.data(), bytes.size());
            if (n <= 0) return false;
            bytes.remove_prefix(size_t(n));
        }
        return true;
    }

    void get_remote_ip_and_port(std::string& ip, int& port) const override {
        httplib::detail::get_remote_ip_and_port(sock_, ip, port);
    }
    void get_local_ip_and_port(std::string& ip, int& port) const override {
        httplib::detail::get_local_ip_and_port(sock_, ip, port);
    }
    socket_t socket() const override { return sock_; }

private:
    // Waits until the channel itself has bytes (decrypted ones count) or the socket does.
    bool wait_channel(Clock::time_point until) const {
        return channel_.pending() > 0 || wait_socket_readable(sock_, until);
    }

    // Appends what the channel has (waiting until the deadline); bytes read, 0 at the
    // end of the stream, -1 on an error or a passed deadline.
    long fill() {
        char chunk[16384];
        for (;;) {
            if (!wait_channel(deadline_)) return -1;
            const long n = channel_.recv(chunk, sizeof(chunk));
            if (n == TlsSession::kAgain) continue;
            if (n > 0) buffer_.append(chunk, size_t(n));
            return n < 0 ? -1 : n;
        }
    }

    socket_t sock_;
    Channel& channel_;
    int write_timeout_s_;
    Clock::time_point* io_deadline_;
    Clock::time_point deadline_ = Clock::now();
    std::string buffer_;
    size_t offset_ = 0;
};

ErrorType error_type_for_status(int status) {
    switch (status) {
        case 413: return ErrorType::kPayloadTooLarge;
        case 429: return ErrorType::kTooManyRequests;
        case 503: return ErrorType::kUnavailable;
        default: return status >= 500 ? ErrorType::kServer : ErrorType::kInvalidRequest;
    }
}

// A complete response written by the front itself (the request never reached httplib).
std::string plain_response(int status, const std::string& message) {
    nlohmann::json body = error_body(error_type_for_status(status), message);
    body["error"]["code"] = status;
    const std::string text = dump_json(body);
    return "HTTP/1.1 " + std::to_string(status) + " " + httplib::detail::status_message(status) +
           "\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: " +
           std::to_string(text.size()) + "\r\nConnection: close\r\n\r\n" + text;
}

class GuardedServer : public httplib::Server {
public:
    GuardedServer(const HttpServerOptions& o, const TlsServerConfig* tls)
        : o_(o), tls_(tls),
          limits_(size_t(std::max(1, o.max_connections)), size_t(std::max(1, o.max_connections_per_address))) {}

    void close_connections() { limits_.close_all(); }

private:
    bool process_and_close_socket(socket_t sock) override {
        std::string address;
        int port = 0;
        httplib::detail::get_remote_ip_and_port(sock, address, port);
        uint64_t id = 0;
        ConnectionLimits::Admission admission = ConnectionLimits::Admission::kServerFull;
        if (!t_no_free_slot) {
            admission = limits_.admit(address, [sock] { httplib::detail::shutdown_socket(sock); }, id);
        }
        if (admission == ConnectionLimits::Admission::kAdmitted) {
            serve(sock);
            limits_.release(id);
        } else if (admission != ConnectionLimits::Admission::kStopping && !tls_) {
            // (Over TLS a refusal would need a handshake first: the socket is just closed.)
            const std::string text =
                admission == ConnectionLimits::Admission::kAddressFull
                    ? plain_response(429, "too many connections from " + address + " (at most " +
                                              std::to_string(limits_.max_per_address()) + ")")
                    : plain_response(503, "all " + std::to_string(limits_.max_total()) +
                                              " connection slots are in use; try again");
            httplib::detail::send_socket(sock, text.data(), text.size(), 0);
        }
        httplib::detail::shutdown_socket(sock);
        httplib::detail::close_socket(sock);
        return true;
    }

    void serve(socket_t sock) {
        std::unique_ptr<Channel> channel;
        auto io_deadline = std::make_shared<Clock::time_point>();
        if (tls_) {
            // The handshake must finish within the head's time; afterwards the stream moves
            // this deadline with each request (ConnectionStream::set_deadline).
            *io_deadline = Clock::now() + std::chrono::seconds(o_.header_timeout_s);
            TlsIo io;
            io.recv = [sock, io_deadline](unsigned char* data, size_t size) -> long {
                if (!wait_socket_readable(sock, *io_deadline)) return -1;
                return long(httplib::detail::read_socket(sock, data, size, 0));
            };
            io.send = [sock](const unsigned char* data, size_t size) -> long {
                return long(httplib::detail::send_socket(sock, data, size, 0));
            };
            auto session = tls_->session(io);
            std::string why;
            if (!session->handshake(why)) return;
            // After the handshake, reads wait on the stream's own deadlines first.
            auto tls_channel = std::make_unique<TlsChannel>(std::move(session));
            channel = std::move(tls_channel);
        } else {
            channel = std::make_unique<PlainChannel>(sock);
        }
        ConnectionStream stream(sock, *channel, o_.write_timeout_s, io_deadline.get());
        for (size_t count = keep_alive_max_count_; count > 0 && svr_sock_ != INVALID_SOCKET; --count) {
            if (!stream.wait_input(Clock::now() + std::chrono::seconds(o_.keep_alive_timeout_s))) break;
            // The first byte is here (or buffered): the head's clock starts now.
            stream.set_deadline(Clock::now() + std::chrono::seconds(o_.header_timeout_s));
            std::string_view head;
            switch (stream.read_head(head)) {
                case ConnectionStream::Head::kComplete: break;
                case ConnectionStream::Head::kClosed: return;
                case ConnectionStream::Head::kTimedOut:
                    if (stream.buffered() > 0) {
                        stream.write_all(plain_response(408, "the request head did not arrive within " +
                                                                 std::to_string(o_.header_timeout_s) + " s"));
                    }
                    return;
                case ConnectionStream::Head::kTooLarge:
                    stream.write_all(plain_response(431, "request head larger than " +
                                                             std::to_string(kMaxRequestHeadBytes) + " bytes"));
                    return;
            }
            const RequestHeadVerdict verdict = check_request_head(head, payload_max_length_);
            if (verdict.status != 0) {
                stream.write_all(plain_response(verdict.status, verdict.message));
                return;
            }
            stream.set_deadline(Clock::now() + std::chrono::seconds(o_.body_timeout_s) +
                                std::chrono::seconds(verdict.content_length >> 20));
            bool closed = false;
            const bool last = count == 1;
            const bool served = process_request(stream, last, closed, nullptr);
            // A big request's buffers (body, JSON, tokens) are freed by now: give the
            // memory back instead of keeping the process at its peak.
            if (verdict.content_length >= (1u << 20)) return_free_memory();
            if (!served || closed) break;
        }
        if (tls_) static_cast<TlsChannel&>(*channel).session().close_notify();
    }

    const HttpServerOptions o_;
    const TlsServerConfig* tls_;
    ConnectionLimits limits_;
};

}  // namespace

struct HttpServer::Impl {
    const Router& router;
    HttpServerOptions options;
    std::unique_ptr<TlsServerConfig> tls;
    std::unique_ptr<GuardedServer> server;
    Impl(const Router& r, const HttpServerOptions& o) : router(r), options(o) {
        if (!o.ssl_key_file.empty() || !o.ssl_cert_file.empty()) {
            if (o.ssl_key_file.empty() || o.ssl_cert_file.empty()) {
                throw std::runtime_error("HTTPS needs both --ssl-key-file and --ssl-cert-file");
            }
            tls = TlsServerConfig::load(o.ssl_cert_file, o.ssl_key_file);
        }
        server = std::make_unique<GuardedServer>(o, tls.get());
    }
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
    auto& svr = *impl_->server;
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
    svr.set_exception_handler([](const httplib::Request& req, httplib::Response& res,
                                 std::exception_ptr ep) {
        std::string message = "unknown error";
        try {
            if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
            message = e.what();
        } catch (...) {
        }
        std::fprintf(stderr, "error: %s %s: %s\n", req.method.c_str(), req.path.c_str(), message.c_str());
        res.status = 500;
        res.set_content(dump_json(error_body(ErrorType::kServer, message)),
                        "application/json; charset=utf-8");
    });
    svr.set_payload_max_length(options.max_body_bytes);
    svr.set_write_timeout(options.write_timeout_s, 0);
    svr.set_keep_alive_max_count(1000);
    const size_t slots = size_t(std::max(1, options.max_connections));
    svr.new_task_queue = [slots] { return new ConnectionThreads(slots); };
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::bind() {
    auto& svr = *impl_->server;
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

void HttpServer::run() { impl_->server->listen_after_bind(); }

void HttpServer::stop() {
    if (!impl_) return;
    impl_->server->stop();
    impl_->server->close_connections();
}

bool HttpServer::tls() const { return impl_->tls != nullptr; }

}  // namespace mmojo
