// File and memory ByteSource implementations. Files use stdio with 64-bit seeks
// (_fseeki64 on Windows, fseeko elsewhere); a mutex serialises seek+read pairs so one
// source can be shared between threads (the server reads UI entries concurrently).
#include "package/archive/byte_source.h"

#include <cerrno>
#include <cstring>
#include <mutex>
#include <stdexcept>

#ifdef _WIN32
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#endif

namespace mmojo {
namespace {

[[noreturn]] void range_error(const std::string& name, uint64_t offset, size_t n, uint64_t size) {
    throw std::runtime_error(name + ": read of " + std::to_string(n) + " bytes at offset " +
                             std::to_string(offset) + " is outside the file (size " +
                             std::to_string(size) + ")");
}

bool seek64(std::FILE* f, uint64_t offset) {
#ifdef _WIN32
    return _fseeki64(f, static_cast<__int64>(offset), SEEK_SET) == 0;
#else
    return fseeko(f, static_cast<off_t>(offset), SEEK_SET) == 0;
#endif
}

uint64_t tell64(std::FILE* f) {
#ifdef _WIN32
    return static_cast<uint64_t>(_ftelli64(f));
#else
    return static_cast<uint64_t>(ftello(f));
#endif
}

std::FILE* open_read(const std::string& path) {
#ifdef _WIN32
    // UTF-8 path -> UTF-16 for _wfopen.
    const int n = MultiByteToWideChar(CP_UTF8, 0, path.c_str(), -1, nullptr, 0);
    if (n <= 0) return nullptr;
    std::wstring wide(size_t(n), L'\0');
    MultiByteToWideChar(CP_UTF8, 0, path.c_str(), -1, wide.data(), n);
    return _wfopen(wide.c_str(), L"rb");
#else
    return std::fopen(path.c_str(), "rb");
#endif
}

class FileSource : public ByteSource {
public:
    explicit FileSource(std::string path) : path_(std::move(path)) {
        file_ = open_read(path_);
        if (!file_) {
            throw std::runtime_error(path_ + ": cannot open for reading: " + std::strerror(errno));
        }
        if (!seek64(file_, 0) || std::fseek(file_, 0, SEEK_END) != 0) {
            std::fclose(file_);
            throw std::runtime_error(path_ + ": cannot seek to the end");
        }
        size_ = tell64(file_);
    }
    ~FileSource() override { std::fclose(file_); }
    FileSource(const FileSource&) = delete;
    FileSource& operator=(const FileSource&) = delete;

    uint64_t size() const override { return size_; }
    const std::string& name() const override { return path_; }

    void read(uint64_t offset, void* out, size_t n) const override {
        if (offset > size_ || n > size_ - offset) range_error(path_, offset, n, size_);
        if (n == 0) return;
        std::lock_guard<std::mutex> lock(mutex_);
        if (!seek64(file_, offset) || std::fread(out, 1, n, file_) != n) {
            throw std::runtime_error(path_ + ": read of " + std::to_string(n) +
                                     " bytes at offset " + std::to_string(offset) + " failed");
        }
    }

private:
    std::string path_;
    std::FILE* file_ = nullptr;
    uint64_t size_ = 0;
    mutable std::mutex mutex_;
};

class MemorySource : public ByteSource {
public:
    MemorySource(const uint8_t* data, size_t size, std::string name)
        : data_(data), size_(size), name_(std::move(name)) {}
    uint64_t size() const override { return size_; }
    const std::string& name() const override { return name_; }
    void read(uint64_t offset, void* out, size_t n) const override {
        if (offset > size_ || n > size_ - offset) range_error(name_, offset, n, size_);
        if (n > 0) std::memcpy(out, data_ + offset, n);
    }

private:
    const uint8_t* data_;
    size_t size_;
    std::string name_;
};

}  // namespace

std::shared_ptr<ByteSource> open_file_source(const std::string& path) {
    return std::make_shared<FileSource>(path);
}

std::shared_ptr<ByteSource> memory_source(const uint8_t* data, size_t size, std::string name) {
    return std::make_shared<MemorySource>(data, size, std::move(name));
}

}  // namespace mmojo
