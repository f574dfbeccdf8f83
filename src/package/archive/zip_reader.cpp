// ZIP reader: see zip_reader.h. Layout of an archive (APPNOTE 4.3.6):
//   [prefix] {local header, data}* central directory [zip64 EOCD, zip64 locator] EOCD
// The EOCD is found by scanning the last 64 KiB + 22 bytes backwards for its signature
// with a comment length that ends exactly at the end of the file (a stray "PK\5\6" in an
// executable's code does not satisfy that).
#include "package/archive/zip_reader.h"

#include <algorithm>
#include <cstring>

#include "package/archive/crc32.h"
#include "package/archive/deflate.h"
#include "package/archive/zip_format.h"

namespace mmojo {

using namespace zipfmt;

namespace {

constexpr uint64_t kMaxCentralDirectory = uint64_t(1) << 30;  // 1 GiB of headers

std::string hex32(uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%08x", v);
    return buf;
}

}  // namespace

void ZipReader::fail(uint64_t offset, const std::string& why) const {
    throw ZipError(source_->name() + ": ZIP error at offset " + std::to_string(offset) + ": " + why);
}

std::optional<ZipReader> ZipReader::open_file(const std::string& path) {
    return open(open_file_source(path));
}

std::optional<ZipReader> ZipReader::open(std::shared_ptr<ByteSource> source) {
    const uint64_t size = source->size();
    if (size < kEocdSize) return std::nullopt;
    const uint64_t tail_len = std::min<uint64_t>(size, kEocdSize + kMaxCommentSize);
    const uint64_t tail_start = size - tail_len;
    std::vector<uint8_t> tail(static_cast<size_t>(tail_len));
    source->read(tail_start, tail.data(), tail.size());
    for (uint64_t i = tail_len - kEocdSize + 1; i-- > 0;) {
        const uint8_t* p = tail.data() + i;
        if (get32(p) != kEocdSig) continue;
        if (i + kEocdSize + get16(p + 20) != tail_len) continue;
        ZipReader reader(std::move(source));
        reader.parse(tail_start + i, p);
        return reader;
    }
    return std::nullopt;
}

void ZipReader::parse(uint64_t eocd_pos, const uint8_t* eocd) {
    const uint64_t file_size = source_->size();
    const uint16_t disk = get16(eocd + 4);
    const uint16_t cd_disk = get16(eocd + 6);
    uint64_t count_disk = get16(eocd + 8);
    uint64_t count = get16(eocd + 10);
    uint64_t cd_size = get32(eocd + 12);
    uint64_t cd_offset = get32(eocd + 16);
    comment_.assign(reinterpret_cast<const char*>(eocd + 22), get16(eocd + 20));

    uint64_t cd_end = eocd_pos;  // where the central directory must end
    // ZIP64: a locator immediately before the EOCD points at the ZIP64 EOCD record.
    if (eocd_pos >= kZip64LocatorSize) {
        uint8_t loc[kZip64LocatorSize];
        source_->read(eocd_pos - kZip64LocatorSize, loc, sizeof loc);
        if (get32(loc) == kZip64LocatorSig) {
            const uint64_t loc_pos = eocd_pos - kZip64LocatorSize;
            if (get32(loc + 4) != 0 || get32(loc + 16) > 1) {
                fail(loc_pos, "multi-disk archives are not supported (ZIP64 locator names disk " +
                                  std::to_string(get32(loc + 4)) + ")");
            }
            // The record is where the locator says (absolute offsets) or, for archives with
            // relative offsets, directly before the locator.
            const uint64_t stated = get64(loc + 8);
            uint64_t rec_pos = 0;
            bool found = false;
            uint8_t rec[kZip64EocdSize];
            for (uint64_t candidate : {stated, loc_pos >= kZip64EocdSize ? loc_pos - kZip64EocdSize
                                                                         : UINT64_MAX}) {
                if (candidate == UINT64_MAX || candidate > loc_pos ||
                    loc_pos - candidate < kZip64EocdSize) {
                    continue;
                }
                source_->read(candidate, rec, sizeof rec);
                if (get32(rec) == kZip64EocdSig) {
                    rec_pos = candidate;
                    found = true;
                    break;
                }
            }
            if (!found) {
                fail(loc_pos, "ZIP64 locator points at offset " + std::to_string(stated) +
                                  " but no ZIP64 end-of-central-directory record is there");
            }
            const uint64_t rec_size = get64(rec + 4);
            if (rec_size < kZip64EocdSize - 12 || rec_size > loc_pos - rec_pos - 12) {
                fail(rec_pos, "ZIP64 end-of-central-directory record size " +
                                  std::to_string(rec_size) + " does not fit before the locator");
            }
            if (get32(rec + 16) != 0 || get32(rec + 20) != 0) {
                fail(rec_pos, "multi-disk archives are not supported");
            }
            count_disk = get64(rec + 24);
            count = get64(rec + 32);
            cd_size = get64(rec + 40);
            cd_offset = get64(rec + 48);
            cd_end = rec_pos;
            zip64_ = true;
        }
    }
    if (!zip64_ && (disk != 0 || cd_disk != 0)) {
        fail(eocd_pos, "multi-disk archives are not supported (disk " + std::to_string(disk) +
                           ", central directory on disk " + std::to_string(cd_disk) + ")");
    }
    if (count_disk != count) {
        fail(eocd_pos, "entry count on this disk (" + std::to_string(count_disk) +
                           ") differs from the total (" + std::to_string(count) +
                           "): multi-disk archives are not supported");
    }
    if (cd_size > cd_end) {
        fail(eocd_pos, "central directory size " + std::to_string(cd_size) +
                           " is larger than the bytes before the end record (" +
                           std::to_string(cd_end) + ")");
    }
    if (cd_size > kMaxCentralDirectory) {
        fail(eocd_pos, "central directory size " + std::to_string(cd_size) + " exceeds 1 GiB");
    }
    if (count > cd_size / kCentralHeaderSize) {
        fail(eocd_pos, std::to_string(count) + " entries cannot fit in a central directory of " +
                           std::to_string(cd_size) + " bytes");
    }
    // Absolute offsets: the stated offset holds the directory. Relative offsets (archive
    // glued after a prefix): the directory ends where the end records begin, so the shift
    // is the difference between where it is and where it claims to be.
    const uint64_t actual = cd_end - cd_size;
    auto holds_directory = [&](uint64_t pos) {
        if (count == 0) return pos == actual;
        if (pos > file_size || file_size - pos < 4) return false;
        uint8_t sig[4];
        source_->read(pos, sig, 4);
        return get32(sig) == kCentralHeaderSig;
    };
    if (cd_offset <= actual && holds_directory(cd_offset)) {
        shift_ = 0;
    } else if (cd_offset <= actual && holds_directory(actual)) {
        shift_ = actual - cd_offset;
    } else {
        fail(eocd_pos, "central directory (" + std::to_string(cd_size) + " bytes) is neither at its stated offset " +
                           std::to_string(cd_offset) + " nor directly before the end records at " +
                           std::to_string(actual));
    }
    cd_offset_ = cd_offset + shift_;
    cd_size_ = cd_size;
    if (cd_offset_ + cd_size_ > cd_end) {
        fail(eocd_pos, "central directory at " + std::to_string(cd_offset_) + " (" +
                           std::to_string(cd_size_) + " bytes) overlaps the end records at " +
                           std::to_string(cd_end));
    }
    parse_central_directory(count);
    archive_start_ = cd_offset_;
    for (ZipEntry& e : entries_) {
        resolve_local_header(e);
        archive_start_ = std::min(archive_start_, e.local_header_offset);
    }
    sorted_.resize(entries_.size());
    for (size_t i = 0; i < sorted_.size(); ++i) sorted_[i] = i;
    std::stable_sort(sorted_.begin(), sorted_.end(),
                     [&](size_t a, size_t b) { return entries_[a].name < entries_[b].name; });
}

void ZipReader::parse_central_directory(uint64_t count) {
    std::vector<uint8_t> cd(static_cast<size_t>(cd_size_));
    source_->read(cd_offset_, cd.data(), cd.size());
    entries_.reserve(size_t(count));
    size_t pos = 0;
    for (uint64_t i = 0; i < count; ++i) {
        const uint64_t at = cd_offset_ + pos;
        if (cd.size() - pos < kCentralHeaderSize) {
            fail(at, "central directory entry " + std::to_string(i) + " is truncated");
        }
        const uint8_t* h = cd.data() + pos;
        if (get32(h) != kCentralHeaderSig) {
            fail(at, "expected central directory signature 02014b50 for entry " +
                         std::to_string(i) + ", found " + hex32(get32(h)));
        }
        ZipEntry e;
        e.version_made_by = get16(h + 4);
        e.flags = get16(h + 8);
        e.method = get16(h + 10);
        e.crc32 = get32(h + 16);
        e.compressed_size = get32(h + 20);
        e.uncompressed_size = get32(h + 24);
        const size_t name_len = get16(h + 28);
        const size_t extra_len = get16(h + 30);
        const size_t comment_len = get16(h + 32);
        uint64_t disk_start = get16(h + 34);
        e.external_attributes = get32(h + 38);
        e.local_header_offset = get32(h + 42);
        if (cd.size() - pos - kCentralHeaderSize < name_len + extra_len + comment_len) {
            fail(at, "central directory entry " + std::to_string(i) +
                         " has a name, extra field and comment that run past the directory");
        }
        const uint8_t* name = h + kCentralHeaderSize;
        e.name.assign(reinterpret_cast<const char*>(name), name_len);
        // Extra fields: (id, size, data)*; the ZIP64 one holds, in this order, whichever of
        // uncompressed size, compressed size, local header offset and disk are saturated.
        const uint8_t* extra = name + name_len;
        size_t x = 0;
        bool need_usize = e.uncompressed_size == 0xFFFFFFFFu;
        bool need_csize = e.compressed_size == 0xFFFFFFFFu;
        bool need_offset = e.local_header_offset == 0xFFFFFFFFu;
        bool need_disk = disk_start == 0xFFFF;
        while (x < extra_len) {
            if (extra_len - x < 4) {
                fail(at, "entry '" + e.name + "': extra field header truncated");
            }
            const uint16_t id = get16(extra + x);
            const size_t len = get16(extra + x + 2);
            if (extra_len - x - 4 < len) {
                fail(at, "entry '" + e.name + "': extra field 0x" + hex32(id).substr(4) +
                             " of " + std::to_string(len) + " bytes runs past the extra area");
            }
            if (id == kZip64ExtraId) {
                const uint8_t* z = extra + x + 4;
                size_t zl = len;
                auto take64 = [&](uint64_t& field, bool& needed, const char* what) {
                    if (!needed) return;
                    if (zl < 8) {
                        fail(at, "entry '" + e.name + "': ZIP64 extra field lacks the " + what);
                    }
                    field = get64(z);
                    z += 8;
                    zl -= 8;
                    needed = false;
                };
                take64(e.uncompressed_size, need_usize, "uncompressed size");
                take64(e.compressed_size, need_csize, "compressed size");
                take64(e.local_header_offset, need_offset, "local header offset");
                if (need_disk && zl >= 4) {
                    disk_start = get32(z);
                    need_disk = false;
                }
            }
            x += 4 + len;
        }
        if (need_usize || need_csize || need_offset) {
            fail(at, "entry '" + e.name + "': size or offset is 0xFFFFFFFF but no ZIP64 extra field gives it");
        }
        if (disk_start != 0 && !need_disk) {
            fail(at, "entry '" + e.name + "' starts on disk " + std::to_string(disk_start) +
                         ": multi-disk archives are not supported");
        }
        if (e.local_header_offset > cd_offset_ - shift_) {
            fail(at, "entry '" + e.name + "': local header offset " +
                         std::to_string(e.local_header_offset) +
                         " is beyond the start of the central directory");
        }
        e.local_header_offset += shift_;
        entries_.push_back(std::move(e));
        pos += kCentralHeaderSize + name_len + extra_len + comment_len;
    }
    if (pos != cd.size()) {
        fail(cd_offset_ + pos, "central directory has " + std::to_string(cd.size() - pos) +
                                   " unexplained bytes after its " + std::to_string(count) +
                                   " entries");
    }
}

void ZipReader::resolve_local_header(ZipEntry& e) {
    const uint64_t lh = e.local_header_offset;
    if (cd_offset_ - lh < kLocalHeaderSize) {
        fail(lh, "entry '" + e.name + "': local header runs into the central directory");
    }
    uint8_t h[kLocalHeaderSize];
    source_->read(lh, h, sizeof h);
    if (get32(h) != kLocalHeaderSig) {
        fail(lh, "entry '" + e.name + "': expected local header signature 04034b50, found " +
                     hex32(get32(h)));
    }
    const uint64_t name_len = get16(h + 26);
    const uint64_t extra_len = get16(h + 28);
    if (get16(h + 8) != e.method) {
        fail(lh, "entry '" + e.name + "': local header method " + std::to_string(get16(h + 8)) +
                     " differs from the central directory's " + std::to_string(e.method));
    }
    if (name_len != e.name.size()) {
        fail(lh, "entry '" + e.name + "': local header name length " + std::to_string(name_len) +
                     " differs from the central directory's " + std::to_string(e.name.size()));
    }
    const uint64_t data = lh + kLocalHeaderSize + name_len + extra_len;
    if (data > cd_offset_ || e.compressed_size > cd_offset_ - data) {
        fail(lh, "entry '" + e.name + "': data (" + std::to_string(e.compressed_size) +
                     " bytes at offset " + std::to_string(data) +
                     ") runs past the start of the central directory at " +
                     std::to_string(cd_offset_));
    }
    std::string local_name(static_cast<size_t>(name_len), '\0');
    source_->read(lh + kLocalHeaderSize, local_name.data(), local_name.size());
    if (local_name != e.name) {
        fail(lh, "entry '" + e.name + "': local header names it '" + local_name + "'");
    }
    e.data_offset = data;
}

const ZipEntry* ZipReader::find(std::string_view name) const {
    auto it = std::lower_bound(sorted_.begin(), sorted_.end(), name,
                               [&](size_t i, std::string_view n) { return entries_[i].name < n; });
    if (it == sorted_.end() || entries_[*it].name != name) return nullptr;
    return &entries_[*it];
}

std::vector<uint8_t> ZipReader::read_raw(const ZipEntry& e) const {
    if (e.compressed_size > SIZE_MAX / 2) {
        fail(e.data_offset, "entry '" + e.name + "' is too large to read into memory");
    }
    std::vector<uint8_t> raw(static_cast<size_t>(e.compressed_size));
    source_->read(e.data_offset, raw.data(), raw.size());
    return raw;
}

ZipReader::Range ZipReader::stored_range(const ZipEntry& e) const {
    if (e.is_encrypted()) fail(e.local_header_offset, "entry '" + e.name + "' is encrypted");
    if (e.method != 0) {
        fail(e.local_header_offset, "entry '" + e.name + "' is compressed (method " +
                                        std::to_string(e.method) +
                                        "), so it cannot be mapped in place; store it instead");
    }
    if (e.compressed_size != e.uncompressed_size) {
        fail(e.local_header_offset, "stored entry '" + e.name + "' has compressed size " +
                                        std::to_string(e.compressed_size) +
                                        " but uncompressed size " +
                                        std::to_string(e.uncompressed_size));
    }
    return {e.data_offset, e.compressed_size};
}

std::vector<uint8_t> ZipReader::read(const ZipEntry& e, uint64_t max_size) const {
    if (e.is_encrypted()) {
        fail(e.local_header_offset, "entry '" + e.name + "' is encrypted (not supported)");
    }
    if (e.uncompressed_size > max_size) {
        fail(e.local_header_offset, "entry '" + e.name + "' is " +
                                        std::to_string(e.uncompressed_size) +
                                        " bytes, more than the limit of " +
                                        std::to_string(max_size));
    }
    std::vector<uint8_t> out;
    if (e.method == 0) {
        stored_range(e);
        out = read_raw(e);
    } else if (e.method == 8) {
        // Deflate cannot expand data by more than 1032:1, so a larger claimed size is
        // corrupt; checking first keeps a bogus size from reserving memory.
        if (e.uncompressed_size / 1032 > e.compressed_size + 1) {
            fail(e.local_header_offset,
                 "entry '" + e.name + "' claims " + std::to_string(e.uncompressed_size) +
                     " bytes from " + std::to_string(e.compressed_size) +
                     " deflated bytes, more than deflate can produce");
        }
        const std::vector<uint8_t> raw = read_raw(e);
        try {
            out = inflate_raw(raw.data(), raw.size(), e.uncompressed_size);
        } catch (const DeflateError& err) {
            fail(e.data_offset, "entry '" + e.name + "': " + err.what());
        }
    } else {
        fail(e.local_header_offset, "entry '" + e.name + "' uses compression method " +
                                        std::to_string(e.method) +
                                        " (only 0 = stored and 8 = deflated are supported)");
    }
    const uint32_t crc = crc32(out.data(), out.size());
    if (crc != e.crc32) {
        fail(e.data_offset, "entry '" + e.name + "': CRC-32 " + hex32(crc) +
                                " does not match the stored " + hex32(e.crc32));
    }
    return out;
}

}  // namespace mmojo
