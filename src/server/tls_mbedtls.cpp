// HTTPS sessions over Mbed TLS (see tls.h). Why Mbed TLS: it must link statically into all
// six targets (Linux musl, Windows and macOS, x86_64 and aarch64, built with zig's clang).
// Mbed TLS is portable C99 with no generated sources, assembly files or Perl configure
// step, comes from a package registry (Debian's source package, which Debian patches for
// security), and adds about 400 KB. OpenSSL would need its Perl configure and per-target
// assembly for each cross target; the OS libraries (SChannel, Secure Transport) would mean
// three TLS back ends to test. cpp-httplib 0.11 only knows OpenSSL, so the server runs its
// own connections (http_server.cpp) and plugs this session in as a byte channel.
// Mbed TLS 2.28 speaks TLS 1.2 (what every current client, the openai package included,
// accepts); TLS 1.0/1.1 are refused.
#ifdef MMOJO_HAVE_TLS
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <mutex>
#include <stdexcept>
#include <string>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/threading.h>
#include <mbedtls/x509_crt.h>

#include "server/tls.h"

namespace mmojo {

namespace {

std::string mbed_error(int code) {
    char text[200];
    mbedtls_strerror(code, text, sizeof(text));
    return std::string(text) + " (-0x" + [code] {
        char hex[16];
        std::snprintf(hex, sizeof(hex), "%04x", unsigned(-code));
        return std::string(hex);
    }() + ")";
}

// MBEDTLS_THREADING_ALT (cmake/mbedtls_config.h): Mbed TLS's mutexes are std::mutex.
void mutex_init(mbedtls_threading_mutex_t* m) { m->mutex = new std::mutex; }
void mutex_free(mbedtls_threading_mutex_t* m) {
    delete static_cast<std::mutex*>(m->mutex);
    m->mutex = nullptr;
}
int mutex_lock(mbedtls_threading_mutex_t* m) {
    if (!m->mutex) return MBEDTLS_ERR_THREADING_BAD_INPUT_DATA;
    static_cast<std::mutex*>(m->mutex)->lock();
    return 0;
}
int mutex_unlock(mbedtls_threading_mutex_t* m) {
    if (!m->mutex) return MBEDTLS_ERR_THREADING_BAD_INPUT_DATA;
    static_cast<std::mutex*>(m->mutex)->unlock();
    return 0;
}

void install_threading() {
    static std::once_flag once;
    std::call_once(once, [] { mbedtls_threading_set_alt(mutex_init, mutex_free, mutex_lock, mutex_unlock); });
}

// A PEM file's bytes with the terminating NUL Mbed TLS's PEM parser wants.
std::string read_pem(const std::string& path, const char* flag) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + std::string(flag) + " '" + path + "'");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.size() > (1u << 20)) {
        throw std::runtime_error(std::string(flag) + " '" + path + "' is larger than 1 MiB: not a PEM file");
    }
    text.push_back('\0');
    return text;
}

class MbedSession : public TlsSession {
public:
    MbedSession(const mbedtls_ssl_config& config, TlsIo io) : io_(std::move(io)) {
        mbedtls_ssl_init(&ssl_);
        const int r = mbedtls_ssl_setup(&ssl_, &config);
        if (r != 0) throw std::runtime_error("TLS session setup failed: " + mbed_error(r));
        mbedtls_ssl_set_bio(&ssl_, this, bio_send, bio_recv, nullptr);
    }
    ~MbedSession() override { mbedtls_ssl_free(&ssl_); }

    bool handshake(std::string& why) override {
        for (;;) {
            const int r = mbedtls_ssl_handshake(&ssl_);
            if (r == 0) return true;
            if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
            why = mbed_error(r);
            return false;
        }
    }

    long read(char* data, size_t size) override {
        const int r = mbedtls_ssl_read(&ssl_, reinterpret_cast<unsigned char*>(data), size);
        if (r > 0) return r;
        if (r == 0 || r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) return 0;
        if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) return kAgain;
        return -1;
    }

    long write(const char* data, size_t size) override {
        size_t done = 0;
        while (done < size) {
            const int r = mbedtls_ssl_write(&ssl_, reinterpret_cast<const unsigned char*>(data) + done, size - done);
            if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
            if (r <= 0) return -1;
            done += size_t(r);
        }
        return long(size);
    }

    size_t pending() const override { return mbedtls_ssl_get_bytes_avail(&ssl_); }

    void close_notify() override { (void)mbedtls_ssl_close_notify(&ssl_); }

private:
    static int bio_recv(void* self, unsigned char* data, size_t size) {
        const long n = static_cast<MbedSession*>(self)->io_.recv(data, size);
        return n < 0 ? MBEDTLS_ERR_NET_RECV_FAILED : int(n);
    }
    static int bio_send(void* self, const unsigned char* data, size_t size) {
        const long n = static_cast<MbedSession*>(self)->io_.send(data, size);
        return n <= 0 ? MBEDTLS_ERR_NET_SEND_FAILED : int(n);
    }

    TlsIo io_;
    mbedtls_ssl_context ssl_;
};

class MbedConfig : public TlsServerConfig {
public:
    MbedConfig(const std::string& cert_file, const std::string& key_file) {
        install_threading();
        mbedtls_entropy_init(&entropy_);
        mbedtls_ctr_drbg_init(&drbg_);
        mbedtls_x509_crt_init(&cert_);
        mbedtls_pk_init(&key_);
        mbedtls_ssl_config_init(&config_);
        try {
            setup(cert_file, key_file);
        } catch (...) {
            release();
            throw;
        }
    }
    ~MbedConfig() override { release(); }

    std::unique_ptr<TlsSession> session(TlsIo io) const override {
        return std::make_unique<MbedSession>(config_, std::move(io));
    }

private:
    void setup(const std::string& cert_file, const std::string& key_file) {
        static const char kPersonalization[] = "mmojo-server https";
        int r = mbedtls_ctr_drbg_seed(&drbg_, mbedtls_entropy_func, &entropy_,
                                      reinterpret_cast<const unsigned char*>(kPersonalization),
                                      sizeof(kPersonalization) - 1);
        if (r != 0) throw std::runtime_error("TLS random generator: " + mbed_error(r));
        const std::string cert = read_pem(cert_file, "--ssl-cert-file");
        r = mbedtls_x509_crt_parse(&cert_, reinterpret_cast<const unsigned char*>(cert.data()), cert.size());
        if (r != 0) {
            throw std::runtime_error("--ssl-cert-file '" + cert_file + "': not a PEM certificate (chain): " +
                                     mbed_error(r));
        }
        std::string key = read_pem(key_file, "--ssl-key-file");
        r = mbedtls_pk_parse_key(&key_, reinterpret_cast<const unsigned char*>(key.data()), key.size(), nullptr, 0);
        std::memset(key.data(), 0, key.size());   // the key stays only in Mbed TLS's context
        if (r != 0) {
            throw std::runtime_error("--ssl-key-file '" + key_file + "': not an unencrypted PEM private key: " +
                                     mbed_error(r));
        }
        r = mbedtls_pk_check_pair(&cert_.pk, &key_);
        if (r != 0) {
            throw std::runtime_error("--ssl-key-file '" + key_file + "' is not the key of the certificate in '" +
                                     cert_file + "': " + mbed_error(r));
        }
        r = mbedtls_ssl_config_defaults(&config_, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
                                        MBEDTLS_SSL_PRESET_DEFAULT);
        if (r != 0) throw std::runtime_error("TLS configuration: " + mbed_error(r));
        mbedtls_ssl_conf_min_version(&config_, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
        mbedtls_ssl_conf_rng(&config_, mbedtls_ctr_drbg_random, &drbg_);
        r = mbedtls_ssl_conf_own_cert(&config_, &cert_, &key_);
        if (r != 0) throw std::runtime_error("TLS certificate: " + mbed_error(r));
    }

    void release() {
        mbedtls_ssl_config_free(&config_);
        mbedtls_pk_free(&key_);
        mbedtls_x509_crt_free(&cert_);
        mbedtls_ctr_drbg_free(&drbg_);
        mbedtls_entropy_free(&entropy_);
    }

    mbedtls_entropy_context entropy_;
    mbedtls_ctr_drbg_context drbg_;
    mbedtls_x509_crt cert_;
    mbedtls_pk_context key_;
    mbedtls_ssl_config config_;
};

}  // namespace

bool TlsServerConfig::available() { return true; }

std::unique_ptr<TlsServerConfig> TlsServerConfig::load(const std::string& cert_file, const std::string& key_file) {
    return std::make_unique<MbedConfig>(cert_file, key_file);
}

}  // namespace mmojo
#endif
