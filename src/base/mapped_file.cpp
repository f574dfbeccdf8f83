// Read-only memory mapping of a byte range of a file: POSIX mmap, or Windows
// CreateFileMapping + MapViewOfFile. The requested offset is rounded down to the page size
// (POSIX) or the allocation granularity (Windows); data() points at the requested byte.
#include "base/mapped_file.h"

#include <cerrno>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#ifdef _WIN32
#ifndef NOMINMAX
#define NOMINMAX
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#else
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace mmojo {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& call, const std::string& why) {
    throw std::runtime_error("cannot map '" + path + "': " + call + " failed: " + why);
}

#ifdef _WIN32

std::string last_error_text() {
    const DWORD code = GetLastError();
    char buffer[512] = {};
    const DWORD n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
                                   nullptr, code, 0, buffer, sizeof(buffer), nullptr);
    std::string text(buffer, n);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
        text.pop_back();
    return text + " (error " + std::to_string(code) + ")";
}

// Owns a HANDLE for the duration of open(); the view stays valid after both handles close.
struct HandleGuard {
    HANDLE h = nullptr;
    ~HandleGuard() {
        if (h != nullptr && h != INVALID_HANDLE_VALUE) CloseHandle(h);
    }
};

HANDLE open_for_read(const std::string& path) {
    // Convert UTF-8 to UTF-16 so non-ASCII paths work.
    const int wide_len = MultiByteToWideChar(CP_UTF8, 0, path.c_str(), -1, nullptr, 0);
    if (wide_len <= 0) fail(path, "MultiByteToWideChar", last_error_text());
    std::wstring wide(static_cast<size_t>(wide_len), L'\0');
    MultiByteToWideChar(CP_UTF8, 0, path.c_str(), -1, wide.data(), wide_len);
    HANDLE h = CreateFileW(wide.c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_DELETE,
                           nullptr, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
    if (h == INVALID_HANDLE_VALUE) fail(path, "CreateFileW", last_error_text());
    return h;
}

uint64_t handle_size(HANDLE h, const std::string& path) {
    LARGE_INTEGER size;
    if (!GetFileSizeEx(h, &size)) fail(path, "GetFileSizeEx", last_error_text());
    return static_cast<uint64_t>(size.QuadPart);
}

#else

std::string errno_text(int err) { return std::string(std::strerror(err)) + " (errno " + std::to_string(err) + ")"; }

// Owns a file descriptor for the duration of open(); the mapping outlives it.
struct FdGuard {
    int fd = -1;
    ~FdGuard() {
        if (fd >= 0) ::close(fd);
    }
};

uint64_t fd_size(int fd, const std::string& path) {
    struct stat st;
    if (::fstat(fd, &st) != 0) fail(path, "fstat", errno_text(errno));
    if (!S_ISREG(st.st_mode)) fail(path, "fstat", "not a regular file");
    return static_cast<uint64_t>(st.st_size);
}

#endif

// Checks offset/length against the file size; returns the resolved length.
uint64_t resolve_range(const std::string& path, uint64_t file_size, uint64_t offset, uint64_t length) {
    if (offset > file_size)
        throw std::runtime_error("cannot map '" + path + "': offset " + std::to_string(offset) +
                                 " is past the end of the file (" + std::to_string(file_size) +
                                 " bytes)");
    if (length == 0) length = file_size - offset;
    if (length > file_size - offset)
        throw std::runtime_error("cannot map '" + path + "': range of " + std::to_string(length) +
                                 " bytes at offset " + std::to_string(offset) +
                                 " goes past the end of the file (" + std::to_string(file_size) +
                                 " bytes)");
    if (length > std::numeric_limits<size_t>::max())
        throw std::runtime_error("cannot map '" + path + "': range of " + std::to_string(length) +
                                 " bytes does not fit in this process's address space");
    return length;
}

}  // namespace

MappedFile MappedFile::open(const std::string& path, uint64_t offset, uint64_t length) {
    MappedFile out;
    out.path_ = path;
#ifdef _WIN32
    HandleGuard file;
    file.h = open_for_read(path);
    const uint64_t total = handle_size(file.h, path);
    length = resolve_range(path, total, offset, length);
    if (length == 0) {
        // An empty range: nothing to map (Windows cannot map zero bytes).
        return out;
    }
    SYSTEM_INFO info;
    GetSystemInfo(&info);
    const uint64_t granularity = info.dwAllocationGranularity;
    const uint64_t base_offset = offset - offset % granularity;
    const uint64_t view_size = offset - base_offset + length;
    HandleGuard mapping;
    mapping.h = CreateFileMappingW(file.h, nullptr, PAGE_READONLY, 0, 0, nullptr);
    if (mapping.h == nullptr) fail(path, "CreateFileMappingW", last_error_text());
    void* view = MapViewOfFile(mapping.h, FILE_MAP_READ, static_cast<DWORD>(base_offset >> 32),
                               static_cast<DWORD>(base_offset & 0xffffffffu),
                               static_cast<SIZE_T>(view_size));
    if (view == nullptr) fail(path, "MapViewOfFile", last_error_text());
#else
    FdGuard file;
    file.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (file.fd < 0) fail(path, "open", errno_text(errno));
    const uint64_t total = fd_size(file.fd, path);
    length = resolve_range(path, total, offset, length);
    if (length == 0) {
        // mmap of zero bytes is an error; an empty range needs no mapping.
        return out;
    }
    const long page = ::sysconf(_SC_PAGESIZE);
    const uint64_t granularity = page > 0 ? static_cast<uint64_t>(page) : 4096;
    const uint64_t base_offset = offset - offset % granularity;
    const uint64_t view_size = offset - base_offset + length;
    if (base_offset > static_cast<uint64_t>(std::numeric_limits<off_t>::max()))
        fail(path, "mmap", "offset " + std::to_string(base_offset) + " does not fit in off_t");
    void* view = ::mmap(nullptr, static_cast<size_t>(view_size), PROT_READ, MAP_PRIVATE, file.fd,
                        static_cast<off_t>(base_offset));
    if (view == MAP_FAILED)
        fail(path, "mmap", errno_text(errno) + " (" + std::to_string(view_size) + " bytes at offset " +
                               std::to_string(base_offset) + ")");
#endif
    out.base_ = view;
    out.base_size_ = static_cast<size_t>(view_size);
    out.data_ = static_cast<const uint8_t*>(view) + (offset - base_offset);
    out.size_ = static_cast<size_t>(length);
    return out;
}

uint64_t MappedFile::file_size(const std::string& path) {
#ifdef _WIN32
    HandleGuard file;
    file.h = open_for_read(path);
    return handle_size(file.h, path);
#else
    FdGuard file;
    file.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (file.fd < 0) fail(path, "open", errno_text(errno));
    return fd_size(file.fd, path);
#endif
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : path_(std::move(other.path_)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      base_(std::exchange(other.base_, nullptr)),
      base_size_(std::exchange(other.base_size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
    if (this != &other) {
        release();
        path_ = std::move(other.path_);
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
        base_ = std::exchange(other.base_, nullptr);
        base_size_ = std::exchange(other.base_size_, 0);
    }
    return *this;
}

MappedFile::~MappedFile() { release(); }

void MappedFile::release() {
    if (base_ != nullptr) {
#ifdef _WIN32
        UnmapViewOfFile(base_);
#else
        ::munmap(base_, base_size_);
#endif
    }
    base_ = nullptr;
    base_size_ = 0;
    data_ = nullptr;
    size_ = 0;
}

}  // namespace mmojo
