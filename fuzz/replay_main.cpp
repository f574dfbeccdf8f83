// Corpus replay driver for fuzz targets when libFuzzer is not available (gcc builds).
// Feeds every file of the corpus folder to LLVMFuzzerTestOneInput, then a fixed number
// of deterministic mutations of each (truncations, bit flips, byte overwrites), so the
// sanitizer build exercises the parsers on damaged input at every test run.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::vector<uint8_t> read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void run(const std::vector<uint8_t>& bytes) {
    // A copy sized exactly, so reads past the end are caught by AddressSanitizer.
    std::vector<uint8_t> exact(bytes);
    LLVMFuzzerTestOneInput(exact.empty() ? nullptr : exact.data(), exact.size());
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s CORPUS_DIR [MUTATIONS_PER_FILE]\n", argv[0]);
        return 2;
    }
    const int mutations = argc > 2 ? std::atoi(argv[2]) : 200;
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(argv[1])) {
        if (entry.is_regular_file()) files.push_back(entry.path());
    }
    if (files.empty()) {
        std::fprintf(stderr, "no corpus files in %s\n", argv[1]);
        return 1;
    }
    std::mt19937_64 rng(12345);
    size_t runs = 0;
    for (const auto& path : files) {
        const std::vector<uint8_t> seed = read_file(path);
        run(seed);
        ++runs;
        for (int i = 0; i < mutations; ++i) {
            std::vector<uint8_t> bytes = seed;
            switch (rng() % 3) {
                case 0:  // truncate
                    bytes.resize(bytes.empty() ? 0 : rng() % bytes.size());
                    break;
                case 1:  // flip a few bits
                    for (int k = 0; k < 1 + int(rng() % 4) && !bytes.empty(); ++k)
                        bytes[rng() % bytes.size()] ^= uint8_t(1u << (rng() % 8));
                    break;
                default:  // overwrite a run with an extreme value
                    if (!bytes.empty()) {
                        const size_t at = rng() % bytes.size();
                        const uint8_t value = (rng() & 1) ? 0xff : 0x00;
                        for (size_t k = at; k < bytes.size() && k < at + 1 + rng() % 8; ++k)
                            bytes[k] = value;
                    }
            }
            run(bytes);
            ++runs;
        }
    }
    std::printf("replayed %zu inputs from %zu corpus files\n", runs, files.size());
    return 0;
}
