// GGUF metadata values and the typed getters of GgufFile: checked conversions between the
// 13 GGUF value types (gguf.md "GGUF metadata value types") and C++ types, with errors that
// name the key, the file, the expected type and the actual type.
#include <limits>
#include <string>
#include <utility>

#include "gguf/gguf.h"

namespace mmojo {

const char* gguf_value_type_name(GgufValueType type) {
    switch (type) {
        case GgufValueType::kUint8: return "uint8";
        case GgufValueType::kInt8: return "int8";
        case GgufValueType::kUint16: return "uint16";
        case GgufValueType::kInt16: return "int16";
        case GgufValueType::kUint32: return "uint32";
        case GgufValueType::kInt32: return "int32";
        case GgufValueType::kFloat32: return "float32";
        case GgufValueType::kBool: return "bool";
        case GgufValueType::kString: return "string";
        case GgufValueType::kArray: return "array";
        case GgufValueType::kUint64: return "uint64";
        case GgufValueType::kInt64: return "int64";
        case GgufValueType::kFloat64: return "float64";
    }
    return "invalid";
}

namespace {

bool is_unsigned_type(GgufValueType t) {
    return t == GgufValueType::kUint8 || t == GgufValueType::kUint16 ||
           t == GgufValueType::kUint32 || t == GgufValueType::kUint64;
}

bool is_signed_type(GgufValueType t) {
    return t == GgufValueType::kInt8 || t == GgufValueType::kInt16 ||
           t == GgufValueType::kInt32 || t == GgufValueType::kInt64;
}

uint64_t unsigned_max(GgufValueType t) {
    switch (t) {
        case GgufValueType::kUint8: return 0xffu;
        case GgufValueType::kUint16: return 0xffffu;
        case GgufValueType::kUint32: return 0xffffffffu;
        default: return std::numeric_limits<uint64_t>::max();
    }
}

int64_t signed_min(GgufValueType t) {
    switch (t) {
        case GgufValueType::kInt8: return -128;
        case GgufValueType::kInt16: return -32768;
        case GgufValueType::kInt32: return std::numeric_limits<int32_t>::min();
        default: return std::numeric_limits<int64_t>::min();
    }
}

int64_t signed_max(GgufValueType t) {
    switch (t) {
        case GgufValueType::kInt8: return 127;
        case GgufValueType::kInt16: return 32767;
        case GgufValueType::kInt32: return std::numeric_limits<int32_t>::max();
        default: return std::numeric_limits<int64_t>::max();
    }
}

[[noreturn]] void type_error(GgufValueType actual, const char* expected) {
    throw GgufError(std::string("value has type ") + gguf_value_type_name(actual) +
                    ", expected " + expected);
}

// The variant alternative must agree with the declared type; a mismatch can only come from
// a hand-built GgufValue, never from the parser.
template <class T>
const T& held(const GgufValue& v) {
    const T* p = std::get_if<T>(&v.value);
    if (p == nullptr)
        throw GgufError(std::string("malformed GgufValue: declared type ") +
                        gguf_value_type_name(v.type) + " does not match the stored C++ value");
    return *p;
}

std::string value_text(const GgufValue& v) {
    if (is_unsigned_type(v.type)) return std::to_string(held<uint64_t>(v));
    if (is_signed_type(v.type)) return std::to_string(held<int64_t>(v));
    return "?";
}

}  // namespace

bool GgufValue::is_integer() const { return is_unsigned_type(type) || is_signed_type(type); }

bool GgufValue::is_float() const {
    return type == GgufValueType::kFloat32 || type == GgufValueType::kFloat64;
}

uint64_t GgufValue::as_u64() const {
    if (is_unsigned_type(type)) return held<uint64_t>(*this);
    if (is_signed_type(type)) {
        const int64_t v = held<int64_t>(*this);
        if (v < 0)
            throw GgufError("value " + std::to_string(v) + " of type " + gguf_value_type_name(type) +
                            " is negative, expected an unsigned integer");
        return static_cast<uint64_t>(v);
    }
    type_error(type, "an integer");
}

int64_t GgufValue::as_i64() const {
    if (is_signed_type(type)) return held<int64_t>(*this);
    if (is_unsigned_type(type)) {
        const uint64_t v = held<uint64_t>(*this);
        if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
            throw GgufError("value " + std::to_string(v) + " of type " + gguf_value_type_name(type) +
                            " does not fit in int64");
        return static_cast<int64_t>(v);
    }
    type_error(type, "an integer");
}

double GgufValue::as_f64() const {
    if (is_float()) return held<double>(*this);
    if (is_unsigned_type(type)) return static_cast<double>(held<uint64_t>(*this));
    if (is_signed_type(type)) return static_cast<double>(held<int64_t>(*this));
    type_error(type, "a number");
}

bool GgufValue::as_bool() const {
    if (type != GgufValueType::kBool) type_error(type, "bool");
    return held<bool>(*this);
}

const std::string& GgufValue::as_string() const {
    if (type != GgufValueType::kString) type_error(type, "string");
    return held<std::string>(*this);
}

const GgufArray& GgufValue::as_array() const {
    if (type != GgufValueType::kArray) type_error(type, "array");
    const auto& p = held<std::shared_ptr<GgufArray>>(*this);
    if (!p) throw GgufError("malformed GgufValue: array value without contents");
    return *p;
}

GgufValue GgufValue::make_uint(GgufValueType type, uint64_t v) {
    if (!is_unsigned_type(type))
        throw GgufError(std::string("make_uint: ") + gguf_value_type_name(type) +
                        " is not an unsigned integer type");
    if (v > unsigned_max(type))
        throw GgufError("make_uint: " + std::to_string(v) + " does not fit in " +
                        gguf_value_type_name(type));
    GgufValue out;
    out.type = type;
    out.value = v;
    return out;
}

GgufValue GgufValue::make_int(GgufValueType type, int64_t v) {
    if (!is_signed_type(type))
        throw GgufError(std::string("make_int: ") + gguf_value_type_name(type) +
                        " is not a signed integer type");
    if (v < signed_min(type) || v > signed_max(type))
        throw GgufError("make_int: " + std::to_string(v) + " does not fit in " +
                        gguf_value_type_name(type));
    GgufValue out;
    out.type = type;
    out.value = v;
    return out;
}

GgufValue GgufValue::make_float(GgufValueType type, double v) {
    if (type != GgufValueType::kFloat32 && type != GgufValueType::kFloat64)
        throw GgufError(std::string("make_float: ") + gguf_value_type_name(type) +
                        " is not a float type");
    GgufValue out;
    out.type = type;
    // A float32 value is kept exactly as float32 would store it.
    out.value = type == GgufValueType::kFloat32 ? static_cast<double>(static_cast<float>(v)) : v;
    return out;
}

GgufValue GgufValue::make_bool(bool v) {
    GgufValue out;
    out.type = GgufValueType::kBool;
    out.value = v;
    return out;
}

GgufValue GgufValue::make_string(std::string v) {
    GgufValue out;
    out.type = GgufValueType::kString;
    out.value = std::move(v);
    return out;
}

GgufValue GgufValue::make_array(GgufValueType element_type, std::vector<GgufValue> values) {
    if (static_cast<uint32_t>(element_type) > static_cast<uint32_t>(GgufValueType::kFloat64))
        throw GgufError("make_array: invalid element type " +
                        std::to_string(static_cast<uint32_t>(element_type)));
    for (size_t i = 0; i < values.size(); ++i) {
        if (values[i].type != element_type)
            throw GgufError("make_array: element " + std::to_string(i) + " has type " +
                            gguf_value_type_name(values[i].type) + ", expected " +
                            gguf_value_type_name(element_type));
    }
    auto array = std::make_shared<GgufArray>();
    array->element_type = element_type;
    array->values = std::move(values);
    GgufValue out;
    out.type = GgufValueType::kArray;
    out.value = std::move(array);
    return out;
}

// ---- GgufFile getters -------------------------------------------------------------------

namespace {

[[noreturn]] void key_error(const GgufFile& f, std::string_view key, const std::string& why) {
    throw GgufError(f.name() + ": key '" + std::string(key) + "' " + why);
}

const GgufValue& require(const GgufFile& f, std::string_view key) {
    const GgufValue* v = f.find(key);
    if (v == nullptr) throw GgufError(f.name() + ": missing required key '" + std::string(key) + "'");
    return *v;
}

void expect_type(const GgufFile& f, std::string_view key, const GgufValue& v, bool ok,
                 const char* expected) {
    if (!ok)
        key_error(f, key, std::string("has type ") + gguf_value_type_name(v.type) + ", expected " +
                              expected);
}

uint64_t to_u64(const GgufFile& f, std::string_view key, const GgufValue& v, uint64_t max,
                const char* expected) {
    expect_type(f, key, v, v.is_integer(), expected);
    if (is_signed_type(v.type) && held<int64_t>(v) < 0)
        key_error(f, key, "has negative value " + value_text(v) + " (" +
                              gguf_value_type_name(v.type) + "), expected " + expected);
    const uint64_t u = v.as_u64();
    if (u > max)
        key_error(f, key, "value " + value_text(v) + " (" + gguf_value_type_name(v.type) +
                              ") does not fit in " + expected);
    return u;
}

float to_f32(const GgufFile& f, std::string_view key, const GgufValue& v) {
    expect_type(f, key, v, v.is_float() || v.is_integer(), "float32 (or another number)");
    return static_cast<float>(v.as_f64());
}

const GgufArray& to_array(const GgufFile& f, std::string_view key, const GgufValue& v) {
    expect_type(f, key, v, v.type == GgufValueType::kArray, "array");
    return v.as_array();
}

}  // namespace

const GgufValue* GgufFile::find(std::string_view key) const {
    auto it = metadata_index_.find(key);
    return it == metadata_index_.end() ? nullptr : &metadata_[it->second].second;
}

uint64_t GgufFile::get_u64(std::string_view key) const {
    return to_u64(*this, key, require(*this, key), std::numeric_limits<uint64_t>::max(),
                  "uint64 (or another integer type)");
}

uint32_t GgufFile::get_u32(std::string_view key) const {
    return static_cast<uint32_t>(to_u64(*this, key, require(*this, key), 0xffffffffu,
                                        "uint32 (or another integer type)"));
}

float GgufFile::get_f32(std::string_view key) const { return to_f32(*this, key, require(*this, key)); }

bool GgufFile::get_bool(std::string_view key) const {
    const GgufValue& v = require(*this, key);
    expect_type(*this, key, v, v.type == GgufValueType::kBool, "bool");
    return v.as_bool();
}

const std::string& GgufFile::get_string(std::string_view key) const {
    const GgufValue& v = require(*this, key);
    expect_type(*this, key, v, v.type == GgufValueType::kString, "string");
    return v.as_string();
}

const GgufArray& GgufFile::get_array(std::string_view key) const {
    return to_array(*this, key, require(*this, key));
}

uint64_t GgufFile::get_u64_or(std::string_view key, uint64_t fallback) const {
    return has(key) ? get_u64(key) : fallback;
}

uint32_t GgufFile::get_u32_or(std::string_view key, uint32_t fallback) const {
    return has(key) ? get_u32(key) : fallback;
}

float GgufFile::get_f32_or(std::string_view key, float fallback) const {
    return has(key) ? get_f32(key) : fallback;
}

bool GgufFile::get_bool_or(std::string_view key, bool fallback) const {
    return has(key) ? get_bool(key) : fallback;
}

std::string GgufFile::get_string_or(std::string_view key, std::string fallback) const {
    return has(key) ? get_string(key) : std::move(fallback);
}

std::vector<std::string> GgufFile::get_string_array(std::string_view key) const {
    const GgufArray& a = get_array(key);
    if (a.element_type != GgufValueType::kString)
        key_error(*this, key, std::string("is an array of ") + gguf_value_type_name(a.element_type) +
                                  ", expected an array of string");
    std::vector<std::string> out;
    out.reserve(a.values.size());
    for (const GgufValue& v : a.values) out.push_back(v.as_string());
    return out;
}

std::vector<float> GgufFile::get_f32_array(std::string_view key) const {
    const GgufArray& a = get_array(key);
    const GgufValueType t = a.element_type;
    if (t != GgufValueType::kFloat32 && t != GgufValueType::kFloat64 && !is_unsigned_type(t) &&
        !is_signed_type(t))
        key_error(*this, key, std::string("is an array of ") + gguf_value_type_name(a.element_type) +
                                  ", expected an array of float32 (or another number type)");
    std::vector<float> out;
    out.reserve(a.values.size());
    for (const GgufValue& v : a.values) out.push_back(static_cast<float>(v.as_f64()));
    return out;
}

std::vector<int64_t> GgufFile::get_int_array(std::string_view key) const {
    const GgufArray& a = get_array(key);
    if (!is_unsigned_type(a.element_type) && !is_signed_type(a.element_type))
        key_error(*this, key, std::string("is an array of ") + gguf_value_type_name(a.element_type) +
                                  ", expected an array of integers");
    std::vector<int64_t> out;
    out.reserve(a.values.size());
    for (size_t i = 0; i < a.values.size(); ++i) {
        const GgufValue& v = a.values[i];
        if (is_unsigned_type(v.type) &&
            held<uint64_t>(v) > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
            key_error(*this, key, "element " + std::to_string(i) + " value " + value_text(v) +
                                      " does not fit in int64");
        out.push_back(v.as_i64());
    }
    return out;
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
    auto it = tensor_index_.find(name);
    return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const GgufTensorInfo& GgufFile::tensor(std::string_view name) const {
    const GgufTensorInfo* t = find_tensor(name);
    if (t == nullptr) throw GgufError(name_ + ": missing tensor '" + std::string(name) + "'");
    return *t;
}

}  // namespace mmojo
