// SHA-256 (FIPS 180-4). Used for the polyglot file's cache keys (the launcher extracts a
// native build to a folder named after its hash) and for the page hashes of Mach-O ad hoc
// code signatures (Apple CodeDirectory, hash type 2).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace mmojo {

class Sha256 {
public:
    Sha256();
    void update(const void* data, size_t size);
    std::array<uint8_t, 32> finish();  // the object must not be used afterwards

    static std::array<uint8_t, 32> digest(const void* data, size_t size);
    static std::string hex(const std::array<uint8_t, 32>& d);

private:
    void block(const uint8_t* p);
    uint32_t h_[8];
    uint8_t buf_[64];
    size_t buffered_ = 0;
    uint64_t total_ = 0;
};

}  // namespace mmojo
