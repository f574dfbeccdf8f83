/* Mbed TLS's mutex type under MBEDTLS_THREADING_ALT (see mbedtls_config.h): an opaque
 * pointer to a C++ std::mutex that src/server/tls_mbedtls.cpp creates and locks. */
#ifndef MMOJO_MBEDTLS_THREADING_ALT_H
#define MMOJO_MBEDTLS_THREADING_ALT_H

typedef struct mbedtls_threading_mutex_t {
    void* mutex;
} mbedtls_threading_mutex_t;

#endif
