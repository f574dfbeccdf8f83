// GGUF reader: the file format of llama.cpp models (versions 2 and 3).
//
// Layout (little-endian): magic "GGUF", u32 version, u64 tensor count, u64 metadata count,
// metadata key/value pairs, tensor infos (name, n_dims, dims[], type, offset), padding to
// `general.alignment` (default 32), then the tensor data blob. Strings are u64 length +
// bytes. Every count, size and offset is validated before use; any failure throws GgufError
// with the file name, the byte offset and what was wrong.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "kernels/tensor_type.h"
#include "base/mapped_file.h"

namespace mmojo {

class GgufError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Metadata value types, numbered as in the file.
enum class GgufValueType : uint32_t {
    kUint8 = 0, kInt8 = 1, kUint16 = 2, kInt16 = 3, kUint32 = 4, kInt32 = 5, kFloat32 = 6,
    kBool = 7, kString = 8, kArray = 9, kUint64 = 10, kInt64 = 11, kFloat64 = 12,
};
const char* gguf_value_type_name(GgufValueType type);

struct GgufValue;
struct GgufArray {
    GgufValueType element_type = GgufValueType::kUint8;
    std::vector<GgufValue> values;
};

// One metadata value. Integers keep their declared type in `type`; the variant holds the
// widest C++ type of the family so that callers can read any integer width.
struct GgufValue {
    GgufValueType type = GgufValueType::kUint8;
    std::variant<uint64_t, int64_t, double, bool, std::string, std::shared_ptr<GgufArray>> value;

    bool is_integer() const;
    bool is_float() const;
    // Checked conversions; throw GgufError naming the actual type on mismatch or overflow.
    uint64_t as_u64() const;
    int64_t as_i64() const;
    double as_f64() const;
    bool as_bool() const;
    const std::string& as_string() const;
    const GgufArray& as_array() const;

    // Builders (writer, tests). `type` picks the width; throws GgufError when `type` is not
    // of the builder's family or the value does not fit in it.
    static GgufValue make_uint(GgufValueType type, uint64_t v);
    static GgufValue make_int(GgufValueType type, int64_t v);
    static GgufValue make_float(GgufValueType type, double v);
    static GgufValue make_bool(bool v);
    static GgufValue make_string(std::string v);
    static GgufValue make_array(GgufValueType element_type, std::vector<GgufValue> values);
};

struct GgufTensorInfo {
    std::string name;
    std::vector<uint64_t> dims;  // dims[0] is the row length (fastest-varying), as in GGUF
    TensorType type = TensorType::kF32;
    uint64_t offset = 0;         // relative to the start of the data blob
    uint64_t n_elements = 0;
    uint64_t n_bytes = 0;
    const uint8_t* data = nullptr;  // points into the mapping
    uint64_t rows() const { return dims.empty() ? 0 : n_elements / dims[0]; }
};

class GgufFile {
public:
    // Maps and validates a file, or a byte range of a larger file.
    static GgufFile open(const std::string& path, uint64_t offset = 0, uint64_t length = 0);
    // Parses bytes the caller keeps alive (tests, fuzzing). `name` appears in errors.
    static GgufFile parse(const uint8_t* data, size_t size, std::string name);

    const std::string& name() const { return name_; }
    uint32_t version() const { return version_; }
    uint64_t alignment() const { return alignment_; }
    uint64_t data_offset() const { return data_offset_; }  // start of the tensor blob
    size_t file_size() const { return size_; }

    // Metadata in file order, and lookup by key.
    const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return metadata_; }
    const GgufValue* find(std::string_view key) const;
    bool has(std::string_view key) const { return find(key) != nullptr; }
    // Required keys: throw GgufError "missing required key 'k'" or a type error naming k.
    uint64_t get_u64(std::string_view key) const;
    uint32_t get_u32(std::string_view key) const;
    float get_f32(std::string_view key) const;
    bool get_bool(std::string_view key) const;
    const std::string& get_string(std::string_view key) const;
    const GgufArray& get_array(std::string_view key) const;
    // Optional keys: the default when absent; a present key of the wrong type still throws.
    uint64_t get_u64_or(std::string_view key, uint64_t fallback) const;
    uint32_t get_u32_or(std::string_view key, uint32_t fallback) const;
    float get_f32_or(std::string_view key, float fallback) const;
    bool get_bool_or(std::string_view key, bool fallback) const;
    std::string get_string_or(std::string_view key, std::string fallback) const;
    // Array helpers for tokenizer vocabularies and per-layer values.
    std::vector<std::string> get_string_array(std::string_view key) const;
    std::vector<float> get_f32_array(std::string_view key) const;
    std::vector<int64_t> get_int_array(std::string_view key) const;

    const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
    const GgufTensorInfo* find_tensor(std::string_view name) const;
    // Throws GgufError "missing tensor 'name'" when absent.
    const GgufTensorInfo& tensor(std::string_view name) const;

    // Split models: adds the tensors of another part (its data stays in the part's own
    // mapping, kept alive here). Throws GgufError when a tensor name repeats across parts.
    // See gguf_split.h.
    void adopt_split_part(GgufFile&& part);

private:
    std::shared_ptr<MappedFile> mapping_;  // absent for parse()
    std::vector<std::shared_ptr<MappedFile>> part_mappings_;  // other parts of a split model
    std::string name_;
    const uint8_t* bytes_ = nullptr;
    size_t size_ = 0;
    uint32_t version_ = 0;
    uint64_t alignment_ = 32;
    uint64_t data_offset_ = 0;
    std::vector<std::pair<std::string, GgufValue>> metadata_;
    std::map<std::string, size_t, std::less<>> metadata_index_;
    std::vector<GgufTensorInfo> tensors_;
    std::map<std::string, size_t, std::less<>> tensor_index_;

    friend class GgufParser;
};

}  // namespace mmojo
