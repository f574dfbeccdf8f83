// The polyglot executable (docs/package.md, "Layout"): one file that is
//   1. an x86_64 Windows PE whose DOS header starts `MZqFpD='`: to a POSIX shell the
//      bytes after `MZ` open a single-quoted string that closes right after the DOS
//      header (after e_lfanew);
//   2. a short sh launcher (launcher_script.cpp) after the closing quote, ending in `exit`,
//      followed by a manifest of the native builds (`#mmojo-natives 1` ... `#end`);
//   3. the PE headers (at e_lfanew) and the PE's sections, every file offset shifted by the
//      same multiple of FileAlignment (sections, debug directory, COFF symbol table);
//   4. the other native builds as raw blobs, each 4 KiB aligned;
//   5. the ZIP (written by pack/ZipWriter) with absolute offsets.
// Following the Actually Portable Executable idea (jart/cosmopolitan ape/specification.md);
// PE/COFF facts from Microsoft's PE format specification.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "package/archive/byte_source.h"

namespace mmojo {

class PolyglotError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The six targets, in manifest order. The PE head is always x86_64-windows.
inline constexpr const char* kNativeTargets[] = {
    "x86_64-windows", "x86_64-linux", "aarch64-linux", "aarch64-macos", "x86_64-macos", "aarch64-windows",
};
// "x86_64-linux-musl" -> "x86_64-linux", "x86_64-windows-gnu" -> "x86_64-windows"; throws
// PolyglotError for anything else.
std::string canonical_target(const std::string& name);

struct NativeBuild {
    std::string target;  // canonical name
    std::string path;    // file to read
};

// One native build inside a polyglot file.
struct NativeEntry {
    std::string target;
    uint64_t offset = 0;  // absolute; the x86_64-windows entry is the PE image at offset 0
    uint64_t size = 0;
    std::string hash;     // first 16 hex digits of the SHA-256 of those bytes
};

struct PolyglotPrefix {
    std::vector<uint8_t> bytes;       // everything before the ZIP
    std::vector<NativeEntry> natives;
    uint64_t pe_header_shift = 0;     // how far the PE's file offsets moved
};

// Builds the executable part of a polyglot file. Requires an x86_64-windows build (the
// head); other targets are optional (the launcher reports a missing one clearly). Each
// file is checked to be the right format and CPU (PE machine, ELF e_machine, Mach-O cpu
// type); a Mach-O build without a code signature is signed ad hoc (macho_sign.h).
// Throws PolyglotError naming the file and the problem.
PolyglotPrefix build_polyglot_prefix(const std::vector<NativeBuild>& builds);

// The PE step alone: `pe` rewritten so that its headers start at `header_offset` (e_lfanew)
// behind `dos_and_script` (which must start with the 64-byte DOS header, e_lfanew filled
// in by this function). Exposed for tests.
std::vector<uint8_t> relocate_pe(const std::vector<uint8_t>& pe, const std::string& name,
                                 const std::vector<uint8_t>& dos_and_script, uint64_t* shift);

// Reads the manifest of a polyglot file (empty when `source` is not one). Entries are
// checked against the file's size. Throws PolyglotError for a damaged manifest.
std::vector<NativeEntry> read_native_manifest(const ByteSource& source);

// Authenticode: signtool/osslsigncode append the certificate table to the very end of a
// PE, after our ZIP (docs/sign.md). These let the ZIP be found again and let pack drop a
// signature that its rewrite would invalidate anyway.
struct CertificateTable {
    uint64_t directory_entry = 0;  // file offset of data directory 4 (offset, size)
    uint64_t offset = 0;           // the table itself
    uint64_t size = 0;
};
// The certificate table of a PE file, when it has one that ends the file.
std::optional<CertificateTable> pe_certificate_table(const ByteSource& source);
// A view of `source` that ends where the ZIP ended before signing (the certificate table
// and the up to 7 zero bytes of padding in front of it left out); `source` itself when it
// is not a signed PE.
std::shared_ptr<ByteSource> without_authenticode(std::shared_ptr<ByteSource> source);

// The shell launcher text that follows the DOS header (starts with the closing quote).
// `natives` gives offsets; see launcher_script.cpp.
std::string launcher_script(const std::vector<NativeEntry>& natives);
std::string native_manifest(const std::vector<NativeEntry>& natives);

}  // namespace mmojo
