// ZIP archive reader (PKWARE APPNOTE 6.3.x): end-of-central-directory search, ZIP64
// records and extra fields, central directory and local headers, stored (method 0) and
// deflated (method 8) entries with CRC-32 checks. The archive may follow arbitrary bytes
// (our executable): offsets in our own archives are absolute file offsets, and archives
// whose offsets are relative to their own start are recognised by comparing where the
// central directory is with where the EOCD says it is (the same shift `unzip` applies).
// Every offset and size is validated against the file before use.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "package/archive/byte_source.h"

namespace mmojo {

// Malformed archive: the message names the file, the byte offset and the reason.
class ZipError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct ZipEntry {
    std::string name;                // as stored (UTF-8 or CP437 bytes), '/' separators
    uint16_t method = 0;             // 0 = stored, 8 = deflated, anything else unsupported
    uint16_t flags = 0;              // general purpose bit flag
    uint32_t crc32 = 0;
    uint64_t compressed_size = 0;
    uint64_t uncompressed_size = 0;
    uint64_t local_header_offset = 0;  // absolute file offset (shift applied)
    uint64_t data_offset = 0;          // absolute file offset of the entry's data
    uint32_t external_attributes = 0;
    uint16_t version_made_by = 0;

    bool is_directory() const { return !name.empty() && name.back() == '/'; }
    bool is_encrypted() const { return (flags & 1) != 0; }
};

class ZipReader {
public:
    // Parses the archive at the end of `source`. Returns std::nullopt when the file has no
    // end-of-central-directory record (plain executable, no ZIP); throws ZipError when a
    // record is present but anything in the archive is inconsistent.
    static std::optional<ZipReader> open(std::shared_ptr<ByteSource> source);
    // Convenience: opens a file.
    static std::optional<ZipReader> open_file(const std::string& path);

    const std::vector<ZipEntry>& entries() const { return entries_; }
    // Exact name match; nullptr when absent.
    const ZipEntry* find(std::string_view name) const;

    // Decompressed contents, CRC-32 checked. Throws ZipError for unsupported methods,
    // encrypted entries, corrupt deflate data or a CRC mismatch. `max_size` guards memory:
    // larger entries are refused.
    std::vector<uint8_t> read(const ZipEntry& entry, uint64_t max_size = uint64_t(1) << 32) const;
    // The entry's data exactly as stored (raw deflate stream for method 8).
    std::vector<uint8_t> read_raw(const ZipEntry& entry) const;

    // (absolute file offset, size) of a stored entry's data, for mapping it in place.
    // Throws ZipError when the entry is compressed or encrypted.
    struct Range {
        uint64_t offset;
        uint64_t size;
    };
    Range stored_range(const ZipEntry& entry) const;

    const std::string& path() const { return source_->name(); }
    const std::shared_ptr<ByteSource>& source() const { return source_; }
    // Offset of the first byte belonging to the archive (first local header, or the central
    // directory when there are no entries): the bytes before it are the prefix.
    uint64_t archive_start() const { return archive_start_; }
    // Amount added to offsets stored in the archive (0 for absolute offsets).
    uint64_t shift() const { return shift_; }
    uint64_t central_directory_offset() const { return cd_offset_; }
    bool is_zip64() const { return zip64_; }
    const std::string& comment() const { return comment_; }

private:
    explicit ZipReader(std::shared_ptr<ByteSource> source) : source_(std::move(source)) {}
    [[noreturn]] void fail(uint64_t offset, const std::string& why) const;
    void parse(uint64_t eocd_pos, const uint8_t* eocd);
    void parse_central_directory(uint64_t count);
    void resolve_local_header(ZipEntry& entry);

    std::shared_ptr<ByteSource> source_;
    std::vector<ZipEntry> entries_;
    std::vector<size_t> sorted_;  // entry indices sorted by name, for find()
    uint64_t archive_start_ = 0;
    uint64_t shift_ = 0;
    uint64_t cd_offset_ = 0;  // absolute
    uint64_t cd_size_ = 0;
    bool zip64_ = false;
    std::string comment_;
};

}  // namespace mmojo
