// Fuzz target of the GGUF parser: parse arbitrary bytes; on success touch every metadata
// value through every getter and every tensor's first and last data byte, then write the
// parsed file again with GgufWriter and check that the result parses to the same shape.
// A GgufError is the expected outcome for bad input; anything else is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "gguf/gguf_writer.h"

namespace {

volatile uint64_t g_sink = 0;

void touch(const mmojo::GgufValue& v) {
    using T = mmojo::GgufValueType;
    switch (v.type) {
        case T::kUint8: case T::kUint16: case T::kUint32: case T::kUint64:
        case T::kInt8: case T::kInt16: case T::kInt32: case T::kInt64:
            try {
                g_sink = g_sink + v.as_u64();
            } catch (const mmojo::GgufError&) {
            }
            try {
                g_sink = g_sink + static_cast<uint64_t>(v.as_i64());
            } catch (const mmojo::GgufError&) {
            }
            g_sink = g_sink + static_cast<uint64_t>(v.as_f64() != 0);
            break;
        case T::kFloat32: case T::kFloat64: g_sink = g_sink + (v.as_f64() > 0); break;
        case T::kBool: g_sink = g_sink + v.as_bool(); break;
        case T::kString: g_sink = g_sink + v.as_string().size(); break;
        case T::kArray:
            for (const auto& e : v.as_array().values) touch(e);
            break;
    }
}

template <class F>
void expect_gguf_error_or_value(F&& f) {
    try {
        f();
    } catch (const mmojo::GgufError&) {
    }
}

void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "gguf_fuzz: %s\n", what);
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    mmojo::GgufFile f;
    try {
        f = mmojo::GgufFile::parse(data, size, "fuzz.gguf");
    } catch (const mmojo::GgufError&) {
        return 0;
    }
    for (const auto& kv : f.metadata()) {
        const std::string& key = kv.first;  // (clang cannot capture structured bindings)
        const mmojo::GgufValue& v = kv.second;
        touch(v);
        check(f.find(key) == &v, "find() does not return the listed value");
        expect_gguf_error_or_value([&] { g_sink = g_sink + f.get_u64(key); });
        expect_gguf_error_or_value([&] { g_sink = g_sink + f.get_u32(key); });
        expect_gguf_error_or_value([&] { g_sink = g_sink + (f.get_f32(key) > 0); });
        expect_gguf_error_or_value([&] { g_sink = g_sink + f.get_bool(key); });
        expect_gguf_error_or_value([&] { g_sink = g_sink + f.get_string(key).size(); });
        expect_gguf_error_or_value([&] { g_sink = g_sink + f.get_string_array(key).size(); });
        expect_gguf_error_or_value([&] { g_sink = g_sink + f.get_f32_array(key).size(); });
        expect_gguf_error_or_value([&] { g_sink = g_sink + f.get_int_array(key).size(); });
    }
    for (const auto& t : f.tensors()) {
        check(t.n_bytes > 0 && t.data != nullptr, "tensor without data");
        check(t.data >= data && t.data + t.n_bytes <= data + size, "tensor data outside the input");
        g_sink = g_sink + t.data[0] + t.data[t.n_bytes - 1] + t.rows();
        check(f.find_tensor(t.name) == &t, "find_tensor() does not return the listed tensor");
    }

    // Write it again: our writer must accept whatever our reader accepted.
    mmojo::GgufWriter w(f.alignment());
    for (const auto& [key, v] : f.metadata()) w.set(key, v);
    for (const auto& t : f.tensors())
        w.add_tensor(t.name, t.type, t.dims, std::vector<uint8_t>(t.data, t.data + t.n_bytes));
    const std::vector<uint8_t> again = w.to_bytes();
    const mmojo::GgufFile g = mmojo::GgufFile::parse(again.data(), again.size(), "rewritten.gguf");
    // (general.alignment, when present, is the uint32 f.alignment(), so nothing is added)
    check(g.metadata().size() == f.metadata().size(), "rewritten metadata count differs");
    check(g.tensors().size() == f.tensors().size(), "rewritten tensor count differs");
    for (size_t i = 0; i < g.tensors().size(); ++i) {
        check(g.tensors()[i].name == f.tensors()[i].name, "rewritten tensor name differs");
        check(g.tensors()[i].dims == f.tensors()[i].dims, "rewritten tensor dims differ");
        check(g.tensors()[i].n_bytes == f.tensors()[i].n_bytes, "rewritten tensor size differs");
    }
    return 0;
}
