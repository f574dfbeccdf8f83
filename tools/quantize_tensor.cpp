// quantize_tensor: quantizes float32 values with mmojo's `from_float` (the activation
// quantizers), so that tests can compare the bytes with an independent implementation.
//
//   quantize_tensor TYPE N_ELEMENTS  < float32 (little-endian) bytes  > raw tensor bytes
//
// TYPE is a ggml type name or number whose row has a from_float (f32, f16, bf16, q8_0, q8_1,
// q8_K). Errors go to stderr with exit status 1.
#include <cstdio>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "tensor_tool_io.h"

int main(int argc, char** argv) {
    try {
        if (argc != 3) throw std::runtime_error("usage: quantize_tensor TYPE N_ELEMENTS");
        const mmojo::TensorTypeTraits& traits = mmojo::tool::parse_type(argv[1]);
        const int64_t n = mmojo::tool::parse_count(argv[2]);
        if (traits.from_float == nullptr) {
            throw std::runtime_error(std::string("type ") + traits.name + " has no from_float");
        }
        const size_t bytes = mmojo::tensor_row_bytes(traits.type, n);
        const std::vector<uint8_t> input =
            mmojo::tool::read_stdin_exact(static_cast<size_t>(n) * sizeof(float));
        std::vector<float> values(static_cast<size_t>(n));
        if (n > 0) std::memcpy(values.data(), input.data(), input.size());
        std::vector<uint8_t> output(bytes);
        traits.from_float(values.data(), output.data(), n);
        mmojo::tool::write_stdout(output.data(), output.size());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "quantize_tensor: %s\n", e.what());
        return 1;
    }
}
