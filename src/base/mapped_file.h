// Read-only memory mapping of a file, or of a byte range inside a larger file (a GGUF
// stored in the executable's ZIP is mapped in place this way). POSIX mmap and Windows file
// mapping sit behind this one interface; the mapping offset is rounded down to the
// platform's granularity internally, so any offset works.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace mmojo {

class MappedFile {
public:
    MappedFile() = default;
    // Maps `length` bytes starting at `offset` (length 0 = to the end of the file).
    // Throws std::runtime_error naming the file and the failing call.
    static MappedFile open(const std::string& path, uint64_t offset = 0, uint64_t length = 0);

    MappedFile(MappedFile&& other) noexcept;
    MappedFile& operator=(MappedFile&& other) noexcept;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    ~MappedFile();

    const uint8_t* data() const { return data_; }
    size_t size() const { return size_; }
    const std::string& path() const { return path_; }
    // Size of the whole underlying file (not only the mapped range).
    static uint64_t file_size(const std::string& path);

private:
    void release();

    std::string path_;
    const uint8_t* data_ = nullptr;  // first byte of the requested range
    size_t size_ = 0;
    void* base_ = nullptr;           // start of the real mapping (granularity-aligned)
    size_t base_size_ = 0;
};

}  // namespace mmojo
