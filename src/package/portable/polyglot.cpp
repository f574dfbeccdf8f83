// Assembly of the polyglot executable's prefix: see polyglot.h for the layout. The PE is
// parsed and validated here (DOS header, PE signature, COFF header, PE32+ optional header,
// section table, data directories 4 = certificate table and 6 = debug directory), then its
// headers are moved behind the shell launcher and everything after them is shifted by one
// multiple of FileAlignment.
#include "package/portable/polyglot.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>

#include "package/portable/macho_sign.h"
#include "package/portable/self_location.h"
#include "package/archive/sha256.h"

namespace mmojo {

namespace {

constexpr uint64_t kBlobAlignment = 4096;
constexpr size_t kDosHeaderSize = 64;
constexpr uint16_t kMachineAmd64 = 0x8664;
constexpr uint16_t kMachineArm64 = 0xaa64;

uint16_t rd16(const std::vector<uint8_t>& b, size_t o) { return uint16_t(b[o] | b[o + 1] << 8); }
uint32_t rd32(const std::vector<uint8_t>& b, size_t o) { return uint32_t(rd16(b, o)) | uint32_t(rd16(b, o + 2)) << 16; }
void wr16(std::vector<uint8_t>& b, size_t o, uint16_t v) {
    b[o] = uint8_t(v);
    b[o + 1] = uint8_t(v >> 8);
}
void wr32(std::vector<uint8_t>& b, size_t o, uint32_t v) {
    wr16(b, o, uint16_t(v));
    wr16(b, o + 2, uint16_t(v >> 16));
}
uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

std::string hex32(uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%x", v);
    return buf;
}

[[noreturn]] void pe_fail(const std::string& name, const std::string& why) {
    throw PolyglotError(name + ": not a usable PE file: " + why);
}

// The parts of a PE32+ image the relocation touches.
struct PeLayout {
    uint32_t lfanew = 0;
    uint16_t machine = 0;
    uint16_t sections = 0;
    uint16_t optional_size = 0;
    size_t optional = 0;       // offset of the optional header
    size_t section_table = 0;  // offset of the first section header
    size_t headers_end = 0;    // end of the section table
    uint32_t file_alignment = 0;
    uint32_t size_of_headers = 0;
    uint32_t first_section_rva = 0;
    uint32_t dir_count = 0;
};

PeLayout parse_pe(const std::vector<uint8_t>& f, const std::string& name) {
    PeLayout p;
    if (f.size() < kDosHeaderSize || f[0] != 'M' || f[1] != 'Z') pe_fail(name, "no MZ header");
    p.lfanew = rd32(f, 0x3c);
    if (uint64_t(p.lfanew) + 24 > f.size()) pe_fail(name, "e_lfanew " + std::to_string(p.lfanew) + " is outside the file");
    if (std::memcmp(&f[p.lfanew], "PE\0\0", 4) != 0) pe_fail(name, "no PE signature at e_lfanew");
    const size_t coff = p.lfanew + 4;
    p.machine = rd16(f, coff);
    p.sections = rd16(f, coff + 2);
    p.optional_size = rd16(f, coff + 16);
    p.optional = coff + 20;
    if (p.optional + p.optional_size > f.size() || p.optional_size < 112) pe_fail(name, "optional header truncated");
    if (rd16(f, p.optional) != 0x20b) pe_fail(name, "not PE32+ (optional header magic " + hex32(rd16(f, p.optional)) + ")");
    p.file_alignment = rd32(f, p.optional + 36);
    p.size_of_headers = rd32(f, p.optional + 60);
    p.dir_count = rd32(f, p.optional + 108);
    if (112 + uint64_t(p.dir_count) * 8 > p.optional_size) pe_fail(name, "more data directories than the optional header holds");
    if (p.file_alignment < 512 || p.file_alignment > 65536 || (p.file_alignment & (p.file_alignment - 1)) != 0) {
        pe_fail(name, "FileAlignment " + std::to_string(p.file_alignment) + " is not a power of two in [512, 65536]");
    }
    if (p.size_of_headers % p.file_alignment != 0 || p.size_of_headers > f.size()) {
        pe_fail(name, "SizeOfHeaders " + std::to_string(p.size_of_headers) + " is not a multiple of FileAlignment inside the file");
    }
    p.section_table = p.optional + p.optional_size;
    p.headers_end = p.section_table + size_t(p.sections) * 40;
    if (p.sections == 0) pe_fail(name, "no sections");
    if (p.headers_end > p.size_of_headers) pe_fail(name, "section table runs past SizeOfHeaders");
    p.first_section_rva = UINT32_MAX;
    for (uint16_t i = 0; i < p.sections; ++i) {
        const size_t s = p.section_table + size_t(i) * 40;
        const uint32_t rva = rd32(f, s + 12);
        const uint32_t raw_size = rd32(f, s + 16);
        const uint32_t raw_ptr = rd32(f, s + 20);
        p.first_section_rva = std::min(p.first_section_rva, rva);
        if (raw_size == 0) continue;
        if (raw_ptr < p.size_of_headers || uint64_t(raw_ptr) + raw_size > f.size()) {
            pe_fail(name, "section " + std::to_string(i) + " raw data [" + std::to_string(raw_ptr) + ", +" +
                              std::to_string(raw_size) + ") is not between the headers and the end of the file");
        }
        if (raw_ptr % p.file_alignment != 0) pe_fail(name, "section " + std::to_string(i) + " data is not FileAlignment aligned");
    }
    return p;
}

// File offset of an RVA inside a section's raw data.
uint64_t rva_to_offset(const std::vector<uint8_t>& f, const PeLayout& p, uint32_t rva, uint32_t size, const std::string& name) {
    for (uint16_t i = 0; i < p.sections; ++i) {
        const size_t s = p.section_table + size_t(i) * 40;
        const uint32_t va = rd32(f, s + 12);
        const uint32_t raw_size = rd32(f, s + 16);
        const uint32_t raw_ptr = rd32(f, s + 20);
        if (rva >= va && uint64_t(rva) + size <= uint64_t(va) + raw_size) return uint64_t(raw_ptr) + (rva - va);
    }
    pe_fail(name, "RVA " + hex32(rva) + " (+" + std::to_string(size) + ") is not inside any section's file data");
}

std::vector<uint8_t> read_file(const std::string& path) {
    std::ifstream in(utf8_path(path), std::ios::binary);
    if (!in) throw PolyglotError(path + ": cannot open");
    std::vector<uint8_t> out((std::istreambuf_iterator<char>(in)), {});
    if (in.bad()) throw PolyglotError(path + ": read error");
    return out;
}

std::string short_hash(const std::vector<uint8_t>& bytes) {
    return Sha256::hex(Sha256::digest(bytes.data(), bytes.size())).substr(0, 16);
}

// Checks that `bytes` is an executable for `target`; returns a description on mismatch.
void check_format(const std::string& target, std::vector<uint8_t>& bytes, const std::string& path) {
    const bool windows = target.find("windows") != std::string::npos;
    const bool linux_ = target.find("linux") != std::string::npos;
    const bool arm = target.rfind("aarch64", 0) == 0;
    if (windows) {
        const PeLayout p = parse_pe(bytes, path);
        const uint16_t want = arm ? kMachineArm64 : kMachineAmd64;
        if (p.machine != want) {
            throw PolyglotError(path + ": PE machine " + hex32(p.machine) + ", but " + target + " needs " + hex32(want));
        }
    } else if (linux_) {
        if (bytes.size() < 64 || std::memcmp(bytes.data(), "\x7f" "ELF", 4) != 0 || bytes[4] != 2 || bytes[5] != 1) {
            throw PolyglotError(path + ": not a 64-bit little-endian ELF file, which " + target + " needs");
        }
        const uint16_t machine = rd16(bytes, 18);
        const uint16_t want = arm ? 183 : 62;
        if (machine != want) {
            throw PolyglotError(path + ": ELF e_machine " + std::to_string(machine) + ", but " + target + " needs " +
                                std::to_string(want));
        }
    } else {
        MachOInfo info;
        try {
            info = macho_info(bytes, path);
        } catch (const MachOError& e) {
            throw PolyglotError(e.what());
        }
        const uint32_t want = arm ? kMachOCpuArm64 : kMachOCpuX86_64;
        if (info.cpu_type != want) {
            throw PolyglotError(path + ": Mach-O CPU type " + hex32(info.cpu_type) + ", but " + target + " needs " + hex32(want));
        }
        if (!info.has_code_signature) {
            try {
                bytes = macho_adhoc_sign(bytes, path, "mmojo-server");
            } catch (const MachOError& e) {
                throw PolyglotError(e.what());
            }
        }
    }
}

}  // namespace

std::string canonical_target(const std::string& name) {
    std::string t = name;
    for (const char* abi : {"-musl", "-gnu", "-none", "-msvc"}) {
        const std::string a = abi;
        if (t.size() > a.size() && t.compare(t.size() - a.size(), a.size(), a) == 0) t.resize(t.size() - a.size());
    }
    for (const char* known : kNativeTargets) {
        if (t == known) return t;
    }
    std::string list;
    for (const char* known : kNativeTargets) list += std::string(list.empty() ? "" : ", ") + known;
    throw PolyglotError("unknown target '" + name + "' (expected one of: " + list + ")");
}

std::vector<uint8_t> relocate_pe(const std::vector<uint8_t>& pe, const std::string& name,
                                 const std::vector<uint8_t>& dos_and_script, uint64_t* shift) {
    const PeLayout p = parse_pe(pe, name);
    if (dos_and_script.size() < kDosHeaderSize) throw PolyglotError("relocate_pe: DOS header missing");
    if (p.dir_count > 4 && (rd32(pe, p.optional + 112 + 4 * 8) != 0 || rd32(pe, p.optional + 112 + 4 * 8 + 4) != 0)) {
        throw PolyglotError(name + ": the PE is already Authenticode-signed; a signature cannot survive packing, so "
                                   "sign the packed file instead (docs/sign.md)");
    }
    // New e_lfanew: 8-byte aligned after the script, and none of its bytes may be a quote
    // (0x27): it sits inside the shell's single-quoted string.
    uint64_t lfanew = align_up(dos_and_script.size(), 8);
    auto has_quote = [](uint64_t v) {
        for (int i = 0; i < 4; ++i) {
            if (((v >> (8 * i)) & 0xff) == 0x27) return true;
        }
        return false;
    };
    while (has_quote(lfanew)) lfanew += 8;
    const size_t pe_headers = p.headers_end - p.lfanew;
    const uint64_t new_soh = align_up(lfanew + pe_headers, p.file_alignment);
    if (new_soh > p.first_section_rva) {
        throw PolyglotError(name + ": the launcher script and PE headers need " + std::to_string(lfanew + pe_headers) +
                            " bytes, more than the " + std::to_string(p.first_section_rva) +
                            " bytes before the first section's RVA (headers are mapped into memory there)");
    }
    // Never move data towards the start: a smaller header keeps the old size (zeros).
    const uint64_t soh = std::max<uint64_t>(new_soh, p.size_of_headers);
    const uint64_t delta = soh - p.size_of_headers;  // multiple of FileAlignment
    if (uint64_t(pe.size()) + delta > UINT32_MAX) throw PolyglotError(name + ": too large for a PE");

    std::vector<uint8_t> out(size_t(soh), 0);
    std::memcpy(out.data(), dos_and_script.data(), dos_and_script.size());
    wr32(out, 0x3c, uint32_t(lfanew));
    std::memcpy(&out[size_t(lfanew)], &pe[p.lfanew], pe_headers);
    out.insert(out.end(), pe.begin() + p.size_of_headers, pe.end());

    const size_t d = size_t(lfanew) - p.lfanew;  // headers moved by this much
    const size_t coff = size_t(lfanew) + 4;
    const size_t opt = p.optional + d;
    const size_t sect = p.section_table + d;
    auto shifted = [&](uint32_t offset, const std::string& what) -> uint32_t {
        if (offset == 0) return 0;
        if (offset < p.size_of_headers) pe_fail(name, what + " at file offset " + std::to_string(offset) + " inside the headers");
        return uint32_t(offset + delta);
    };
    wr32(out, opt + 60, uint32_t(soh));  // SizeOfHeaders
    wr32(out, opt + 64, 0);              // CheckSum (not required for user-mode executables)
    wr32(out, coff + 8, shifted(rd32(pe, p.lfanew + 4 + 8), "COFF symbol table"));
    for (uint16_t i = 0; i < p.sections; ++i) {
        const size_t s = sect + size_t(i) * 40;
        const std::string what = "section " + std::to_string(i);
        if (rd32(out, s + 16) != 0) wr32(out, s + 20, shifted(rd32(out, s + 20), what + " data"));
        wr32(out, s + 24, shifted(rd32(out, s + 24), what + " relocations"));
        wr32(out, s + 28, shifted(rd32(out, s + 28), what + " line numbers"));
    }
    if (p.dir_count > 6) {
        const uint32_t rva = rd32(pe, p.optional + 112 + 6 * 8);
        const uint32_t size = rd32(pe, p.optional + 112 + 6 * 8 + 4);
        if (rva != 0 && size != 0) {
            if (size % 28 != 0) pe_fail(name, "debug directory size " + std::to_string(size) + " is not a multiple of 28");
            const uint64_t at = rva_to_offset(pe, p, rva, size, name) + delta;
            for (uint32_t k = 0; k < size / 28; ++k) {
                const size_t e = size_t(at) + size_t(k) * 28;
                const uint32_t raw = rd32(out, e + 24);
                const uint32_t raw_size = rd32(out, e + 16);
                if (raw != 0 && uint64_t(raw) + raw_size > pe.size()) pe_fail(name, "debug entry data outside the file");
                wr32(out, e + 24, shifted(raw, "debug entry " + std::to_string(k)));
            }
        }
    }
    if (shift) *shift = delta;
    return out;
}

std::string native_manifest(const std::vector<NativeEntry>& natives) {
    std::string m = "#mmojo-natives 1\n";
    for (const NativeEntry& n : natives) {
        m += n.target + " " + std::to_string(n.offset) + " " + std::to_string(n.size) + " " + n.hash + "\n";
    }
    m += "#end\n";
    return m;
}

PolyglotPrefix build_polyglot_prefix(const std::vector<NativeBuild>& builds) {
    std::map<std::string, std::vector<uint8_t>> files;
    std::map<std::string, std::string> paths;
    for (const NativeBuild& b : builds) {
        const std::string t = canonical_target(b.target);
        if (files.count(t)) throw PolyglotError("two builds given for " + t);
        std::vector<uint8_t> bytes = read_file(b.path);
        check_format(t, bytes, b.path);
        files[t] = std::move(bytes);
        paths[t] = b.path;
    }
    if (!files.count("x86_64-windows")) {
        throw PolyglotError("an x86_64-windows build is required: it is the head of the file (the PE the shell "
                            "launcher lives in)");
    }
    // Manifest order; x86_64-windows first (offset 0).
    std::vector<NativeEntry> natives;
    for (const char* t : kNativeTargets) {
        if (!files.count(t)) continue;
        NativeEntry e;
        e.target = t;
        e.hash = short_hash(files[t]);
        natives.push_back(e);
    }
    const std::vector<uint8_t>& pe = files["x86_64-windows"];
    // The script holds offsets that depend on the script's own length: iterate until the
    // layout no longer changes (the header grows in FileAlignment steps, so this is quick).
    for (int round = 0; round < 8; ++round) {
        std::vector<uint8_t> head(kDosHeaderSize, 0);
        std::memcpy(head.data(), "MZqFpD='\n", 9);
        const std::string text = launcher_script(natives) + native_manifest(natives);
        head.insert(head.end(), text.begin(), text.end());
        for (size_t i = 9; i < kDosHeaderSize; ++i) {
            if (head[i] == '\'') throw PolyglotError("internal: quote inside the DOS header");
        }
        uint64_t shift = 0;
        std::vector<uint8_t> image = relocate_pe(pe, paths["x86_64-windows"], head, &shift);
        bool changed = false;
        uint64_t offset = 0;
        for (NativeEntry& n : natives) {
            const uint64_t size = n.target == "x86_64-windows" ? image.size() : files[n.target].size();
            if (n.offset != offset || n.size != size) changed = true;
            n.offset = offset;
            n.size = size;
            offset = align_up(offset + size, kBlobAlignment);
        }
        if (changed) continue;
        PolyglotPrefix out;
        out.bytes = std::move(image);
        for (const NativeEntry& n : natives) {
            if (n.target == "x86_64-windows") continue;
            out.bytes.resize(size_t(n.offset), 0);
            const std::vector<uint8_t>& f = files[n.target];
            out.bytes.insert(out.bytes.end(), f.begin(), f.end());
        }
        out.bytes.resize(size_t(align_up(out.bytes.size(), kBlobAlignment)), 0);
        out.natives = natives;
        out.pe_header_shift = shift;
        return out;
    }
    throw PolyglotError("internal: the polyglot layout did not settle");
}

namespace {

class PrefixView : public ByteSource {
public:
    PrefixView(std::shared_ptr<ByteSource> inner, uint64_t size) : inner_(std::move(inner)), size_(size) {}
    uint64_t size() const override { return size_; }
    void read(uint64_t offset, void* out, size_t n) const override {
        if (offset > size_ || n > size_ - offset) {
            throw std::runtime_error(inner_->name() + ": read of " + std::to_string(n) + " bytes at " +
                                     std::to_string(offset) + " is past the signed file's ZIP end " +
                                     std::to_string(size_));
        }
        inner_->read(offset, out, n);
    }
    const std::string& name() const override { return inner_->name(); }

private:
    std::shared_ptr<ByteSource> inner_;
    uint64_t size_;
};

uint32_t get32(const uint8_t* p) { return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24; }

}  // namespace

std::optional<CertificateTable> pe_certificate_table(const ByteSource& source) {
    uint8_t dos[64];
    if (source.size() < sizeof dos) return std::nullopt;
    source.read(0, dos, sizeof dos);
    if (dos[0] != 'M' || dos[1] != 'Z') return std::nullopt;
    const uint64_t lfanew = get32(dos + 0x3c);
    uint8_t pe[24 + 112];
    if (lfanew + sizeof pe > source.size()) return std::nullopt;
    source.read(lfanew, pe, sizeof pe);
    if (std::memcmp(pe, "PE\0\0", 4) != 0) return std::nullopt;
    const uint16_t optional_size = uint16_t(pe[20] | pe[21] << 8);
    const uint8_t* opt = pe + 24;
    if ((opt[0] | opt[1] << 8) != 0x20b || optional_size < 112 + 5 * 8) return std::nullopt;
    if (get32(opt + 108) < 5) return std::nullopt;
    const uint64_t entry = lfanew + 24 + 112 + 4 * 8;
    if (entry + 8 > source.size()) return std::nullopt;
    uint8_t dir[8];
    source.read(entry, dir, sizeof dir);
    CertificateTable t;
    t.directory_entry = entry;
    t.offset = get32(dir);
    t.size = get32(dir + 4);
    if (t.offset == 0 || t.size == 0 || t.offset + t.size != source.size()) return std::nullopt;
    return t;
}

std::shared_ptr<ByteSource> without_authenticode(std::shared_ptr<ByteSource> source) {
    const std::optional<CertificateTable> t = pe_certificate_table(*source);
    if (!t) return source;
    // The signer pads the file to a multiple of 8 before the table: drop zeros as long as
    // that puts an end-of-central-directory record (no comment) at the end.
    uint64_t end = t->offset;
    for (uint64_t pad = 0; pad < 8 && pad + 22 <= end; ++pad) {
        uint8_t tail[22 + 8] = {};
        source->read(end - pad - 22, tail, 22 + size_t(pad));
        bool zeros = true;
        for (uint64_t k = 0; k < pad; ++k) zeros = zeros && tail[22 + k] == 0;
        if (!zeros) break;
        if (std::memcmp(tail, "PK\5\6", 4) == 0 && tail[20] == 0 && tail[21] == 0) {
            end -= pad;
            break;
        }
    }
    return std::make_shared<PrefixView>(source, end);
}

std::vector<NativeEntry> read_native_manifest(const ByteSource& source) {
    const uint64_t limit = std::min<uint64_t>(source.size(), 65536);
    std::string head(size_t(limit), '\0');
    if (limit > 0) source.read(0, head.data(), head.size());
    if (head.rfind("MZqFpD='", 0) != 0) return {};
    const std::string marker = "\n#mmojo-natives 1\n";
    const size_t at = head.find(marker);
    if (at == std::string::npos) return {};
    std::vector<NativeEntry> out;
    size_t pos = at + marker.size();
    for (;;) {
        const size_t eol = head.find('\n', pos);
        if (eol == std::string::npos) throw PolyglotError(source.name() + ": native build manifest is not terminated");
        const std::string line = head.substr(pos, eol - pos);
        pos = eol + 1;
        if (line == "#end") break;
        NativeEntry e;
        char target[32] = {}, hash[32] = {};
        unsigned long long off = 0, size = 0;
        if (std::sscanf(line.c_str(), "%31s %llu %llu %31s", target, &off, &size, hash) != 4) {
            throw PolyglotError(source.name() + ": bad native build manifest line '" + line + "'");
        }
        e.target = target;
        e.offset = off;
        e.size = size;
        e.hash = hash;
        canonical_target(e.target);
        if (e.offset > source.size() || e.size > source.size() - e.offset) {
            throw PolyglotError(source.name() + ": native build " + e.target + " lies outside the file (truncated?)");
        }
        out.push_back(e);
    }
    return out;
}

}  // namespace mmojo
