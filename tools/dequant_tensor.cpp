// dequant_tensor: dequantizes raw tensor bytes with mmojo's generic `to_float`, so that tests
// can compare the result with an independent decoder (Python's `gguf` package).
//
//   dequant_tensor TYPE N_ELEMENTS  < raw bytes  > float32 (little-endian) bytes
//
// TYPE is a ggml type name ("q4_K", case-insensitive) or number. Reads exactly the row
// bytes of N_ELEMENTS elements from stdin. Errors go to stderr with exit status 1.
//
//   dequant_tensor --list   prints one line per row of the type table:
//                           NUMBER NAME BLOCK_SIZE BLOCK_BYTES VEC_DOT_TYPE_NUMBER
// (tests walk the table through it, so a new row is tested without editing them).
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "tensor_tool_io.h"

int main(int argc, char** argv) {
    try {
        if (argc == 2 && std::string(argv[1]) == "--list") {
            for (const mmojo::TensorTypeTraits& row : mmojo::tensor_type_table()) {
                std::printf("%u %s %lld %zu %u\n", static_cast<unsigned>(row.type), row.name,
                            static_cast<long long>(row.block_size), row.block_bytes,
                            static_cast<unsigned>(row.vec_dot_type));
            }
            return 0;
        }
        if (argc != 3) throw std::runtime_error("usage: dequant_tensor TYPE N_ELEMENTS");
        const mmojo::TensorTypeTraits& traits = mmojo::tool::parse_type(argv[1]);
        const int64_t n = mmojo::tool::parse_count(argv[2]);
        if (traits.to_float == nullptr) {
            throw std::runtime_error(std::string("type ") + traits.name + " has no to_float");
        }
        const size_t bytes = mmojo::tensor_row_bytes(traits.type, n);
        const std::vector<uint8_t> input = mmojo::tool::read_stdin_exact(bytes);
        std::vector<float> output(static_cast<size_t>(n));
        traits.to_float(input.data(), output.data(), n);
        mmojo::tool::write_stdout(output.data(), output.size() * sizeof(float));
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "dequant_tensor: %s\n", e.what());
        return 1;
    }
}
