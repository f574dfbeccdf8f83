// macho_sign FILE [IDENTIFIER]: adds an ad hoc code signature (src/package/portable/macho_sign.h) to
// a thin 64-bit Mach-O executable in place (written to FILE.sign-tmp, then renamed).
// scripts/cross-build.sh uses it for the x86_64 macOS build, which zig leaves unsigned.
// `macho_sign --check FILE` prints the CPU type and whether the file is signed.
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "package/portable/macho_sign.h"

namespace {

std::vector<uint8_t> read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path + ": cannot open");
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

int main(int argc, char** argv) {
    try {
        if (argc == 3 && std::string(argv[1]) == "--check") {
            const mmojo::MachOInfo i = mmojo::macho_info(read_all(argv[2]), argv[2]);
            std::printf("cpu 0x%08x filetype %u signed %s\n", i.cpu_type, i.file_type,
                        i.has_code_signature ? "yes" : "no");
            return i.has_code_signature ? 0 : 3;
        }
        if (argc < 2 || argc > 3) {
            std::fprintf(stderr, "usage: macho_sign FILE [IDENTIFIER] | macho_sign --check FILE\n");
            return 2;
        }
        const std::string path = argv[1];
        const std::string ident = argc == 3 ? argv[2] : std::filesystem::path(path).filename().string();
        const std::vector<uint8_t> signed_file = mmojo::macho_adhoc_sign(read_all(path), path, ident);
        const std::string tmp = path + ".sign-tmp";
        {
            std::ofstream out(tmp, std::ios::binary);
            out.write(reinterpret_cast<const char*>(signed_file.data()), std::streamsize(signed_file.size()));
            if (!out) throw std::runtime_error(tmp + ": write failed");
        }
        std::filesystem::permissions(tmp, std::filesystem::status(path).permissions());
        std::filesystem::rename(tmp, path);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "macho_sign: %s\n", e.what());
        return 1;
    }
}
