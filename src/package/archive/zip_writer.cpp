// ZIP writer: see zip_writer.h. Each entry is written as
//   [gap] local header (30 bytes) name extra(ZIP64 sizes?, alignment padding?) data
// then the central directory, [ZIP64 EOCD record + locator] and the EOCD. The layout is
// computed before anything is written, so the final size is known up front (pack refuses
// outputs that Windows could not run) and the result is byte-for-byte reproducible.
#include "package/archive/zip_writer.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

#include "package/archive/crc32.h"
#include "package/archive/deflate.h"
#include "package/archive/zip_format.h"

#ifdef _WIN32
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#endif

namespace mmojo {

using namespace zipfmt;

namespace {

constexpr uint16_t kDosTime = 0;                          // 00:00:00
constexpr uint16_t kDosDate = (0 << 9) | (1 << 5) | 1;    // 1980-01-01
constexpr uint16_t kMadeBy = (3 << 8) | 63;               // Unix, APPNOTE 6.3
constexpr uint32_t kFileAttributes = 0100644u << 16;       // regular file, rw-r--r--
constexpr uint64_t k32 = 0xFFFFFFFFu;
constexpr size_t kCopyChunk = size_t(1) << 20;

bool is_ascii(const std::string& s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

bool local_zip64(const ZipWriterEntry& e) {
    return e.uncompressed_size >= k32 || e.compressed_size() >= k32;
}

uint16_t version_needed(const ZipWriterEntry& e, bool zip64) {
    if (zip64) return 45;
    return e.method == 8 ? 20 : 10;
}

std::vector<uint8_t> local_header(const ZipWriterEntry& e, uint32_t crc, uint16_t padding,
                                  uint64_t alignment) {
    const bool z64 = local_zip64(e);
    std::vector<uint8_t> h;
    put32(h, kLocalHeaderSig);
    put16(h, version_needed(e, z64));
    put16(h, is_ascii(e.name) ? 0 : kFlagUtf8);
    put16(h, e.method);
    put16(h, kDosTime);
    put16(h, kDosDate);
    put32(h, crc);
    put32(h, z64 ? uint32_t(k32) : uint32_t(e.compressed_size()));
    put32(h, z64 ? uint32_t(k32) : uint32_t(e.uncompressed_size));
    put16(h, uint16_t(e.name.size()));
    put16(h, uint16_t((z64 ? 20 : 0) + padding));
    h.insert(h.end(), e.name.begin(), e.name.end());
    if (z64) {
        put16(h, kZip64ExtraId);
        put16(h, 16);
        put64(h, e.uncompressed_size);
        put64(h, e.compressed_size());
    }
    if (padding > 0) {
        put16(h, kAlignExtraId);
        put16(h, uint16_t(padding - 4));
        put16(h, uint16_t(alignment <= 0xFFFF ? alignment : 0));
        h.resize(h.size() + padding - 6, 0);
    }
    return h;
}

std::vector<uint8_t> central_header(const ZipWriterEntry& e, uint32_t crc, uint64_t offset) {
    std::vector<uint8_t> extra;
    if (e.uncompressed_size >= k32) put64(extra, e.uncompressed_size);
    if (e.compressed_size() >= k32) put64(extra, e.compressed_size());
    if (offset >= k32) put64(extra, offset);
    const bool z64 = !extra.empty() || local_zip64(e);
    std::vector<uint8_t> h;
    put32(h, kCentralHeaderSig);
    put16(h, kMadeBy);
    put16(h, version_needed(e, z64));
    put16(h, is_ascii(e.name) ? 0 : kFlagUtf8);
    put16(h, e.method);
    put16(h, kDosTime);
    put16(h, kDosDate);
    put32(h, crc);
    put32(h, uint32_t(std::min(e.compressed_size(), k32)));
    put32(h, uint32_t(std::min(e.uncompressed_size, k32)));
    put16(h, uint16_t(e.name.size()));
    put16(h, uint16_t(extra.empty() ? 0 : 4 + extra.size()));
    put16(h, 0);  // comment length
    put16(h, 0);  // disk number start
    put16(h, 0);  // internal attributes
    put32(h, kFileAttributes);
    put32(h, uint32_t(std::min(offset, k32)));
    h.insert(h.end(), e.name.begin(), e.name.end());
    if (!extra.empty()) {
        put16(h, kZip64ExtraId);
        put16(h, uint16_t(extra.size()));
        h.insert(h.end(), extra.begin(), extra.end());
    }
    return h;
}

void validate_name(const std::string& name) {
    auto bad = [&](const std::string& why) {
        throw std::invalid_argument("ZIP entry name '" + name + "' " + why);
    };
    if (name.empty()) bad("is empty");
    if (name.size() > 65535) bad("is longer than 65535 bytes");
    if (name.front() == '/') bad("is absolute (starts with '/')");
    if (name.find('\\') != std::string::npos) bad("contains '\\' (use '/' as separator)");
    if (name.find('\0') != std::string::npos) bad("contains a NUL byte");
    size_t start = 0;
    while (start <= name.size()) {
        size_t end = name.find('/', start);
        if (end == std::string::npos) end = name.size();
        const std::string part = name.substr(start, end - start);
        if (part == "..") bad("contains a '..' component");
        if (part.empty() && end != name.size()) bad("contains an empty path component");
        start = end + 1;
    }
}

class OutFile {
public:
    explicit OutFile(const std::string& path) : path_(path) {
#ifdef _WIN32
        const int n = MultiByteToWideChar(CP_UTF8, 0, path.c_str(), -1, nullptr, 0);
        std::wstring wide(size_t(n > 0 ? n : 1), L'\0');
        if (n > 0) MultiByteToWideChar(CP_UTF8, 0, path.c_str(), -1, wide.data(), n);
        f_ = _wfopen(wide.c_str(), L"wb");
#else
        f_ = std::fopen(path.c_str(), "wb");
#endif
        if (!f_) fail("cannot create");
    }
    ~OutFile() {
        if (f_) std::fclose(f_);
    }
    OutFile(const OutFile&) = delete;
    OutFile& operator=(const OutFile&) = delete;

    void write(const void* p, size_t n) {
        if (n > 0 && std::fwrite(p, 1, n, f_) != n) fail("write failed");
        pos_ += n;
    }
    void write(const std::vector<uint8_t>& v) { write(v.data(), v.size()); }
    void zeros(uint64_t n) {
        static const uint8_t z[64] = {};
        while (n > 0) {
            const size_t k = size_t(std::min<uint64_t>(n, sizeof z));
            write(z, k);
            n -= k;
        }
    }
    // Overwrites 4 bytes at `offset` and returns to the end.
    void patch32(uint64_t offset, uint32_t v) {
        std::vector<uint8_t> b;
        put32(b, v);
        if (!seek(offset) || std::fwrite(b.data(), 1, 4, f_) != 4 || !seek(pos_)) fail("patch failed");
    }
    void close() {
        const int rc = std::fclose(f_);
        f_ = nullptr;
        if (rc != 0) fail("close failed");
    }
    uint64_t pos() const { return pos_; }

private:
    bool seek(uint64_t offset) {
#ifdef _WIN32
        return _fseeki64(f_, static_cast<__int64>(offset), SEEK_SET) == 0;
#else
        return fseeko(f_, static_cast<off_t>(offset), SEEK_SET) == 0;
#endif
    }
    [[noreturn]] void fail(const char* what) {
        throw std::runtime_error(path_ + ": " + what + " at offset " + std::to_string(pos_) +
                                 ": " + std::strerror(errno));
    }
    std::string path_;
    std::FILE* f_ = nullptr;
    uint64_t pos_ = 0;
};

// Copies [offset, offset + length) of `src` to `out`, returning the CRC-32 of the bytes.
uint32_t copy_range(const ByteSource& src, uint64_t offset, uint64_t length, OutFile& out) {
    std::vector<uint8_t> buf(size_t(std::min<uint64_t>(length, kCopyChunk)));
    uint32_t crc = 0;
    while (length > 0) {
        const size_t n = size_t(std::min<uint64_t>(length, buf.size()));
        src.read(offset, buf.data(), n);
        crc = crc32_update(crc, buf.data(), n);
        out.write(buf.data(), n);
        offset += n;
        length -= n;
    }
    return crc;
}

}  // namespace

ZipWriterEntry zip_entry_from_bytes(std::string name, const std::vector<uint8_t>& bytes,
                                    ZipMethod method, uint64_t alignment) {
    ZipWriterEntry e;
    e.name = std::move(name);
    e.alignment = alignment;
    e.uncompressed_size = bytes.size();
    e.crc32 = crc32(bytes.data(), bytes.size());
    if (method != ZipMethod::kStore) {
        std::vector<uint8_t> packed = deflate_raw(bytes.data(), bytes.size());
        if (method == ZipMethod::kDeflate || packed.size() < bytes.size()) {
            e.method = 8;
            e.data = std::move(packed);
            return e;
        }
    }
    e.method = 0;
    e.data = bytes;
    return e;
}

ZipWriterEntry zip_entry_from_file(std::string name, const std::string& path, ZipMethod method,
                                   uint64_t alignment) {
    std::shared_ptr<ByteSource> src = open_file_source(path);
    if (method != ZipMethod::kStore) {
        if (src->size() > (uint64_t(1) << 31)) {
            throw std::invalid_argument(path + ": " + std::to_string(src->size()) +
                                        " bytes is too large to deflate; store it instead");
        }
        std::vector<uint8_t> bytes(static_cast<size_t>(src->size()));
        src->read(0, bytes.data(), bytes.size());
        return zip_entry_from_bytes(std::move(name), bytes, method, alignment);
    }
    ZipWriterEntry e;
    e.name = std::move(name);
    e.alignment = alignment;
    e.method = 0;
    e.uncompressed_size = src->size();
    e.crc_pending = true;
    e.source = std::move(src);
    e.source_offset = 0;
    e.source_length = e.uncompressed_size;
    return e;
}

ZipWriterEntry zip_entry_copy(const ZipReader& reader, const ZipEntry& entry, uint64_t alignment) {
    if (entry.is_encrypted() || (entry.method != 0 && entry.method != 8)) {
        throw ZipError(reader.path() + ": entry '" + entry.name +
                       "' is encrypted or uses an unsupported method; cannot copy it");
    }
    if (entry.method == 0) reader.stored_range(entry);  // validates sizes
    ZipWriterEntry e;
    e.name = entry.name;
    e.alignment = alignment;
    e.method = entry.method;
    e.crc32 = entry.crc32;
    e.uncompressed_size = entry.uncompressed_size;
    e.source = reader.source();
    e.source_offset = entry.data_offset;
    e.source_length = entry.compressed_size;
    e.verify_crc = entry.method == 0;
    return e;
}

ZipWriter::ZipWriter(std::shared_ptr<ByteSource> prefix, uint64_t prefix_length)
    : prefix_(std::move(prefix)), prefix_length_(prefix_ ? prefix_length : 0) {
    if (prefix_ && prefix_length_ > prefix_->size()) {
        throw std::invalid_argument(prefix_->name() + ": prefix length " +
                                    std::to_string(prefix_length_) + " exceeds the file size " +
                                    std::to_string(prefix_->size()));
    }
}

void ZipWriter::add(ZipWriterEntry entry) {
    validate_name(entry.name);
    const uint64_t a = entry.alignment;
    if (a > 65536 || (a & (a - 1)) != 0) {
        throw std::invalid_argument("ZIP entry '" + entry.name + "': alignment " +
                                    std::to_string(a) + " is not a power of two up to 65536");
    }
    if (!names_.insert(entry.name).second) {
        throw std::invalid_argument("ZIP entry '" + entry.name + "' is added twice");
    }
    entries_.push_back(std::move(entry));
}

ZipWriter::Layout ZipWriter::plan() const {
    Layout l;
    uint64_t pos = prefix_length_;
    for (const ZipWriterEntry& e : entries_) {
        Placed p{0, pos, 0, 0};
        const uint64_t fixed = kLocalHeaderSize + e.name.size() + (local_zip64(e) ? 20 : 0);
        if (e.method == 0 && e.alignment > 1) {
            uint64_t pad = (e.alignment - (pos + fixed) % e.alignment) % e.alignment;
            // An extra field needs 4 bytes of header (6 with the alignment value); when the
            // gap is smaller, pad one alignment unit more, or, if the extra field would then
            // exceed 65535 bytes, put the few bytes before the local header instead.
            if (pad > 0 && pad < 6) {
                if (pad + e.alignment + fixed - kLocalHeaderSize - e.name.size() <= 65535) {
                    pad += e.alignment;
                } else {
                    p.gap = pad;
                    pad = 0;
                }
            }
            p.padding = uint16_t(pad);
        }
        p.header_offset = pos + p.gap;
        p.data_offset = p.header_offset + fixed + p.padding;
        pos = p.data_offset + e.compressed_size();
        if (p.header_offset >= k32 || local_zip64(e)) l.zip64 = true;
        l.placed.push_back(p);
    }
    l.cd_offset = pos;
    for (size_t i = 0; i < entries_.size(); ++i) {
        const ZipWriterEntry& e = entries_[i];
        uint64_t extra = 0;
        if (e.uncompressed_size >= k32) extra += 8;
        if (e.compressed_size() >= k32) extra += 8;
        if (l.placed[i].header_offset >= k32) extra += 8;
        l.cd_size += kCentralHeaderSize + e.name.size() + (extra ? 4 + extra : 0);
    }
    if (entries_.size() >= 0xFFFF || l.cd_offset >= k32 || l.cd_size >= k32) l.zip64 = true;
    l.total = l.cd_offset + l.cd_size + kEocdSize +
              (l.zip64 ? kZip64EocdSize + kZip64LocatorSize : 0);
    return l;
}

uint64_t ZipWriter::planned_size() const { return plan().total; }
bool ZipWriter::needs_zip64() const { return plan().zip64; }
std::vector<ZipWriter::Placed> ZipWriter::layout() const { return plan().placed; }

void ZipWriter::write(const std::string& path) const {
    const Layout l = plan();
    OutFile out(path);
    if (prefix_length_ > 0) copy_range(*prefix_, 0, prefix_length_, out);
    std::vector<uint32_t> crcs(entries_.size());
    for (size_t i = 0; i < entries_.size(); ++i) {
        const ZipWriterEntry& e = entries_[i];
        const Placed& p = l.placed[i];
        out.zeros(p.gap);
        uint32_t crc = e.crc32;
        out.write(local_header(e, crc, p.padding, e.alignment));
        if (e.source) {
            const uint32_t got = copy_range(*e.source, e.source_offset, e.source_length, out);
            if (e.crc_pending) {
                crc = got;
                out.patch32(p.header_offset + 14, crc);
            } else if (e.verify_crc && got != e.crc32) {
                throw ZipError(e.source->name() + ": entry '" + e.name + "' at offset " +
                               std::to_string(e.source_offset) + " has CRC-32 " +
                               std::to_string(got) + " but its header says " +
                               std::to_string(e.crc32));
            }
        } else {
            out.write(e.data);
        }
        crcs[i] = crc;
    }
    for (size_t i = 0; i < entries_.size(); ++i) {
        out.write(central_header(entries_[i], crcs[i], l.placed[i].header_offset));
    }
    std::vector<uint8_t> tail;
    const uint64_t count = entries_.size();
    if (l.zip64) {
        const uint64_t rec = out.pos();
        put32(tail, kZip64EocdSig);
        put64(tail, kZip64EocdSize - 12);
        put16(tail, kMadeBy);
        put16(tail, 45);
        put32(tail, 0);  // this disk
        put32(tail, 0);  // disk with the central directory
        put64(tail, count);
        put64(tail, count);
        put64(tail, l.cd_size);
        put64(tail, l.cd_offset);
        put32(tail, kZip64LocatorSig);
        put32(tail, 0);
        put64(tail, rec);
        put32(tail, 1);  // total disks
    }
    put32(tail, kEocdSig);
    put16(tail, 0);
    put16(tail, 0);
    put16(tail, uint16_t(std::min<uint64_t>(count, 0xFFFF)));
    put16(tail, uint16_t(std::min<uint64_t>(count, 0xFFFF)));
    put32(tail, uint32_t(std::min(l.cd_size, k32)));
    put32(tail, uint32_t(std::min(l.cd_offset, k32)));
    put16(tail, 0);  // comment length
    out.write(tail);
    if (out.pos() != l.total) {
        throw std::logic_error(path + ": wrote " + std::to_string(out.pos()) +
                               " bytes but planned " + std::to_string(l.total));
    }
    out.close();
}

}  // namespace mmojo
