// Mach-O inspection and ad hoc code signing. Apple Silicon refuses to run unsigned code
// and zig signs only its arm64 output, so the x86_64 macOS build gets its signature here:
// an LC_CODE_SIGNATURE load command pointing at an embedded-signature SuperBlob (magic
// 0xfade0cc0) holding one CodeDirectory (0xfade0c02, version 0x20400, ad hoc, SHA-256
// hashes of every 4 KiB page of the file up to the signature), appended to __LINKEDIT.
// Facts from Apple's published cs_blobs.h / loader.h layouts; see docs/sign.md.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace mmojo {

class MachOError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct MachOInfo {
    uint32_t cpu_type = 0;        // 0x01000007 x86_64, 0x0100000c arm64
    uint32_t file_type = 0;       // 2 = MH_EXECUTE
    bool has_code_signature = false;
    uint32_t signature_offset = 0;  // LC_CODE_SIGNATURE dataoff/datasize
    uint32_t signature_size = 0;
};

inline constexpr uint32_t kMachOCpuX86_64 = 0x01000007;
inline constexpr uint32_t kMachOCpuArm64 = 0x0100000c;

// Parses a thin 64-bit little-endian Mach-O file (header and load commands, every size
// and offset checked). `name` is used in error messages. Throws MachOError.
MachOInfo macho_info(const std::vector<uint8_t>& file, const std::string& name);

// Returns `file` with an ad hoc signature whose identifier is `identifier`. Throws
// MachOError when the file already has a signature, __LINKEDIT is not the last thing in
// the file, or the header has no room for one more load command (link with
// -Wl,-headerpad,0x1000).
std::vector<uint8_t> macho_adhoc_sign(const std::vector<uint8_t>& file, const std::string& name,
                                      const std::string& identifier);

}  // namespace mmojo
