// Builds without a TLS library (MMOJO_TLS=OFF): --ssl-key-file / --ssl-cert-file give a
// clear error instead of serving plain HTTP by surprise.
#ifndef MMOJO_HAVE_TLS
#include <stdexcept>

#include "server/tls.h"

namespace mmojo {

bool TlsServerConfig::available() { return false; }

std::unique_ptr<TlsServerConfig> TlsServerConfig::load(const std::string&, const std::string&) {
    throw std::runtime_error(
        "this build has no TLS library (configured with MMOJO_TLS=OFF or without Mbed TLS "
        "sources: run scripts/setup.sh), so --ssl-key-file / --ssl-cert-file cannot be served");
}

}  // namespace mmojo
#endif
