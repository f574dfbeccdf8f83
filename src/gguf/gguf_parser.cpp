// GGUF parser with strict validation (ggml docs/gguf.md, versions 2 and 3).
//
// Every read is bounds-checked first; every count is compared with the bytes left before
// anything is allocated for it (a file claiming 2^60 entries fails at once). Errors are
// GgufError "<file>: byte offset <N>: <what was wrong>".
#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

#include "gguf/gguf.h"

namespace mmojo {

namespace {

constexpr uint32_t kMaxDims = 4;          // GGML_MAX_DIMS
constexpr int kMaxArrayDepth = 32;        // nested arrays deeper than this are rejected
constexpr uint64_t kDefaultAlignment = 32;
// Smallest possible encodings, used to bound counts before allocating.
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;          // key length, type, 1-byte value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;  // name len, n_dims, 1 dim, type, offset

uint64_t min_value_bytes(GgufValueType t) {
    switch (t) {
        case GgufValueType::kUint8: case GgufValueType::kInt8: case GgufValueType::kBool: return 1;
        case GgufValueType::kUint16: case GgufValueType::kInt16: return 2;
        case GgufValueType::kUint32: case GgufValueType::kInt32: case GgufValueType::kFloat32: return 4;
        case GgufValueType::kUint64: case GgufValueType::kInt64: case GgufValueType::kFloat64: return 8;
        case GgufValueType::kString: return 8;      // length only
        case GgufValueType::kArray: return 4 + 8;   // element type + count
    }
    return 1;
}

// Reservations are capped: a count is only known to fit the file's bytes, and one byte of
// input may become a 56-byte GgufValue, so larger containers grow as values really arrive.
size_t capped(uint64_t count) { return static_cast<size_t>(std::min<uint64_t>(count, 1u << 16)); }

std::string hex_bytes(const uint8_t* p, size_t n) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < n; ++i) {
        if (i) out += ' ';
        out += digits[p[i] >> 4];
        out += digits[p[i] & 15];
    }
    return out;
}

// A key or tensor name for an error message. Names come from the file, so a misread one
// (a count off by one shifts every field after it) may hold NUL or control bytes, which
// cut the message short where it is printed as a C string: those are escaped as \xNN,
// and very long names are shortened with their length given.
std::string shown(const std::string& name) {
    static const char* digits = "0123456789abcdef";
    constexpr size_t kMaxShown = 160;
    std::string out;
    for (size_t i = 0; i < name.size() && i < kMaxShown; ++i) {
        const unsigned char c = static_cast<unsigned char>(name[i]);
        if (c >= 0x20 && c != 0x7f && c != '\\') {
            out += char(c);
        } else {
            out += "\\x";
            out += digits[c >> 4];
            out += digits[c & 15];
        }
    }
    if (name.size() > kMaxShown) out += "... (" + std::to_string(name.size()) + " bytes)";
    return out;
}

std::string printable(const uint8_t* p, size_t n) {
    std::string out;
    for (size_t i = 0; i < n; ++i) out += (p[i] >= 0x20 && p[i] < 0x7f) ? char(p[i]) : '.';
    return out;
}

}  // namespace

class GgufParser {
public:
    GgufParser(GgufFile& file) : f_(file), p_(file.bytes_), size_(file.size_) {}

    void run() {
        read_header();
        read_metadata();
        resolve_alignment();
        read_tensor_infos();
        place_tensors();
    }

private:
    [[noreturn]] void fail_at(uint64_t offset, const std::string& why) const {
        throw GgufError(f_.name_ + ": byte offset " + std::to_string(offset) + ": " + why);
    }

    uint64_t left() const { return size_ - pos_; }

    // Describes what is being read for error messages; built only when something fails.
    std::string context() const {
        std::string out;
        if (in_kv_) {
            out = "metadata entry " + std::to_string(kv_index_);
            if (!key_.empty()) out += " ('" + shown(key_) + "')";
            for (uint64_t i : index_path_) {
                out += '[';
                out += std::to_string(i);
                out += ']';
            }
        } else if (in_tensor_) {
            out = "tensor info " + std::to_string(tensor_index_);
            if (!tensor_name_.empty()) out += " ('" + shown(tensor_name_) + "')";
        } else {
            out = "header";
        }
        return out;
    }

    void need(uint64_t n, const char* what) const {
        if (n > left())
            fail_at(pos_, std::string("truncated file: reading ") + what + " of " + context() +
                              " needs " + std::to_string(n) + " bytes but only " +
                              std::to_string(left()) + " remain (file size " +
                              std::to_string(size_) + ")");
    }

    uint64_t read_le(unsigned n, const char* what) {
        need(n, what);
        uint64_t v = 0;
        for (unsigned i = 0; i < n; ++i) v |= uint64_t(p_[pos_ + i]) << (8 * i);
        pos_ += n;
        return v;
    }
    uint8_t u8(const char* what) { return static_cast<uint8_t>(read_le(1, what)); }
    uint16_t u16(const char* what) { return static_cast<uint16_t>(read_le(2, what)); }
    uint32_t u32(const char* what) { return static_cast<uint32_t>(read_le(4, what)); }
    uint64_t u64(const char* what) { return read_le(8, what); }

    std::string string(const char* what) {
        const uint64_t at = pos_;
        const uint64_t n = u64(what);
        if (n > left())
            fail_at(at, std::string("truncated file or corrupt length: ") + what + " of " +
                            context() + " claims " + std::to_string(n) + " bytes but only " +
                            std::to_string(left()) + " remain (file size " +
                            std::to_string(size_) + ")");
        std::string s(reinterpret_cast<const char*>(p_ + pos_), static_cast<size_t>(n));
        pos_ += n;
        return s;
    }

    GgufValueType value_type(const char* what) {
        const uint64_t at = pos_;
        const uint32_t raw = u32(what);
        if (raw > static_cast<uint32_t>(GgufValueType::kFloat64))
            fail_at(at, "invalid value type " + std::to_string(raw) + " (" + what + ") in " +
                            context() + "; valid types are 0..12");
        return static_cast<GgufValueType>(raw);
    }

    void read_header() {
        need(4, "the magic");
        if (std::memcmp(p_, "GGUF", 4) != 0)
            fail_at(0, "bad magic " + hex_bytes(p_, 4) + " (\"" + printable(p_, 4) +
                           "\"), expected 47 47 55 46 (\"GGUF\"): not a GGUF file");
        pos_ = 4;
        const uint32_t version = u32("the version");
        f_.version_ = version;
        if (version != 2 && version != 3) {
            std::string why = "unsupported GGUF version " + std::to_string(version);
            const uint32_t swapped = (version >> 24) | ((version >> 8) & 0xff00u) |
                                     ((version << 8) & 0xff0000u) | (version << 24);
            if (version == 1)
                why += " (an early 2023 format; only versions 2 and 3 are supported, convert the "
                       "model again with a current llama.cpp)";
            else if (swapped == 2 || swapped == 3)
                why += " (this looks like a big-endian GGUF " + std::to_string(swapped) +
                       " file; only little-endian files are supported)";
            else
                why += " (only versions 2 and 3 are supported)";
            fail_at(4, why);
        }
        const uint64_t tensors_at = pos_;
        n_tensors_ = u64("the tensor count");
        const uint64_t kv_at = pos_;
        n_kv_ = u64("the metadata count");
        if (n_kv_ > left() / kMinKvBytes)
            fail_at(kv_at, "truncated file or corrupt count: metadata count " + std::to_string(n_kv_) + " is impossible: each entry "
                           "needs at least " + std::to_string(kMinKvBytes) + " bytes and only " +
                           std::to_string(left()) + " bytes remain");
        // Tensor infos follow the metadata, so this bound is loose but already rules out
        // absurd counts; the exact check happens while reading.
        if (n_tensors_ > left() / kMinTensorInfoBytes)
            fail_at(tensors_at, "truncated file or corrupt count: tensor count " + std::to_string(n_tensors_) + " is impossible: "
                                "each tensor info needs at least " +
                                std::to_string(kMinTensorInfoBytes) + " bytes and only " +
                                std::to_string(left()) + " bytes remain");
    }

    GgufValue value(GgufValueType type, int depth) {
        GgufValue v;
        v.type = type;
        switch (type) {
            case GgufValueType::kUint8: v.value = uint64_t(u8("a uint8 value")); break;
            case GgufValueType::kInt8: v.value = int64_t(int8_t(u8("an int8 value"))); break;
            case GgufValueType::kUint16: v.value = uint64_t(u16("a uint16 value")); break;
            case GgufValueType::kInt16: v.value = int64_t(int16_t(u16("an int16 value"))); break;
            case GgufValueType::kUint32: v.value = uint64_t(u32("a uint32 value")); break;
            case GgufValueType::kInt32: v.value = int64_t(int32_t(u32("an int32 value"))); break;
            case GgufValueType::kUint64: v.value = u64("a uint64 value"); break;
            case GgufValueType::kInt64: v.value = int64_t(u64("an int64 value")); break;
            case GgufValueType::kFloat32: {
                const uint32_t bits = u32("a float32 value");
                float x;
                std::memcpy(&x, &bits, 4);
                v.value = double(x);
                break;
            }
            case GgufValueType::kFloat64: {
                const uint64_t bits = u64("a float64 value");
                double x;
                std::memcpy(&x, &bits, 8);
                v.value = x;
                break;
            }
            case GgufValueType::kBool: {
                const uint64_t at = pos_;
                const uint8_t b = u8("a bool value");
                if (b > 1)
                    fail_at(at, "invalid bool value " + std::to_string(b) + " in " + context() +
                                    " (must be 0 or 1)");
                v.value = b == 1;
                break;
            }
            case GgufValueType::kString: v.value = string("a string value"); break;
            case GgufValueType::kArray: v.value = array(depth + 1); break;
        }
        return v;
    }

    std::shared_ptr<GgufArray> array(int depth) {
        const uint64_t at = pos_;
        if (depth > kMaxArrayDepth)
            fail_at(at, "arrays nested more than " + std::to_string(kMaxArrayDepth) +
                            " deep in " + context());
        auto out = std::make_shared<GgufArray>();
        out->element_type = value_type("the array element type");
        const uint64_t count_at = pos_;
        const uint64_t count = u64("the array length");
        const uint64_t min_bytes = min_value_bytes(out->element_type);
        if (count > left() / min_bytes)
            fail_at(count_at, "truncated file or corrupt count: array length " + std::to_string(count) + " of " + context() +
                                  " is impossible: " + std::to_string(count) + " elements of " +
                                  gguf_value_type_name(out->element_type) + " need at least " +
                                  (count > std::numeric_limits<uint64_t>::max() / min_bytes
                                       ? std::string("2^64")
                                       : std::to_string(count * min_bytes)) +
                                  " bytes but only " + std::to_string(left()) + " remain");
        out->values.reserve(capped(count));
        index_path_.push_back(0);
        for (uint64_t i = 0; i < count; ++i) {
            index_path_.back() = i;
            out->values.push_back(value(out->element_type, depth));
        }
        index_path_.pop_back();
        return out;
    }

    void read_metadata() {
        f_.metadata_.reserve(capped(n_kv_));
        std::vector<uint64_t> key_offsets;
        key_offsets.reserve(capped(n_kv_));
        for (uint64_t i = 0; i < n_kv_; ++i) {
            kv_index_ = i;
            in_kv_ = true;
            key_.clear();
            const uint64_t at = pos_;
            std::string key = string("the key");
            key_ = key;
            if (auto it = f_.metadata_index_.find(key); it != f_.metadata_index_.end())
                fail_at(at, "duplicate metadata key '" + shown(key) + "' (first defined at byte offset " +
                                std::to_string(key_offsets[it->second]) + ")");
            const GgufValueType type = value_type("the value type");
            GgufValue v = value(type, 0);
            f_.metadata_index_.emplace(key, f_.metadata_.size());
            f_.metadata_.emplace_back(std::move(key), std::move(v));
            key_offsets.push_back(at);
        }
        in_kv_ = false;
        key_.clear();
        if (auto it = f_.metadata_index_.find("general.alignment"); it != f_.metadata_index_.end())
            alignment_key_at_ = key_offsets[it->second];
    }

    void resolve_alignment() {
        f_.alignment_ = kDefaultAlignment;
        const GgufValue* a = f_.find("general.alignment");
        if (a == nullptr) return;
        if (a->type != GgufValueType::kUint32)
            fail_at(alignment_key_at_, std::string("key 'general.alignment' has type ") +
                                           gguf_value_type_name(a->type) + ", expected uint32");
        const uint64_t v = a->as_u64();
        if (v == 0 || (v & (v - 1)) != 0)
            fail_at(alignment_key_at_, "key 'general.alignment' is " + std::to_string(v) +
                                           ", which is not a nonzero power of two");
        f_.alignment_ = v;
    }

    void read_tensor_infos() {
        if (n_tensors_ > left() / kMinTensorInfoBytes)
            fail_at(pos_, "truncated file or corrupt count: tensor count " + std::to_string(n_tensors_) + " is impossible: each "
                          "tensor info needs at least " + std::to_string(kMinTensorInfoBytes) +
                          " bytes and only " + std::to_string(left()) +
                          " bytes remain after the metadata");
        f_.tensors_.reserve(capped(n_tensors_));
        info_offsets_.reserve(capped(n_tensors_));
        in_tensor_ = true;
        for (uint64_t i = 0; i < n_tensors_; ++i) {
            tensor_index_ = i;
            tensor_name_.clear();
            const uint64_t at = pos_;
            GgufTensorInfo t;
            t.name = string("the tensor name");
            tensor_name_ = t.name;
            if (auto it = f_.tensor_index_.find(t.name); it != f_.tensor_index_.end())
                fail_at(at, "duplicate tensor name '" + shown(t.name) + "' (first defined at byte offset " +
                                std::to_string(info_offsets_[it->second]) + ")");
            const uint64_t dims_at = pos_;
            const uint32_t n_dims = u32("the dimension count");
            if (n_dims == 0 || n_dims > kMaxDims)
                fail_at(dims_at, "tensor '" + shown(t.name) + "' has " + std::to_string(n_dims) +
                                     " dimensions; must be 1 to " + std::to_string(kMaxDims));
            uint64_t n_elements = 1;
            for (uint32_t d = 0; d < n_dims; ++d) {
                const uint64_t dim_at = pos_;
                const uint64_t dim = u64("a dimension");
                if (dim == 0)
                    fail_at(dim_at, "tensor '" + shown(t.name) + "' dimension " + std::to_string(d) +
                                        " is 0");
                if (n_elements > uint64_t(std::numeric_limits<int64_t>::max()) / dim)
                    fail_at(dim_at, "tensor '" + shown(t.name) + "' dimensions overflow: the element count "
                                    "exceeds 2^63-1 at dimension " + std::to_string(d) + " (" +
                                    std::to_string(dim) + ")");
                n_elements *= dim;
                t.dims.push_back(dim);
            }
            t.n_elements = n_elements;
            const uint64_t type_at = pos_;
            const uint32_t raw_type = u32("the tensor type");
            const TensorTypeTraits* traits = tensor_type_traits(static_cast<TensorType>(raw_type));
            if (traits == nullptr) {
                const char* known = tensor_type_name(raw_type);
                if (known != nullptr && *known != '\0')
                    fail_at(type_at, "tensor '" + shown(t.name) + "' has type " + known + " (" +
                                         std::to_string(raw_type) +
                                         "), which mmojo-server does not support");
                fail_at(type_at, "tensor '" + shown(t.name) + "' has unknown type " +
                                     std::to_string(raw_type));
            }
            t.type = traits->type;
            const uint64_t block = static_cast<uint64_t>(traits->block_size);
            if (block == 0 || t.dims[0] % block != 0)
                fail_at(type_at, "tensor '" + shown(t.name) + "' row length " + std::to_string(t.dims[0]) +
                                     " is not a multiple of the " + traits->name + " block size " +
                                     std::to_string(block));
            const uint64_t row_bytes = t.dims[0] / block * traits->block_bytes;
            const uint64_t rows = n_elements / t.dims[0];
            if (row_bytes != 0 && rows > std::numeric_limits<uint64_t>::max() / row_bytes)
                fail_at(dims_at, "tensor '" + shown(t.name) + "' byte size overflows 64 bits");
            t.n_bytes = row_bytes * rows;
            t.offset = u64("the tensor data offset");
            f_.tensor_index_.emplace(t.name, f_.tensors_.size());
            f_.tensors_.push_back(std::move(t));
            info_offsets_.push_back(at);
        }
        in_tensor_ = false;
    }

    void place_tensors() {
        const uint64_t align = f_.alignment_;
        // pos_ <= size_ and align <= 2^31, so this cannot overflow.
        f_.data_offset_ = (pos_ + align - 1) / align * align;
        const uint64_t data_start = f_.data_offset_;
        for (size_t i = 0; i < f_.tensors_.size(); ++i) {
            GgufTensorInfo& t = f_.tensors_[i];
            if (t.offset % align != 0)
                fail_at(info_offsets_[i], "tensor '" + shown(t.name) + "' data offset " +
                                              std::to_string(t.offset) +
                                              " is not a multiple of the alignment " +
                                              std::to_string(align));
            const bool fits = data_start <= size_ && t.offset <= size_ - data_start &&
                              t.n_bytes <= size_ - data_start - t.offset;
            if (!fits) {
                std::string end = t.offset > std::numeric_limits<uint64_t>::max() - data_start ||
                                          t.n_bytes > std::numeric_limits<uint64_t>::max() -
                                                          data_start - t.offset
                                      ? std::string("beyond 2^64")
                                      : std::to_string(data_start + t.offset + t.n_bytes);
                fail_at(info_offsets_[i], "truncated file or bad offset: tensor '" + t.name +
                                              "' data (" + std::to_string(t.n_bytes) +
                                              " bytes at data offset " + std::to_string(t.offset) +
                                              ", ending at file byte " + end +
                                              ") runs past the end of the file (" +
                                              std::to_string(size_) + " bytes)");
            }
            t.data = f_.bytes_ + data_start + t.offset;
        }
        // Overlap: sort by offset, each tensor must end before the next one starts.
        std::vector<size_t> order(f_.tensors_.size());
        for (size_t i = 0; i < order.size(); ++i) order[i] = i;
        std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
            return f_.tensors_[a].offset < f_.tensors_[b].offset;
        });
        for (size_t k = 1; k < order.size(); ++k) {
            const GgufTensorInfo& a = f_.tensors_[order[k - 1]];
            const GgufTensorInfo& b = f_.tensors_[order[k]];
            if (a.offset + a.n_bytes > b.offset)
                fail_at(info_offsets_[order[k]],
                        "tensor '" + shown(b.name) + "' (data bytes " + std::to_string(b.offset) + ".." +
                            std::to_string(b.offset + b.n_bytes) + ") overlaps tensor '" + a.name +
                            "' (data bytes " + std::to_string(a.offset) + ".." +
                            std::to_string(a.offset + a.n_bytes) + ")");
        }
    }

    GgufFile& f_;
    const uint8_t* p_;
    uint64_t size_;
    uint64_t pos_ = 0;
    uint64_t n_tensors_ = 0;
    uint64_t n_kv_ = 0;
    // Context for error messages.
    bool in_kv_ = false;
    uint64_t kv_index_ = 0;
    std::string key_;
    std::vector<uint64_t> index_path_;
    bool in_tensor_ = false;
    uint64_t tensor_index_ = 0;
    std::string tensor_name_;
    uint64_t alignment_key_at_ = 0;
    std::vector<uint64_t> info_offsets_;
};

GgufFile GgufFile::parse(const uint8_t* data, size_t size, std::string name) {
    GgufFile f;
    f.name_ = std::move(name);
    f.bytes_ = data;
    f.size_ = data == nullptr ? 0 : size;
    GgufParser(f).run();
    return f;
}

GgufFile GgufFile::open(const std::string& path, uint64_t offset, uint64_t length) {
    auto mapping = std::make_shared<MappedFile>(MappedFile::open(path, offset, length));
    std::string name = path;
    if (offset != 0) name += " (GGUF at byte " + std::to_string(offset) + ")";
    GgufFile f = parse(mapping->data(), mapping->size(), std::move(name));
    f.mapping_ = std::move(mapping);
    return f;
}

}  // namespace mmojo
