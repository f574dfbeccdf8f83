/* Mbed TLS build configuration for mmojo-server's HTTPS (src/server/tls_mbedtls.cpp),
 * passed to the Mbed TLS sources as MBEDTLS_CONFIG_FILE. Mbed TLS 2.28 (Debian bookworm's
 * source package, fetched by scripts/setup.sh) with its default feature set, except:
 *  - no sockets or timers of its own (MBEDTLS_NET_C, MBEDTLS_TIMING_C): the server moves
 *    the bytes through its own connection code, with its deadlines;
 *  - no file access (MBEDTLS_FS_IO): the server reads the PEM files itself;
 *  - threading through functions the server installs (MBEDTLS_THREADING_ALT), so the
 *    random generator and RSA blinding shared by concurrent handshakes are locked on
 *    every OS without pthreads assumptions. */
#ifndef MMOJO_MBEDTLS_CONFIG_H
#define MMOJO_MBEDTLS_CONFIG_H

#include <mbedtls/config.h>

#undef MBEDTLS_NET_C
#undef MBEDTLS_TIMING_C
#undef MBEDTLS_FS_IO
#undef MBEDTLS_PSA_ITS_FILE_C
#undef MBEDTLS_PSA_CRYPTO_STORAGE_C
#define MBEDTLS_THREADING_C
#define MBEDTLS_THREADING_ALT

#include <mbedtls/check_config.h>

#endif
