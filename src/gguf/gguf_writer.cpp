// GGUF version 3 writer (ggml docs/gguf.md): header, metadata in insertion order, tensor
// infos with offsets relative to the data blob, padding to the alignment, then each tensor's
// bytes padded to the alignment. A non-default alignment is recorded as the uint32 key
// `general.alignment`.
#include "gguf/gguf_writer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <utility>

namespace mmojo {

namespace {

class ByteSink {
public:
    void le(uint64_t v, unsigned n) {
        for (unsigned i = 0; i < n; ++i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
    }
    void bytes(const void* p, size_t n) {
        if (n == 0) return;
        const size_t old = out_.size();
        out_.resize(old + n);
        std::memcpy(out_.data() + old, p, n);
    }
    void string(const std::string& s) {
        le(s.size(), 8);
        bytes(s.data(), s.size());
    }
    void pad_to(uint64_t alignment) {
        while (out_.size() % alignment != 0) out_.push_back(0);
    }
    std::vector<uint8_t>& out() { return out_; }

private:
    std::vector<uint8_t> out_;
};

[[noreturn]] void writer_error(const std::string& key, const std::string& why) {
    throw GgufError("GgufWriter: key '" + key + "': " + why);
}

// Writes a value's payload (no type tag); the caller has written the tag when needed.
void write_payload(ByteSink& sink, const std::string& key, const GgufValue& v) {
    try {
        switch (v.type) {
            case GgufValueType::kUint8: sink.le(GgufValue::make_uint(v.type, v.as_u64()).as_u64(), 1); return;
            case GgufValueType::kUint16: sink.le(GgufValue::make_uint(v.type, v.as_u64()).as_u64(), 2); return;
            case GgufValueType::kUint32: sink.le(GgufValue::make_uint(v.type, v.as_u64()).as_u64(), 4); return;
            case GgufValueType::kUint64: sink.le(v.as_u64(), 8); return;
            case GgufValueType::kInt8:
                sink.le(static_cast<uint64_t>(GgufValue::make_int(v.type, v.as_i64()).as_i64()), 1);
                return;
            case GgufValueType::kInt16:
                sink.le(static_cast<uint64_t>(GgufValue::make_int(v.type, v.as_i64()).as_i64()), 2);
                return;
            case GgufValueType::kInt32:
                sink.le(static_cast<uint64_t>(GgufValue::make_int(v.type, v.as_i64()).as_i64()), 4);
                return;
            case GgufValueType::kInt64: sink.le(static_cast<uint64_t>(v.as_i64()), 8); return;
            case GgufValueType::kFloat32: {
                const float f = static_cast<float>(std::get<double>(v.value));
                uint32_t bits;
                std::memcpy(&bits, &f, 4);
                sink.le(bits, 4);
                return;
            }
            case GgufValueType::kFloat64: {
                const double d = std::get<double>(v.value);
                uint64_t bits;
                std::memcpy(&bits, &d, 8);
                sink.le(bits, 8);
                return;
            }
            case GgufValueType::kBool: sink.le(v.as_bool() ? 1 : 0, 1); return;
            case GgufValueType::kString: sink.string(v.as_string()); return;
            case GgufValueType::kArray: {
                const GgufArray& a = v.as_array();
                if (static_cast<uint32_t>(a.element_type) > static_cast<uint32_t>(GgufValueType::kFloat64))
                    writer_error(key, "invalid array element type " +
                                          std::to_string(static_cast<uint32_t>(a.element_type)));
                sink.le(static_cast<uint32_t>(a.element_type), 4);
                sink.le(a.values.size(), 8);
                for (size_t i = 0; i < a.values.size(); ++i) {
                    if (a.values[i].type != a.element_type)
                        writer_error(key, "array element " + std::to_string(i) + " has type " +
                                              gguf_value_type_name(a.values[i].type) + ", expected " +
                                              gguf_value_type_name(a.element_type));
                    write_payload(sink, key, a.values[i]);
                }
                return;
            }
        }
    } catch (const std::bad_variant_access&) {
        writer_error(key, std::string("value of type ") + gguf_value_type_name(v.type) +
                              " holds the wrong C++ type");
    }
    writer_error(key, "invalid value type " + std::to_string(static_cast<uint32_t>(v.type)));
}

}  // namespace

void GgufWriter::set(const std::string& key, GgufValue value) {
    for (auto& kv : metadata_) {
        if (kv.first == key) {
            kv.second = std::move(value);
            return;
        }
    }
    metadata_.emplace_back(key, std::move(value));
}

void GgufWriter::set_u32(const std::string& key, uint32_t v) {
    set(key, GgufValue::make_uint(GgufValueType::kUint32, v));
}
void GgufWriter::set_i32(const std::string& key, int32_t v) {
    set(key, GgufValue::make_int(GgufValueType::kInt32, v));
}
void GgufWriter::set_u64(const std::string& key, uint64_t v) {
    set(key, GgufValue::make_uint(GgufValueType::kUint64, v));
}
void GgufWriter::set_f32(const std::string& key, float v) {
    set(key, GgufValue::make_float(GgufValueType::kFloat32, v));
}
void GgufWriter::set_bool(const std::string& key, bool v) { set(key, GgufValue::make_bool(v)); }
void GgufWriter::set_string(const std::string& key, const std::string& v) {
    set(key, GgufValue::make_string(v));
}

void GgufWriter::set_string_array(const std::string& key, const std::vector<std::string>& v) {
    std::vector<GgufValue> values;
    values.reserve(v.size());
    for (const auto& s : v) values.push_back(GgufValue::make_string(s));
    set(key, GgufValue::make_array(GgufValueType::kString, std::move(values)));
}

void GgufWriter::set_f32_array(const std::string& key, const std::vector<float>& v) {
    std::vector<GgufValue> values;
    values.reserve(v.size());
    for (float x : v) values.push_back(GgufValue::make_float(GgufValueType::kFloat32, x));
    set(key, GgufValue::make_array(GgufValueType::kFloat32, std::move(values)));
}

void GgufWriter::set_i32_array(const std::string& key, const std::vector<int32_t>& v) {
    std::vector<GgufValue> values;
    values.reserve(v.size());
    for (int32_t x : v) values.push_back(GgufValue::make_int(GgufValueType::kInt32, x));
    set(key, GgufValue::make_array(GgufValueType::kInt32, std::move(values)));
}

void GgufWriter::add_tensor(const std::string& name, TensorType type, std::vector<uint64_t> dims,
                            std::vector<uint8_t> data) {
    const std::string where = "GgufWriter: tensor '" + name + "': ";
    for (const Tensor& t : tensors_)
        if (t.name == name) throw GgufError(where + "a tensor of this name was already added");
    const TensorTypeTraits* traits = tensor_type_traits(type);
    if (traits == nullptr)
        throw GgufError(where + "type " + std::to_string(static_cast<uint32_t>(type)) +
                        " is not supported");
    if (dims.empty() || dims.size() > 4)
        throw GgufError(where + std::to_string(dims.size()) + " dimensions; must be 1 to 4");
    uint64_t n = 1;
    for (uint64_t d : dims) {
        if (d == 0) throw GgufError(where + "a dimension is 0");
        if (n > uint64_t(std::numeric_limits<int64_t>::max()) / d)
            throw GgufError(where + "element count overflows");
        n *= d;
    }
    const uint64_t block = static_cast<uint64_t>(traits->block_size);
    if (dims[0] % block != 0)
        throw GgufError(where + "row length " + std::to_string(dims[0]) + " is not a multiple of the " +
                        traits->name + " block size " + std::to_string(block));
    const uint64_t expected = n / block * traits->block_bytes;
    if (data.size() != expected)
        throw GgufError(where + "has " + std::to_string(data.size()) + " bytes of data, expected " +
                        std::to_string(expected));
    tensors_.push_back(Tensor{name, type, std::move(dims), std::move(data)});
}

std::vector<uint8_t> GgufWriter::to_bytes() const {
    if (alignment_ == 0 || (alignment_ & (alignment_ - 1)) != 0 || alignment_ > 0xffffffffu)
        throw GgufError("GgufWriter: alignment " + std::to_string(alignment_) +
                        " is not a power of two that fits in uint32");
    auto metadata = metadata_;
    bool has_alignment_key = false;
    for (const auto& kv : metadata) {
        if (kv.first != "general.alignment") continue;
        has_alignment_key = true;
        if (kv.second.type != GgufValueType::kUint32 || kv.second.as_u64() != alignment_)
            throw GgufError("GgufWriter: key 'general.alignment' must be the uint32 " +
                            std::to_string(alignment_) + " given to the constructor");
    }
    if (!has_alignment_key && alignment_ != 32)
        metadata.emplace_back("general.alignment",
                              GgufValue::make_uint(GgufValueType::kUint32, alignment_));

    ByteSink sink;
    sink.bytes("GGUF", 4);
    sink.le(3, 4);
    sink.le(tensors_.size(), 8);
    sink.le(metadata.size(), 8);
    for (const auto& [key, value] : metadata) {
        sink.string(key);
        sink.le(static_cast<uint32_t>(value.type), 4);
        write_payload(sink, key, value);
    }
    uint64_t offset = 0;
    for (const Tensor& t : tensors_) {
        sink.string(t.name);
        sink.le(t.dims.size(), 4);
        for (uint64_t d : t.dims) sink.le(d, 8);
        sink.le(static_cast<uint32_t>(t.type), 4);
        sink.le(offset, 8);
        offset += (t.data.size() + alignment_ - 1) / alignment_ * alignment_;
    }
    // With no tensors the file ends right after the metadata (as llama.cpp's vocab files do).
    if (!tensors_.empty()) {
        sink.pad_to(alignment_);
        for (const Tensor& t : tensors_) {
            sink.bytes(t.data.data(), t.data.size());
            sink.pad_to(alignment_);
        }
    }
    return std::move(sink.out());
}

void GgufWriter::write(const std::string& path) const {
    const std::vector<uint8_t> bytes = to_bytes();
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr)
        throw std::runtime_error("cannot write '" + path + "': fopen failed: " + std::strerror(errno));
    const size_t written = bytes.empty() ? 0 : std::fwrite(bytes.data(), 1, bytes.size(), f);
    const int write_errno = errno;
    const bool closed = std::fclose(f) == 0;
    if (written != bytes.size())
        throw std::runtime_error("cannot write '" + path + "': fwrite wrote " + std::to_string(written) +
                                 " of " + std::to_string(bytes.size()) + " bytes: " +
                                 std::strerror(write_errno));
    if (!closed)
        throw std::runtime_error("cannot write '" + path + "': fclose failed: " + std::strerror(errno));
}

}  // namespace mmojo
