// Fuzz target for the ZIP reader and inflate: parses the input as an archive (possibly
// after a prefix), lists it, reads every entry with a memory cap, and also feeds the input
// to inflate directly. Any exception other than ZipError/DeflateError, any crash or
// sanitizer report is a bug.
#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include "package/archive/deflate.h"
#include "package/archive/zip_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        auto zip = mmojo::ZipReader::open(mmojo::memory_source(data, size, "fuzz.zip"));
        if (zip) {
            for (const mmojo::ZipEntry& e : zip->entries()) {
                (void)zip->find(e.name);
                try {
                    (void)zip->read(e, uint64_t(1) << 24);
                } catch (const mmojo::ZipError&) {
                }
                try {
                    (void)zip->stored_range(e);
                } catch (const mmojo::ZipError&) {
                }
            }
        }
    } catch (const mmojo::ZipError&) {
    }
    try {
        (void)mmojo::inflate_raw(data, size, size_t(size) * 8);
    } catch (const mmojo::DeflateError&) {
    }
    return 0;
}
