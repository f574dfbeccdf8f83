// gguf_write: builds a GGUF file with mmojo's GgufWriter from a JSON description, so that
// tests can check the writer's output with an independent reader (Python's `gguf`).
//
//   gguf_write SPEC.json OUT.gguf
//
// SPEC: {"alignment": 32, "metadata": [{"key", "type", "value"}], "tensors": [{"name",
// "type" ("q8_0", ...), "dims": [...], "data_hex": "..."}]}. Values use gguf_dump's form:
// arrays are {"element_type", "values"}; float values may be "nan", "inf" or "-inf".
#include <cmath>
#include <cstdio>
#include <exception>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "gguf/gguf_writer.h"

namespace {

using nlohmann::json;
using mmojo::GgufValue;
using mmojo::GgufValueType;

GgufValueType value_type(const std::string& name) {
    for (uint32_t t = 0; t <= 12; ++t)
        if (name == mmojo::gguf_value_type_name(static_cast<GgufValueType>(t)))
            return static_cast<GgufValueType>(t);
    throw std::runtime_error("unknown value type '" + name + "'");
}

mmojo::TensorType tensor_type(const std::string& name) {
    for (uint32_t t = 0; t < 256; ++t) {
        const char* n = mmojo::tensor_type_name(t);
        if (n != nullptr && name == n) return static_cast<mmojo::TensorType>(t);
    }
    throw std::runtime_error("unknown tensor type '" + name + "'");
}

double float_value(const json& j) {
    if (j.is_string()) {
        const std::string s = j.get<std::string>();
        if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
        if (s == "inf") return std::numeric_limits<double>::infinity();
        if (s == "-inf") return -std::numeric_limits<double>::infinity();
        throw std::runtime_error("bad float '" + s + "'");
    }
    return j.get<double>();
}

GgufValue make_value(GgufValueType type, const json& j) {
    switch (type) {
        case GgufValueType::kUint8: case GgufValueType::kUint16: case GgufValueType::kUint32:
        case GgufValueType::kUint64:
            return GgufValue::make_uint(type, j.get<uint64_t>());
        case GgufValueType::kInt8: case GgufValueType::kInt16: case GgufValueType::kInt32:
        case GgufValueType::kInt64:
            return GgufValue::make_int(type, j.get<int64_t>());
        case GgufValueType::kFloat32: case GgufValueType::kFloat64:
            return GgufValue::make_float(type, float_value(j));
        case GgufValueType::kBool: return GgufValue::make_bool(j.get<bool>());
        case GgufValueType::kString: return GgufValue::make_string(j.get<std::string>());
        case GgufValueType::kArray: {
            const GgufValueType element = value_type(j.at("element_type").get<std::string>());
            std::vector<GgufValue> values;
            for (const json& e : j.at("values")) values.push_back(make_value(element, e));
            return GgufValue::make_array(element, std::move(values));
        }
    }
    throw std::runtime_error("bad value type");
}

std::vector<uint8_t> from_hex(const std::string& hex) {
    if (hex.size() % 2 != 0) throw std::runtime_error("odd-length hex string");
    std::vector<uint8_t> out(hex.size() / 2);
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(std::stoul(hex.substr(2 * i, 2), nullptr, 16));
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s SPEC.json OUT.gguf\n", argv[0]);
        return 2;
    }
    try {
        std::ifstream in(argv[1]);
        if (!in) throw std::runtime_error(std::string("cannot open ") + argv[1]);
        const json spec = json::parse(in);
        mmojo::GgufWriter writer(spec.value("alignment", uint64_t(32)));
        for (const json& kv : spec.value("metadata", json::array()))
            writer.set(kv.at("key").get<std::string>(),
                       make_value(value_type(kv.at("type").get<std::string>()), kv.at("value")));
        for (const json& t : spec.value("tensors", json::array()))
            writer.add_tensor(t.at("name").get<std::string>(), tensor_type(t.at("type").get<std::string>()),
                              t.at("dims").get<std::vector<uint64_t>>(),
                              from_hex(t.at("data_hex").get<std::string>()));
        writer.write(argv[2]);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}
