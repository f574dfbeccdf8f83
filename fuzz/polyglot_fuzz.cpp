// Fuzz target for the polyglot file's parsers: the native-build manifest reader (run by the
// x86_64 Windows build on its own file at start-up), the Authenticode trailer check (run on
// every start), the PE relocation and the Mach-O parser/signer (run by pack --native). Any
// exception other than PolyglotError/MachOError, any crash or sanitizer report is a bug.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "package/portable/macho_sign.h"
#include "package/portable/polyglot.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto src = mmojo::memory_source(data, size, "fuzz.bin");
    try {
        (void)mmojo::read_native_manifest(*src);
    } catch (const mmojo::PolyglotError&) {
    }
    (void)mmojo::pe_certificate_table(*src);
    (void)mmojo::without_authenticode(src)->size();
    const std::vector<uint8_t> bytes(data, data + size);
    try {
        std::string text(64, '\0');
        text.replace(0, 9, "MZqFpD='\n");
        text += "'\nexit 1\n";
        const std::vector<uint8_t> head(text.begin(), text.end());
        uint64_t shift = 0;
        (void)mmojo::relocate_pe(bytes, "fuzz.exe", head, &shift);
    } catch (const mmojo::PolyglotError&) {
    }
    try {
        const mmojo::MachOInfo info = mmojo::macho_info(bytes, "fuzz.macho");
        if (!info.has_code_signature && size < (1u << 20)) (void)mmojo::macho_adhoc_sign(bytes, "fuzz.macho", "fuzz");
    } catch (const mmojo::MachOError&) {
    }
    return 0;
}
