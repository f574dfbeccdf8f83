// HTTPS for the HTTP front (--ssl-key-file / --ssl-cert-file, as llama-server names them).
// The TLS library is Mbed TLS (see tls_mbedtls.cpp for why); this header hides it, so
// http_server.cpp only sees a session that reads and writes plaintext over callbacks that
// move ciphertext through the socket (with the connection's deadlines applied there).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace mmojo {

// Raw byte movers for one connection: return bytes moved (> 0), 0 at end of stream, or
// -1 on an error or when the connection's deadline has passed.
struct TlsIo {
    std::function<long(unsigned char*, size_t)> recv;
    std::function<long(const unsigned char*, size_t)> send;
};

class TlsSession {
public:
    static constexpr long kAgain = -2;   // read(): a partial record arrived, wait for more
    virtual ~TlsSession() = default;
    // Runs the server side of the handshake; false (with why) when the client is not a
    // TLS client, offers nothing we accept, or stalls.
    virtual bool handshake(std::string& why) = 0;
    virtual long read(char* data, size_t size) = 0;          // plaintext; 0 at close
    virtual long write(const char* data, size_t size) = 0;   // all of it, or -1
    virtual size_t pending() const = 0;                      // decrypted bytes not yet read
    virtual void close_notify() = 0;
};

class TlsServerConfig {
public:
    virtual ~TlsServerConfig() = default;
    // Reads a PEM certificate chain and private key; throws std::runtime_error naming the
    // file and the reason. Throws too when this build has no TLS library.
    static std::unique_ptr<TlsServerConfig> load(const std::string& cert_file, const std::string& key_file);
    // True when this build can serve HTTPS.
    static bool available();
    virtual std::unique_ptr<TlsSession> session(TlsIo io) const = 0;
};

}  // namespace mmojo
