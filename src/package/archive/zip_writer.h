// ZIP archive writer (PKWARE APPNOTE 6.3.x) that appends an archive to a prefix (the
// executables of the polyglot file). Offsets in the output are absolute file offsets, so
// the result is both a valid ZIP and a valid executable. Entries are stored or deflated;
// a stored entry's data can be aligned (64 KiB for .gguf models, so they can be memory-
// mapped in place) by padding its local header's extra field, as Android's zipalign does.
// ZIP64 records are written only when a size or offset reaches 4 GiB or there are more than
// 65535 entries. Output is deterministic: fixed DOS timestamps (1980-01-01 00:00), fixed
// attributes, entries in the order given.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "package/archive/byte_source.h"
#include "package/archive/zip_reader.h"

namespace mmojo {

enum class ZipMethod {
    kStore,    // method 0
    kDeflate,  // method 8
    kAuto,     // deflate, but store when deflating does not make the entry smaller
};

// One entry to write. Build it with one of the helpers below.
struct ZipWriterEntry {
    std::string name;
    uint64_t alignment = 0;  // stored data starts at a multiple of this (0 or 1 = any)

    // Filled by the helpers:
    uint16_t method = 0;            // final method (0 or 8)
    uint32_t crc32 = 0;             // known unless crc_pending
    bool crc_pending = false;       // computed while copying (large stored files)
    uint64_t uncompressed_size = 0;
    std::vector<uint8_t> data;      // the bytes to write (compressed if method 8)...
    std::shared_ptr<ByteSource> source;  // ...or this range of a file/archive
    uint64_t source_offset = 0;
    uint64_t source_length = 0;
    bool verify_crc = false;        // check crc32 while copying a stored range

    uint64_t compressed_size() const { return source ? source_length : data.size(); }
};

// From bytes in memory.
ZipWriterEntry zip_entry_from_bytes(std::string name, const std::vector<uint8_t>& bytes,
                                    ZipMethod method, uint64_t alignment = 0);
// From a file: stored files are streamed (never loaded whole); deflated ones are read.
ZipWriterEntry zip_entry_from_file(std::string name, const std::string& path, ZipMethod method,
                                   uint64_t alignment = 0);
// A copy of an entry of an existing archive, without recompressing it (stored data is
// re-checked against its CRC-32 while copying).
ZipWriterEntry zip_entry_copy(const ZipReader& reader, const ZipEntry& entry,
                              uint64_t alignment = 0);

class ZipWriter {
public:
    // The output starts with bytes [0, prefix_length) of `prefix` (nullptr: no prefix).
    explicit ZipWriter(std::shared_ptr<ByteSource> prefix = nullptr, uint64_t prefix_length = 0);

    // Appends an entry. Throws std::invalid_argument for an empty, absolute, '..', '\\'
    // containing, overlong or duplicate name, or an alignment that is not a power of two
    // up to 65536.
    void add(ZipWriterEntry entry);

    // Exact size of the file write() will produce.
    uint64_t planned_size() const;
    bool needs_zip64() const;

    // Writes the whole file. Throws std::runtime_error naming the path on I/O errors.
    void write(const std::string& path) const;

    struct Placed {
        uint64_t gap;           // zero bytes before the local header (rare alignment case)
        uint64_t header_offset; // absolute offset of the local header
        uint64_t data_offset;   // absolute offset of the data
        uint16_t padding;       // bytes of the alignment extra field (0 = none)
    };
    // Where each entry goes, in order (computed by planned_size()/write()).
    std::vector<Placed> layout() const;

private:
    struct Layout {
        std::vector<Placed> placed;
        uint64_t cd_offset = 0;
        uint64_t cd_size = 0;
        uint64_t total = 0;
        bool zip64 = false;
    };
    Layout plan() const;

    std::shared_ptr<ByteSource> prefix_;
    uint64_t prefix_length_;
    std::vector<ZipWriterEntry> entries_;
    std::set<std::string> names_;
};

}  // namespace mmojo
