// Mach-O ad hoc signing: see macho_sign.h. Load commands are little-endian (the file's
// byte order); everything inside the signature blobs is big-endian.
#include "package/portable/macho_sign.h"

#include <algorithm>
#include <cstring>

#include "package/archive/sha256.h"

namespace mmojo {

namespace {

constexpr uint32_t kMagic64 = 0xfeedfacf;
constexpr uint32_t kLcSegment64 = 0x19;
constexpr uint32_t kLcCodeSignature = 0x1d;
constexpr uint32_t kSuperBlobMagic = 0xfade0cc0;
constexpr uint32_t kCodeDirectoryMagic = 0xfade0c02;
constexpr uint32_t kCodeDirectoryVersion = 0x20400;
constexpr uint32_t kCsAdhoc = 0x2;
constexpr uint32_t kExecSegMainBinary = 0x1;
constexpr uint32_t kPageShift = 12;  // 4 KiB code pages (what codesign uses for x86_64)
constexpr size_t kCodeDirectoryHeader = 88;

uint32_t le32(const std::vector<uint8_t>& b, size_t off) {
    return uint32_t(b[off]) | uint32_t(b[off + 1]) << 8 | uint32_t(b[off + 2]) << 16 | uint32_t(b[off + 3]) << 24;
}
uint64_t le64(const std::vector<uint8_t>& b, size_t off) { return le32(b, off) | uint64_t(le32(b, off + 4)) << 32; }
void put_le32(std::vector<uint8_t>& b, size_t off, uint32_t v) {
    for (int i = 0; i < 4; ++i) b[off + size_t(i)] = uint8_t(v >> (8 * i));
}
void put_le64(std::vector<uint8_t>& b, size_t off, uint64_t v) {
    put_le32(b, off, uint32_t(v));
    put_le32(b, off + 4, uint32_t(v >> 32));
}
void put_be32(std::vector<uint8_t>& b, size_t off, uint32_t v) {
    for (int i = 0; i < 4; ++i) b[off + size_t(i)] = uint8_t(v >> (24 - 8 * i));
}
void put_be64(std::vector<uint8_t>& b, size_t off, uint64_t v) {
    put_be32(b, off, uint32_t(v >> 32));
    put_be32(b, off + 4, uint32_t(v));
}

struct Segment {
    size_t command_offset = 0;
    std::string name;
    uint64_t vmsize = 0;
    uint64_t fileoff = 0;
    uint64_t filesize = 0;
};

struct Parsed {
    MachOInfo info;
    uint32_t ncmds = 0;
    uint32_t sizeofcmds = 0;
    std::vector<Segment> segments;
    uint64_t first_content = 0;  // lowest file offset of segment/section contents after the header
};

[[noreturn]] void fail(const std::string& name, const std::string& why) {
    throw MachOError(name + ": not a usable Mach-O file: " + why);
}

Parsed parse(const std::vector<uint8_t>& f, const std::string& name) {
    if (f.size() < 32) fail(name, "shorter than a Mach-O header");
    if (le32(f, 0) != kMagic64) {
        if (le32(f, 0) == 0xbebafeca || le32(f, 0) == 0xcafebabe) fail(name, "a universal (fat) file; give one architecture");
        fail(name, "bad magic (expected 0xfeedfacf, a 64-bit little-endian Mach-O)");
    }
    Parsed p;
    p.info.cpu_type = le32(f, 4);
    p.info.file_type = le32(f, 12);
    p.ncmds = le32(f, 16);
    p.sizeofcmds = le32(f, 20);
    if (uint64_t(p.sizeofcmds) + 32 > f.size()) fail(name, "load commands run past the end of the file");
    p.first_content = f.size();
    size_t off = 32;
    const size_t end = 32 + size_t(p.sizeofcmds);
    for (uint32_t i = 0; i < p.ncmds; ++i) {
        if (off + 8 > end) fail(name, "load command " + std::to_string(i) + " runs past sizeofcmds");
        const uint32_t cmd = le32(f, off);
        const uint32_t size = le32(f, off + 4);
        if (size < 8 || size % 8 != 0 || off + size > end) {
            fail(name, "load command " + std::to_string(i) + " has a bad size " + std::to_string(size));
        }
        if (cmd == kLcCodeSignature) {
            if (size != 16) fail(name, "LC_CODE_SIGNATURE of size " + std::to_string(size));
            p.info.has_code_signature = true;
            p.info.signature_offset = le32(f, off + 8);
            p.info.signature_size = le32(f, off + 12);
            if (uint64_t(p.info.signature_offset) + p.info.signature_size > f.size()) {
                fail(name, "the code signature lies outside the file");
            }
        } else if (cmd == kLcSegment64) {
            if (size < 72) fail(name, "LC_SEGMENT_64 too small");
            Segment s;
            s.command_offset = off;
            const char* seg_name = reinterpret_cast<const char*>(&f[off + 8]);
            s.name.assign(seg_name, strnlen(seg_name, 16));
            s.vmsize = le64(f, off + 32);
            s.fileoff = le64(f, off + 40);
            s.filesize = le64(f, off + 48);
            const uint32_t nsects = le32(f, off + 64);
            if (s.fileoff > f.size() || s.filesize > f.size() - s.fileoff) {
                fail(name, "segment " + s.name + " lies outside the file");
            }
            if (uint64_t(nsects) * 80 + 72 != size) fail(name, "segment " + s.name + " has a bad section count");
            if (s.filesize > 0 && s.fileoff > 0) p.first_content = std::min(p.first_content, s.fileoff);
            for (uint32_t k = 0; k < nsects; ++k) {
                const size_t so = off + 72 + size_t(k) * 80;
                const uint64_t ssize = le64(f, so + 40);
                const uint32_t soff = le32(f, so + 48);
                const uint32_t type = le32(f, so + 64) & 0xff;
                const bool zerofill = type == 0x1 || type == 0xc || type == 0x12;
                if (!zerofill && ssize > 0 && soff > 0) p.first_content = std::min<uint64_t>(p.first_content, soff);
            }
            p.segments.push_back(s);
        }
        off += size;
    }
    return p;
}

}  // namespace

MachOInfo macho_info(const std::vector<uint8_t>& file, const std::string& name) { return parse(file, name).info; }

std::vector<uint8_t> macho_adhoc_sign(const std::vector<uint8_t>& file, const std::string& name,
                                      const std::string& identifier) {
    const Parsed p = parse(file, name);
    if (p.info.has_code_signature) fail(name, "it already has a code signature");
    const Segment* linkedit = nullptr;
    const Segment* text = nullptr;
    for (const Segment& s : p.segments) {
        if (s.name == "__LINKEDIT") linkedit = &s;
        if (s.name == "__TEXT") text = &s;
    }
    if (!linkedit || !text) fail(name, "no __TEXT or __LINKEDIT segment");
    if (linkedit->fileoff + linkedit->filesize != file.size()) {
        fail(name, "__LINKEDIT does not end at the end of the file (" +
                       std::to_string(linkedit->fileoff + linkedit->filesize) + " != " +
                       std::to_string(file.size()) + ")");
    }
    const uint64_t commands_end = 32 + uint64_t(p.sizeofcmds);
    if (commands_end + 16 > p.first_content) {
        fail(name, "no room in the header for LC_CODE_SIGNATURE (" + std::to_string(p.first_content - commands_end) +
                       " free bytes); link with -Wl,-headerpad,0x1000");
    }

    const uint64_t code_limit = (file.size() + 15) / 16 * 16;
    if (code_limit > UINT32_MAX) fail(name, "too large to sign (4 GiB)");
    const uint64_t page = uint64_t(1) << kPageShift;
    const uint32_t n_slots = uint32_t((code_limit + page - 1) / page);
    const size_t ident_size = identifier.size() + 1;
    const size_t hash_offset = kCodeDirectoryHeader + ident_size;
    const size_t cd_size = hash_offset + size_t(n_slots) * 32;
    const size_t superblob_size = 12 + 8 + cd_size;
    const size_t sig_size = (superblob_size + 15) / 16 * 16;

    std::vector<uint8_t> out = file;
    out.resize(size_t(code_limit) + sig_size, 0);

    // Header: one more load command, LC_CODE_SIGNATURE at the end of the list.
    put_le32(out, 16, p.ncmds + 1);
    put_le32(out, 20, p.sizeofcmds + 16);
    put_le32(out, size_t(commands_end), kLcCodeSignature);
    put_le32(out, size_t(commands_end) + 4, 16);
    put_le32(out, size_t(commands_end) + 8, uint32_t(code_limit));
    put_le32(out, size_t(commands_end) + 12, uint32_t(sig_size));
    // __LINKEDIT grows to cover the signature.
    const uint64_t new_filesize = code_limit + sig_size - linkedit->fileoff;
    const uint64_t vm_page = 0x4000;
    const uint64_t new_vmsize = std::max(linkedit->vmsize, (new_filesize + vm_page - 1) / vm_page * vm_page);
    put_le64(out, linkedit->command_offset + 32, new_vmsize);
    put_le64(out, linkedit->command_offset + 48, new_filesize);

    // SuperBlob with one index entry (slot 0: the CodeDirectory).
    const size_t sb = size_t(code_limit);
    put_be32(out, sb + 0, kSuperBlobMagic);
    put_be32(out, sb + 4, uint32_t(superblob_size));
    put_be32(out, sb + 8, 1);
    put_be32(out, sb + 12, 0);
    put_be32(out, sb + 16, 20);
    const size_t cd = sb + 20;
    put_be32(out, cd + 0, kCodeDirectoryMagic);
    put_be32(out, cd + 4, uint32_t(cd_size));
    put_be32(out, cd + 8, kCodeDirectoryVersion);
    put_be32(out, cd + 12, kCsAdhoc);
    put_be32(out, cd + 16, uint32_t(hash_offset));
    put_be32(out, cd + 20, uint32_t(kCodeDirectoryHeader));  // identOffset
    put_be32(out, cd + 24, 0);                                // nSpecialSlots
    put_be32(out, cd + 28, n_slots);                          // nCodeSlots
    put_be32(out, cd + 32, uint32_t(code_limit));
    out[cd + 36] = 32;          // hashSize
    out[cd + 37] = 2;           // hashType: SHA-256
    out[cd + 38] = 0;           // platform
    out[cd + 39] = kPageShift;  // log2(page size)
    put_be32(out, cd + 40, 0);  // spare2
    put_be32(out, cd + 44, 0);  // scatterOffset
    put_be32(out, cd + 48, 0);  // teamOffset
    put_be32(out, cd + 52, 0);  // spare3
    put_be64(out, cd + 56, 0);  // codeLimit64
    put_be64(out, cd + 64, text->fileoff);   // execSegBase
    put_be64(out, cd + 72, text->filesize);  // execSegLimit
    put_be64(out, cd + 80, p.info.file_type == 2 ? kExecSegMainBinary : 0);
    std::memcpy(&out[cd + kCodeDirectoryHeader], identifier.c_str(), ident_size);
    for (uint32_t i = 0; i < n_slots; ++i) {
        const uint64_t begin = uint64_t(i) * page;
        const uint64_t len = std::min(page, code_limit - begin);
        const std::array<uint8_t, 32> h = Sha256::digest(&out[size_t(begin)], size_t(len));
        std::memcpy(&out[cd + hash_offset + size_t(i) * 32], h.data(), 32);
    }
    return out;
}

}  // namespace mmojo
