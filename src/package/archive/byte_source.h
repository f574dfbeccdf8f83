// Random-access reads from a file or a memory buffer, with 64-bit offsets. The ZIP reader
// works on this interface so the same code parses the executable on disk (without mapping
// a multi-gigabyte model) and in-memory buffers (unit tests, fuzzing).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

namespace mmojo {

class ByteSource {
public:
    virtual ~ByteSource() = default;
    virtual uint64_t size() const = 0;
    // Reads exactly `n` bytes at `offset`; throws std::runtime_error (naming the source,
    // offset and length) if the range is outside the source or the read fails.
    virtual void read(uint64_t offset, void* out, size_t n) const = 0;
    // File path or a descriptive name, used in error messages.
    virtual const std::string& name() const = 0;
};

// Opens a file for reading. Throws std::runtime_error if it cannot be opened.
std::shared_ptr<ByteSource> open_file_source(const std::string& path);

// A view of memory owned by the caller (must outlive the source).
std::shared_ptr<ByteSource> memory_source(const uint8_t* data, size_t size, std::string name);

}  // namespace mmojo
