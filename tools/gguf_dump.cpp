// gguf_dump: prints what mmojo's GGUF reader sees in a file, as JSON, so that tests can
// compare it with an independent reader (Python's `gguf` package).
//
//   gguf_dump FILE [OFFSET [LENGTH]]
//
// Output: {"version", "alignment", "data_offset", "file_size", "metadata": [{"key", "type",
// "value"}], "tensors": [{"name", "dims", "type", "type_id", "offset", "n_elements",
// "n_bytes", "file_offset"}]}. Arrays are {"element_type", "values"}; a string that is not
// valid UTF-8 is {"hex": "..."}; non-finite floats are "nan", "inf", "-inf". On a reader error prints the message to stderr, exits 1.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include <nlohmann/json.hpp>

#include "gguf/gguf.h"

namespace {

using nlohmann::json;

json string_json(const std::string& s) {
    json j = s;
    try {
        (void)j.dump();  // throws on invalid UTF-8
        return j;
    } catch (const json::exception&) {
        static const char* digits = "0123456789abcdef";
        std::string hex;
        for (unsigned char c : s) {
            hex += digits[c >> 4];
            hex += digits[c & 15];
        }
        return json{{"hex", hex}};
    }
}

json value_json(const mmojo::GgufValue& v) {
    using T = mmojo::GgufValueType;
    switch (v.type) {
        case T::kUint8: case T::kUint16: case T::kUint32: case T::kUint64: return v.as_u64();
        case T::kInt8: case T::kInt16: case T::kInt32: case T::kInt64: return v.as_i64();
        case T::kFloat32: case T::kFloat64: {
            const double x = v.as_f64();  // JSON has no NaN or infinities: spell them out
            if (std::isnan(x)) return "nan";
            if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
            return x;
        }
        case T::kBool: return v.as_bool();
        case T::kString: return string_json(v.as_string());
        case T::kArray: {
            const mmojo::GgufArray& a = v.as_array();
            json values = json::array();
            for (const auto& e : a.values) values.push_back(value_json(e));
            return json{{"element_type", mmojo::gguf_value_type_name(a.element_type)},
                        {"values", std::move(values)}};
        }
    }
    return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || argc > 4) {
        std::fprintf(stderr, "usage: %s FILE [OFFSET [LENGTH]]\n", argv[0]);
        return 2;
    }
    try {
        const uint64_t offset = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 0;
        const uint64_t length = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 0;
        const mmojo::GgufFile f = mmojo::GgufFile::open(argv[1], offset, length);
        json out;
        out["version"] = f.version();
        out["alignment"] = f.alignment();
        out["data_offset"] = f.data_offset();
        out["file_size"] = f.file_size();
        json metadata = json::array();
        for (const auto& [key, value] : f.metadata())
            metadata.push_back(json{{"key", string_json(key)},
                                    {"type", mmojo::gguf_value_type_name(value.type)},
                                    {"value", value_json(value)}});
        out["metadata"] = std::move(metadata);
        json tensors = json::array();
        for (const auto& t : f.tensors()) {
            tensors.push_back(json{{"name", string_json(t.name)},
                                   {"dims", t.dims},
                                   {"type", mmojo::tensor_type_name(static_cast<uint32_t>(t.type))},
                                   {"type_id", static_cast<uint32_t>(t.type)},
                                   {"offset", t.offset},
                                   {"n_elements", t.n_elements},
                                   {"n_bytes", t.n_bytes},
                                   {"file_offset", f.data_offset() + t.offset}});
        }
        out["tensors"] = std::move(tensors);
        const std::string text = out.dump();
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fputc('\n', stdout);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}
