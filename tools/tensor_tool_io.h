// Shared helpers of tools/dequant_tensor.cpp and tools/quantize_tensor.cpp: parsing a type
// and a count from the command line, binary stdin/stdout.
#pragma once

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#if defined(_WIN32)
#include <fcntl.h>
#include <io.h>
#endif

#include "kernels/tensor_type.h"

namespace mmojo::tool {

inline bool iequals(const std::string& a, const std::string& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}

inline bool all_digits(const std::string& s) {
    if (s.empty() || s.size() > 18) return false;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
    }
    return true;
}

// A ggml type name (case-insensitive) or number, which this build must support.
inline const TensorTypeTraits& parse_type(const std::string& arg) {
    uint32_t raw = 0;
    bool found = false;
    if (all_digits(arg)) {
        const unsigned long long v = std::stoull(arg);
        found = v <= 0xffffffffull && tensor_type_name(static_cast<uint32_t>(v)) != nullptr;
        raw = static_cast<uint32_t>(v);
    } else {
        for (uint32_t r = 0; r < 64 && !found; ++r) {  // names are ggml numbers 0..41
            const char* name = tensor_type_name(r);
            if (name != nullptr && iequals(name, arg)) {
                raw = r;
                found = true;
            }
        }
    }
    if (!found) throw std::runtime_error("unknown tensor type '" + arg + "'");
    const TensorTypeTraits* traits = tensor_type_traits(static_cast<TensorType>(raw));
    if (traits == nullptr) {
        throw std::runtime_error("tensor type " + std::string(tensor_type_name(raw)) +
                                 " is not supported");
    }
    return *traits;
}

inline int64_t parse_count(const std::string& arg) {
    if (!all_digits(arg)) throw std::runtime_error("bad element count '" + arg + "'");
    return static_cast<int64_t>(std::stoll(arg));
}

inline std::vector<uint8_t> read_stdin_exact(size_t bytes) {
#if defined(_WIN32)
    _setmode(_fileno(stdin), _O_BINARY);
#endif
    std::vector<uint8_t> data(bytes);
    size_t got = 0;
    while (got < bytes) {
        const size_t r = std::fread(data.data() + got, 1, bytes - got, stdin);
        if (r == 0) break;
        got += r;
    }
    if (got != bytes) {
        throw std::runtime_error("stdin ended after " + std::to_string(got) + " of " +
                                 std::to_string(bytes) + " bytes");
    }
    if (std::fgetc(stdin) != EOF) {
        throw std::runtime_error("stdin has more than the expected " + std::to_string(bytes) +
                                 " bytes");
    }
    return data;
}

inline void write_stdout(const void* data, size_t bytes) {
#if defined(_WIN32)
    _setmode(_fileno(stdout), _O_BINARY);
#endif
    if (bytes > 0 && std::fwrite(data, 1, bytes, stdout) != bytes) {
        throw std::runtime_error("short write to stdout");
    }
    if (std::fflush(stdout) != 0) throw std::runtime_error("cannot flush stdout");
}

}  // namespace mmojo::tool
