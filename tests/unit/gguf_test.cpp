// Tests of the GGUF reader, writer and MappedFile.
//
// Oracles: Python's `gguf` package (run as a subprocess) for the shared models; the GGUF
// spec's byte layout for hand-patched malformed files (each error case is built with
// GgufWriter, then one field is overwritten); std::ifstream for mapped bytes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "gguf/gguf.h"
#include "gguf/gguf_writer.h"
#include "base/mapped_file.h"

namespace mmojo {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

const fs::path kShared = MMOJO_SHARED_DIR;
const fs::path kModels = kShared / "models";
const char* kName = "test.gguf";

GgufFile parse(const Bytes& b) { return GgufFile::parse(b.data(), b.size(), kName); }

// Parses and returns the error message ("" when parsing succeeded).
std::string parse_error(const Bytes& b) {
    try {
        parse(b);
    } catch (const GgufError& e) {
        return e.what();
    }
    return "";
}

#define EXPECT_CONTAINS(haystack, needle) \
    EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << "message: " << (haystack)

size_t find(const Bytes& b, const std::string& needle, size_t from = 0) {
    for (size_t i = from; i + needle.size() <= b.size(); ++i)
        if (std::memcmp(b.data() + i, needle.data(), needle.size()) == 0) return i;
    ADD_FAILURE() << "'" << needle << "' not found";
    return 0;
}

void put_le(Bytes& b, size_t at, uint64_t v, unsigned n) {
    for (unsigned i = 0; i < n; ++i) b.at(at + i) = static_cast<uint8_t>(v >> (8 * i));
}

uint64_t get_le(const Bytes& b, size_t at, unsigned n) {
    uint64_t v = 0;
    for (unsigned i = 0; i < n; ++i) v |= uint64_t(b.at(at + i)) << (8 * i);
    return v;
}

Bytes bytes_of(size_t n, uint8_t seed) {
    Bytes out(n);
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(seed + i * 7);
    return out;
}

// A small valid file: a few keys and two tensors (f32 4x2, q8_0 32x2).
GgufWriter small_writer(uint64_t alignment = 32) {
    GgufWriter w(alignment);
    w.set_string("general.architecture", "llama");
    w.set_u32("llama.block_count", 2);
    w.set_string("key.a", "one");
    w.set_string("key.b", "two");
    w.set_i32_array("list", {1, -2, 3});
    w.add_tensor("tensor.a", TensorType::kF32, {4, 2}, bytes_of(32, 1));
    w.add_tensor("tensor.b", TensorType::kQ8_0, {32, 2}, bytes_of(68, 2));
    return w;
}

// Positions inside a tensor info (spec: name, u32 n_dims, u64 dims[n], u32 type, u64 offset).
struct InfoAt {
    size_t n_dims, dims, type, offset;
};
InfoAt tensor_info_at(const Bytes& b, const std::string& name) {
    const size_t name_at = find(b, name, 24);
    InfoAt at;
    at.n_dims = name_at + name.size();
    at.dims = at.n_dims + 4;
    at.type = at.dims + 8 * get_le(b, at.n_dims, 4);
    at.offset = at.type + 4;
    return at;
}

// The u32 type tag that follows a key.
size_t key_type_at(const Bytes& b, const std::string& key) { return find(b, key, 24) + key.size(); }

// ---- valid files --------------------------------------------------------------------------

TEST(Gguf, SmallFileReadsBack) {
    const Bytes b = small_writer().to_bytes();
    const GgufFile f = parse(b);
    EXPECT_EQ(f.version(), 3u);
    EXPECT_EQ(f.alignment(), 32u);
    EXPECT_EQ(f.data_offset() % 32, 0u);
    EXPECT_EQ(f.get_string("general.architecture"), "llama");
    EXPECT_EQ(f.get_u32("llama.block_count"), 2u);
    EXPECT_EQ(f.get_int_array("list"), (std::vector<int64_t>{1, -2, 3}));
    ASSERT_EQ(f.tensors().size(), 2u);
    const GgufTensorInfo& a = f.tensor("tensor.a");
    EXPECT_EQ(a.dims, (std::vector<uint64_t>{4, 2}));
    EXPECT_EQ(a.type, TensorType::kF32);
    EXPECT_EQ(a.n_elements, 8u);
    EXPECT_EQ(a.n_bytes, 32u);
    EXPECT_EQ(a.rows(), 2u);
    EXPECT_EQ(Bytes(a.data, a.data + a.n_bytes), bytes_of(32, 1));
    const GgufTensorInfo& q = f.tensor("tensor.b");
    EXPECT_EQ(q.type, TensorType::kQ8_0);
    EXPECT_EQ(q.n_bytes, 68u);  // 2 rows x 1 block x 34 bytes
    EXPECT_EQ(q.offset % 32, 0u);
    EXPECT_EQ(Bytes(q.data, q.data + q.n_bytes), bytes_of(68, 2));
    EXPECT_EQ(f.find_tensor("nope"), nullptr);
}

TEST(Gguf, Version2IsAccepted) {
    Bytes b = small_writer().to_bytes();
    put_le(b, 4, 2, 4);
    EXPECT_EQ(parse(b).version(), 2u);
}

TEST(Gguf, AllValueTypesRoundTrip) {
    GgufWriter w;
    using T = GgufValueType;
    w.set("u8", GgufValue::make_uint(T::kUint8, 200));
    w.set("i8", GgufValue::make_int(T::kInt8, -100));
    w.set("u16", GgufValue::make_uint(T::kUint16, 60000));
    w.set("i16", GgufValue::make_int(T::kInt16, -30000));
    w.set("u32", GgufValue::make_uint(T::kUint32, 4000000000u));
    w.set("i32", GgufValue::make_int(T::kInt32, -2000000000));
    w.set("f32", GgufValue::make_float(T::kFloat32, 1.5));
    w.set("bool", GgufValue::make_bool(true));
    w.set("str", GgufValue::make_string(std::string("a\0b", 3)));
    w.set("u64", GgufValue::make_uint(T::kUint64, ~uint64_t(0)));
    w.set("i64", GgufValue::make_int(T::kInt64, INT64_MIN));
    w.set("f64", GgufValue::make_float(T::kFloat64, 0.1));
    std::vector<GgufValue> inner;
    inner.push_back(GgufValue::make_array(T::kInt8, {GgufValue::make_int(T::kInt8, -1)}));
    inner.push_back(GgufValue::make_array(T::kInt8, {}));
    w.set("nested", GgufValue::make_array(T::kArray, std::move(inner)));
    w.set_f32_array("floats", {0.25f, -8.0f});
    w.set_string_array("strings", {"x", "", "yz"});
    const Bytes b = w.to_bytes();
    const GgufFile f = parse(b);
    EXPECT_EQ(f.metadata().size(), 15u);
    EXPECT_EQ(f.find("u8")->type, T::kUint8);
    EXPECT_EQ(f.get_u32("u8"), 200u);
    EXPECT_EQ(f.find("i8")->as_i64(), -100);
    EXPECT_EQ(f.get_u32("u16"), 60000u);
    EXPECT_EQ(f.find("i16")->as_i64(), -30000);
    EXPECT_EQ(f.get_u32("u32"), 4000000000u);
    EXPECT_EQ(f.find("i32")->as_i64(), -2000000000);
    EXPECT_EQ(f.get_f32("f32"), 1.5f);
    EXPECT_TRUE(f.get_bool("bool"));
    EXPECT_EQ(f.get_string("str"), std::string("a\0b", 3));
    EXPECT_EQ(f.get_u64("u64"), ~uint64_t(0));
    EXPECT_EQ(f.find("i64")->as_i64(), INT64_MIN);
    EXPECT_EQ(f.find("f64")->as_f64(), 0.1);
    const GgufArray& n = f.get_array("nested");
    EXPECT_EQ(n.element_type, T::kArray);
    ASSERT_EQ(n.values.size(), 2u);
    EXPECT_EQ(n.values[0].as_array().values.at(0).as_i64(), -1);
    EXPECT_TRUE(n.values[1].as_array().values.empty());
    EXPECT_EQ(f.get_f32_array("floats"), (std::vector<float>{0.25f, -8.0f}));
    EXPECT_EQ(f.get_string_array("strings"), (std::vector<std::string>{"x", "", "yz"}));
    // Order is insertion order; set() on an existing key replaces it in place.
    EXPECT_EQ(f.metadata().front().first, "u8");
    GgufWriter w2;
    w2.set_u32("a", 1);
    w2.set_u32("b", 2);
    w2.set_u32("a", 3);
    const Bytes b2 = w2.to_bytes();
    const GgufFile f2 = parse(b2);
    ASSERT_EQ(f2.metadata().size(), 2u);
    EXPECT_EQ(f2.metadata()[0].first, "a");
    EXPECT_EQ(f2.get_u32("a"), 3u);
}

TEST(Gguf, NoTensorsFileEndsAfterMetadata) {
    GgufWriter w;
    w.set_string("k", "v");
    const Bytes b = w.to_bytes();
    EXPECT_EQ(b.size(), 24u + (8 + 1) + 4 + (8 + 1));  // spec layout: header, key, type, string
    const GgufFile f = parse(b);
    EXPECT_TRUE(f.tensors().empty());
    EXPECT_EQ(f.get_string("k"), "v");
}

TEST(Gguf, AlignmentIsHonoured) {
    for (uint64_t alignment : {1u, 8u, 64u, 256u}) {
        const Bytes b = small_writer(alignment).to_bytes();
        const GgufFile f = parse(b);
        EXPECT_EQ(f.alignment(), alignment);
        EXPECT_EQ(f.data_offset() % alignment, 0u);
        EXPECT_EQ(f.get_u32_or("general.alignment", 32), alignment);
        for (const auto& t : f.tensors()) EXPECT_EQ(t.offset % alignment, 0u) << t.name;
        EXPECT_EQ(Bytes(f.tensor("tensor.b").data, f.tensor("tensor.b").data + 68), bytes_of(68, 2));
    }
    EXPECT_THROW(GgufWriter(48).to_bytes(), GgufError);
    EXPECT_THROW(GgufWriter(0).to_bytes(), GgufError);
}

// ---- header errors ---------------------------------------------------------------------

TEST(GgufErrors, EmptyInput) {
    EXPECT_CONTAINS(parse_error({}), "truncated");
    const std::string e = [] {
        try {
            GgufFile::parse(nullptr, 0, kName);
        } catch (const GgufError& e) {
            return std::string(e.what());
        }
        return std::string();
    }();
    EXPECT_CONTAINS(e, "the magic");
}

TEST(GgufErrors, BadMagicShowsTheBytes) {
    Bytes b = small_writer().to_bytes();
    std::memcpy(b.data(), "GGML", 4);
    const std::string e = parse_error(b);
    EXPECT_CONTAINS(e, "test.gguf");
    EXPECT_CONTAINS(e, "byte offset 0");
    EXPECT_CONTAINS(e, "bad magic 47 47 4d 4c (\"GGML\")");
}

TEST(GgufErrors, UnsupportedVersions) {
    Bytes b = small_writer().to_bytes();
    put_le(b, 4, 4, 4);
    EXPECT_CONTAINS(parse_error(b), "unsupported GGUF version 4");
    put_le(b, 4, 0x03000000u, 4);
    EXPECT_CONTAINS(parse_error(b), "big-endian");
    put_le(b, 4, 1, 4);
    EXPECT_CONTAINS(parse_error(b), "unsupported GGUF version 1 ");
}

TEST(GgufErrors, LegacyVersion1ModelFile) {
    const std::string path = (kModels / "legacy" / "tinyllamas-stories-260k-f32.gguf").string();
    try {
        GgufFile::open(path);
        FAIL() << "expected an error";
    } catch (const GgufError& e) {
        EXPECT_CONTAINS(e.what(), "unsupported GGUF version 1 ");
        EXPECT_CONTAINS(e.what(), path);
    }
}

TEST(GgufErrors, HugeCountsFailFast) {
    Bytes b = small_writer().to_bytes();
    Bytes kv = b;
    put_le(kv, 16, uint64_t(1) << 60, 8);
    EXPECT_CONTAINS(parse_error(kv), "metadata count 1152921504606846976");
    Bytes tc = b;
    put_le(tc, 8, uint64_t(1) << 60, 8);
    EXPECT_CONTAINS(parse_error(tc), "tensor count 1152921504606846976");
    Bytes tc2 = b;
    put_le(tc2, 8, 3, 8);  // plausible for the header, too many for the bytes after metadata
    EXPECT_FALSE(parse_error(tc2).empty());
}

// ---- metadata errors ----------------------------------------------------------------------

TEST(GgufErrors, StringLengthBeyondFile) {
    Bytes b = small_writer().to_bytes();
    put_le(b, 24, ~uint64_t(0), 8);  // the first key's length
    const std::string e = parse_error(b);
    EXPECT_CONTAINS(e, "byte offset 24");
    EXPECT_CONTAINS(e, "claims 18446744073709551615 bytes");
    EXPECT_CONTAINS(e, "metadata entry 0");
}

TEST(GgufErrors, ArrayLengthBeyondFile) {
    Bytes b = small_writer().to_bytes();
    const size_t count_at = key_type_at(b, "list") + 4 + 4;  // type, element type, count
    EXPECT_EQ(get_le(b, count_at, 8), 3u);
    put_le(b, count_at, uint64_t(1) << 60, 8);
    const std::string e = parse_error(b);
    EXPECT_CONTAINS(e, "byte offset " + std::to_string(count_at));
    EXPECT_CONTAINS(e, "array length 1152921504606846976");
    EXPECT_CONTAINS(e, "'list'");
}

TEST(GgufErrors, DuplicateKey) {
    Bytes b = small_writer().to_bytes();
    b[find(b, "key.b") + 4] = 'a';
    const std::string e = parse_error(b);
    EXPECT_CONTAINS(e, "duplicate metadata key 'key.a'");
    EXPECT_CONTAINS(e, "first defined at byte offset");
}

TEST(GgufErrors, InvalidValueTypes) {
    Bytes b = small_writer().to_bytes();
    Bytes bad = b;
    put_le(bad, key_type_at(b, "key.a"), 13, 4);
    EXPECT_CONTAINS(parse_error(bad), "invalid value type 13");
    EXPECT_CONTAINS(parse_error(bad), "'key.a'");
    Bytes bad_elem = b;
    put_le(bad_elem, key_type_at(b, "list") + 4, 99, 4);
    EXPECT_CONTAINS(parse_error(bad_elem), "invalid value type 99 (the array element type)");
}

TEST(GgufErrors, InvalidBool) {
    GgufWriter w;
    w.set_bool("flag", true);
    Bytes b = w.to_bytes();
    b[key_type_at(b, "flag") + 4] = 2;
    EXPECT_CONTAINS(parse_error(b), "invalid bool value 2");
}

TEST(GgufErrors, NestingTooDeep) {
    GgufValue v = GgufValue::make_array(GgufValueType::kUint8, {});
    for (int i = 0; i < 40; ++i) v = GgufValue::make_array(GgufValueType::kArray, {v});
    GgufWriter w;
    w.set("deep", v);
    EXPECT_CONTAINS(parse_error(w.to_bytes()), "nested more than 32 deep");
}

TEST(GgufErrors, Alignment) {
    const Bytes b = small_writer(64).to_bytes();
    const size_t type_at = key_type_at(b, "general.alignment");
    ASSERT_EQ(get_le(b, type_at + 4, 4), 64u);
    Bytes zero = b;
    put_le(zero, type_at + 4, 0, 4);
    EXPECT_CONTAINS(parse_error(zero), "'general.alignment' is 0, which is not a nonzero power of two");
    Bytes odd = b;
    put_le(odd, type_at + 4, 48, 4);
    EXPECT_CONTAINS(parse_error(odd), "is 48, which is not a nonzero power of two");
    Bytes wrong_type = b;
    put_le(wrong_type, type_at, static_cast<uint32_t>(GgufValueType::kInt32), 4);
    EXPECT_CONTAINS(parse_error(wrong_type), "'general.alignment' has type int32, expected uint32");
}

// ---- tensor errors ------------------------------------------------------------------------

TEST(GgufErrors, DuplicateTensorName) {
    Bytes b = small_writer().to_bytes();
    b[find(b, "tensor.b") + 7] = 'a';
    EXPECT_CONTAINS(parse_error(b), "duplicate tensor name 'tensor.a'");
}

TEST(GgufErrors, TooManyDims) {
    Bytes b = small_writer().to_bytes();
    put_le(b, tensor_info_at(b, "tensor.a").n_dims, 5, 4);
    EXPECT_CONTAINS(parse_error(b), "tensor 'tensor.a' has 5 dimensions; must be 1 to 4");
    put_le(b, tensor_info_at(b, "tensor.a").n_dims, 0, 4);
    EXPECT_CONTAINS(parse_error(b), "has 0 dimensions");
}

TEST(GgufErrors, ZeroDim) {
    Bytes b = small_writer().to_bytes();
    put_le(b, tensor_info_at(b, "tensor.a").dims + 8, 0, 8);
    EXPECT_CONTAINS(parse_error(b), "tensor 'tensor.a' dimension 1 is 0");
}

TEST(GgufErrors, DimsProductOverflow) {
    Bytes b = small_writer().to_bytes();
    const InfoAt at = tensor_info_at(b, "tensor.a");
    put_le(b, at.dims, uint64_t(1) << 32, 8);
    put_le(b, at.dims + 8, uint64_t(1) << 32, 8);
    EXPECT_CONTAINS(parse_error(b), "tensor 'tensor.a' dimensions overflow");
}

TEST(GgufErrors, UnsupportedTensorTypeIsNamed) {
    Bytes b = small_writer().to_bytes();
    Bytes removed = b;   // q4_2: a ggml type number since removed, never computable
    put_le(removed, tensor_info_at(b, "tensor.b").type, 4, 4);
    EXPECT_CONTAINS(parse_error(removed),
                    "tensor 'tensor.b' has type q4_2 (4), which mmojo-server does not support");
    Bytes unknown = b;
    put_le(unknown, tensor_info_at(b, "tensor.b").type, 200, 4);
    EXPECT_CONTAINS(parse_error(unknown), "tensor 'tensor.b' has unknown type 200");
}

TEST(GgufErrors, RowNotMultipleOfBlock) {
    Bytes b = small_writer().to_bytes();
    put_le(b, tensor_info_at(b, "tensor.b").dims, 16, 8);
    EXPECT_CONTAINS(parse_error(b),
                    "tensor 'tensor.b' row length 16 is not a multiple of the q8_0 block size 32");
}

TEST(GgufErrors, MisalignedOffset) {
    Bytes b = small_writer().to_bytes();
    put_le(b, tensor_info_at(b, "tensor.b").offset, 40, 8);
    EXPECT_CONTAINS(parse_error(b), "tensor 'tensor.b' data offset 40 is not a multiple of the alignment 32");
}

TEST(GgufErrors, DataOutOfBounds) {
    Bytes b = small_writer().to_bytes();
    Bytes far = b;
    put_le(far, tensor_info_at(b, "tensor.b").offset, uint64_t(1) << 40, 8);
    EXPECT_CONTAINS(parse_error(far), "tensor 'tensor.b' data (68 bytes at data offset 1099511627776");
    EXPECT_CONTAINS(parse_error(far), "runs past the end of the file");
    Bytes wrap = b;  // an offset near 2^64 must not wrap around
    put_le(wrap, tensor_info_at(b, "tensor.b").offset, ~uint64_t(0) - 31, 8);
    EXPECT_CONTAINS(parse_error(wrap), "beyond 2^64");
}

TEST(GgufErrors, OverlappingTensors) {
    Bytes b = small_writer().to_bytes();
    put_le(b, tensor_info_at(b, "tensor.b").offset, 0, 8);
    EXPECT_CONTAINS(parse_error(b), "overlaps tensor");
}

TEST(GgufErrors, TruncationAtEveryLength) {
    const Bytes b = small_writer().to_bytes();
    ASSERT_TRUE(parse_error(b).empty());
    const size_t last_tensor_end = parse(b).data_offset() + parse(b).tensor("tensor.b").offset + 68;
    for (size_t n = 0; n < last_tensor_end; ++n) {
        const Bytes cut(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
        const std::string e = parse_error(cut);
        EXPECT_CONTAINS(e, "truncated") << " at length " << n;
        EXPECT_CONTAINS(e, "test.gguf: byte offset ");
    }
}

TEST(GgufErrors, TruncatedSharedModelAtManyLengths) {
    const std::string path = (kModels / "stories260K.gguf").string();
    std::ifstream in(path, std::ios::binary);
    const Bytes all{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    ASSERT_GT(all.size(), 100000u);
    for (size_t n = 0; n < all.size(); n = n < 300 ? n + 1 : n * 5 / 4) {
        const Bytes cut(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n));
        EXPECT_CONTAINS(parse_error(cut), "truncated") << " at length " << n;
    }
}

// ---- getters ------------------------------------------------------------------------------

TEST(GgufGetters, MissingAndWrongTypes) {
    GgufWriter w;
    w.set_string("s", "text");
    w.set_u64("big", uint64_t(1) << 33);
    w.set_i32("neg", -1);
    w.set_i32("small", 7);
    w.set_i32_array("ints", {1, 2});
    w.set_f32("f", 2.5f);
    const Bytes b = w.to_bytes();
    const GgufFile f = parse(b);
    auto error = [](auto&& fn) -> std::string {
        try {
            fn();
        } catch (const GgufError& e) {
            return e.what();
        }
        return "";
    };
    EXPECT_CONTAINS(error([&] { f.get_u32("absent"); }), "test.gguf: missing required key 'absent'");
    EXPECT_CONTAINS(error([&] { f.get_u32("s"); }), "key 's' has type string, expected uint32");
    EXPECT_CONTAINS(error([&] { f.get_string("small"); }), "key 'small' has type int32, expected string");
    EXPECT_CONTAINS(error([&] { f.get_bool("f"); }), "key 'f' has type float32, expected bool");
    EXPECT_CONTAINS(error([&] { f.get_array("s"); }), "key 's' has type string, expected array");
    EXPECT_CONTAINS(error([&] { f.get_u32("big"); }), "key 'big' value 8589934592 (uint64) does not fit in uint32");
    EXPECT_CONTAINS(error([&] { f.get_u64("neg"); }), "key 'neg' has negative value -1");
    EXPECT_CONTAINS(error([&] { f.get_string_array("ints"); }),
                    "key 'ints' is an array of int32, expected an array of string");
    EXPECT_CONTAINS(error([&] { f.get_u32_or("s", 5); }), "key 's' has type string");
    EXPECT_CONTAINS(error([&] { f.tensor("w"); }), "missing tensor 'w'");
    EXPECT_EQ(f.get_u32("small"), 7u);
    EXPECT_EQ(f.get_u64("big"), uint64_t(1) << 33);
    EXPECT_EQ(f.get_f32("small"), 7.0f);
    EXPECT_EQ(f.get_f32("f"), 2.5f);
    EXPECT_EQ(f.get_u32_or("absent", 5), 5u);
    EXPECT_EQ(f.get_f32_or("absent", 1.5f), 1.5f);
    EXPECT_TRUE(f.get_bool_or("absent", true));
    EXPECT_EQ(f.get_string_or("absent", "dflt"), "dflt");
    EXPECT_EQ(f.get_string_or("s", "dflt"), "text");
    EXPECT_EQ(f.get_u64_or("big", 0), uint64_t(1) << 33);
    EXPECT_EQ(f.get_f32_array("ints"), (std::vector<float>{1.0f, 2.0f}));
}

TEST(GgufGetters, ValueConversions) {
    using T = GgufValueType;
    EXPECT_THROW(GgufValue::make_int(T::kInt8, 128), GgufError);
    EXPECT_THROW(GgufValue::make_uint(T::kUint16, 70000), GgufError);
    EXPECT_THROW(GgufValue::make_uint(T::kInt32, 1), GgufError);
    EXPECT_THROW(GgufValue::make_array(T::kInt8, {GgufValue::make_bool(true)}), GgufError);
    EXPECT_THROW(GgufValue::make_uint(T::kUint64, ~uint64_t(0)).as_i64(), GgufError);
    EXPECT_THROW(GgufValue::make_int(T::kInt8, -1).as_u64(), GgufError);
    EXPECT_THROW(GgufValue::make_string("x").as_f64(), GgufError);
    EXPECT_EQ(GgufValue::make_float(T::kFloat32, 0.1).as_f64(), double(0.1f));
    EXPECT_TRUE(GgufValue::make_int(T::kInt16, 3).is_integer());
    EXPECT_TRUE(GgufValue::make_float(T::kFloat64, 3).is_float());
}

TEST(GgufWriterTest, RejectsBadTensors) {
    GgufWriter w;
    EXPECT_THROW(w.add_tensor("t", TensorType::kF32, {4}, Bytes(15)), GgufError);
    EXPECT_THROW(w.add_tensor("t", TensorType::kQ4_0, {16}, Bytes(9)), GgufError);
    EXPECT_THROW(w.add_tensor("t", TensorType::kF32, {1, 1, 1, 1, 1}, Bytes(4)), GgufError);
    EXPECT_THROW(w.add_tensor("t", TensorType::kF32, {}, Bytes(0)), GgufError);
    EXPECT_THROW(w.add_tensor("t", static_cast<TensorType>(4), {32}, Bytes(20)), GgufError);  // q4_2
    w.add_tensor("t", TensorType::kF32, {1}, Bytes(4));
    EXPECT_THROW(w.add_tensor("t", TensorType::kF32, {1}, Bytes(4)), GgufError);
    EXPECT_THROW(w.write("/nonexistent-dir/x.gguf"), std::runtime_error);
}

// ---- mapped files -------------------------------------------------------------------------

class TempFile {
public:
    explicit TempFile(const Bytes& content) {
        path_ = (fs::temp_directory_path() /
                 ("mmojo_gguf_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                  "_" + std::to_string(counter_++) + ".bin"))
                    .string();
        std::ofstream out(path_, std::ios::binary);
        out.write(reinterpret_cast<const char*>(content.data()), static_cast<std::streamsize>(content.size()));
    }
    ~TempFile() { std::remove(path_.c_str()); }
    const std::string& path() const { return path_; }

private:
    static inline int counter_ = 0;
    std::string path_;
};

TEST(MappedFileTest, RangesAtAnyOffset) {
    const Bytes content = bytes_of(3 * 65536 + 17, 5);
    TempFile tmp(content);
    EXPECT_EQ(MappedFile::file_size(tmp.path()), content.size());
    for (uint64_t offset : {0ull, 1ull, 4095ull, 4096ull, 4097ull, 65535ull, 65536ull, 131073ull}) {
        for (uint64_t length : {1ull, 100ull, 5000ull, 0ull}) {
            const MappedFile m = MappedFile::open(tmp.path(), offset, length);
            const uint64_t expected = length == 0 ? content.size() - offset : length;
            ASSERT_EQ(m.size(), expected);
            EXPECT_TRUE(std::equal(m.data(), m.data() + m.size(), content.begin() + static_cast<std::ptrdiff_t>(offset)))
                << "offset " << offset << " length " << length;
        }
    }
    const MappedFile empty = MappedFile::open(tmp.path(), content.size(), 0);
    EXPECT_EQ(empty.size(), 0u);
    MappedFile moved = MappedFile::open(tmp.path(), 10, 10);
    MappedFile other = std::move(moved);
    EXPECT_EQ(other.size(), 10u);
    EXPECT_EQ(moved.size(), 0u);
    EXPECT_EQ(other.data()[0], content[10]);
    moved = std::move(other);
    EXPECT_EQ(moved.data()[1], content[11]);
}

TEST(MappedFileTest, Errors) {
    TempFile tmp(bytes_of(100, 0));
    auto error = [](auto&& fn) -> std::string {
        try {
            fn();
        } catch (const std::runtime_error& e) {
            return e.what();
        }
        return "";
    };
    const std::string missing = "/nonexistent-dir/none.gguf";
    EXPECT_CONTAINS(error([&] { MappedFile::open(missing); }), missing);
    EXPECT_CONTAINS(error([&] { MappedFile::open(missing); }), "open failed");
    EXPECT_CONTAINS(error([&] { MappedFile::open(tmp.path(), 101); }), "past the end");
    EXPECT_CONTAINS(error([&] { MappedFile::open(tmp.path(), 50, 51); }), "goes past the end");
    EXPECT_CONTAINS(error([&] { MappedFile::open(tmp.path(), 50, 51); }), tmp.path());
    EXPECT_CONTAINS(error([&] { MappedFile::open(fs::temp_directory_path().string()); }), "not a regular file");
    EXPECT_CONTAINS(error([&] { GgufFile::open(tmp.path()); }), "bad magic");
}

TEST(MappedFileTest, GgufInsideALargerFile) {
    const Bytes gguf = small_writer().to_bytes();
    Bytes container = bytes_of(5000, 9);
    container.insert(container.end(), gguf.begin(), gguf.end());
    container.resize(container.size() + 333, 0xee);
    TempFile tmp(container);
    GgufFile f = GgufFile::open(tmp.path(), 5000, gguf.size());
    EXPECT_EQ(f.file_size(), gguf.size());
    EXPECT_EQ(f.get_string("key.b"), "two");
    const GgufTensorInfo& t = f.tensor("tensor.b");
    EXPECT_EQ(Bytes(t.data, t.data + t.n_bytes), bytes_of(68, 2));
    EXPECT_CONTAINS(f.name(), "GGUF at byte 5000");
    // The mapping outlives moves of the GgufFile.
    GgufFile moved = std::move(f);
    EXPECT_EQ(moved.tensor("tensor.a").data[0], bytes_of(32, 1)[0]);
}

// ---- shared models against Python's gguf ----------------------------------------------------

std::vector<fs::path> shared_models() {
    std::vector<fs::path> out;
    for (const auto& e : fs::recursive_directory_iterator(kModels))
        if (e.is_regular_file() && e.path().extension() == ".gguf") out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

std::string run_command(const std::string& cmd) {
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    if (p == nullptr) return out;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
    EXPECT_EQ(pclose(p), 0) << cmd;
    return out;
}

// For each file: "F path", then "T name type dims offset n_bytes" per tensor and "K key type
// value" per scalar key (strings hex-encoded, floats as repr), "A key elemtype count" per array.
const char* kPythonOracle = R"PY(
import sys, gguf
VT = gguf.GGUFValueType
for path in sys.argv[1:]:
    print("F", path)
    try:
        r = gguf.GGUFReader(path)
    except ValueError as e:
        print("E", str(e).replace("\n", " "))
        continue
    for f in r.fields.values():
        if f.name.startswith("GGUF."):
            continue
        t = VT(int(f.parts[2][0]))
        if t == VT.ARRAY:
            print("A", f.name, VT(int(f.parts[3][0])).name.lower(), int(f.parts[4][0]))
        elif t == VT.STRING:
            print("K", f.name, "string", bytes(f.parts[-1]).hex() or "-")
        elif t in (VT.FLOAT32, VT.FLOAT64):
            print("K", f.name, t.name.lower(), repr(float(f.parts[-1][0])))
        else:
            print("K", f.name, t.name.lower(), int(f.parts[-1][0]))
    for t in r.tensors:
        print("T", t.name, int(t.tensor_type), ",".join(str(int(d)) for d in t.shape),
              int(t.data_offset), int(t.n_bytes))
)PY";

std::string hex(const std::string& s) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out.empty() ? "-" : out;
}

std::string join(const std::vector<uint64_t>& v) {
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) {
        if (i) out += ',';
        out += std::to_string(v[i]);
    }
    return out;
}

TEST(GgufModels, EverySharedModelMatchesPythonGguf) {
    const fs::path python = fs::path(MMOJO_SOURCE_DIR) / ".venv" / "bin" / "python";
    if (!fs::exists(python)) GTEST_SKIP() << "no " << python;
    // vocab/ files (no tensors, huge arrays) are compared in full by
    // tests/integration/test_gguf_reader.py; here: every model with tensors, plus one vocab.
    std::vector<fs::path> models;
    for (const fs::path& p : shared_models())
        if (p.parent_path().filename() != "vocab" || p.filename() == "ggml-vocab-llama-spm.gguf")
            models.push_back(p);
    ASSERT_GE(models.size(), 20u);
    const fs::path script =
        fs::temp_directory_path() / ("mmojo_gguf_oracle_" + std::to_string(::getpid()) + ".py");
    std::ofstream(script) << kPythonOracle;
    std::string cmd = python.string() + " " + script.string();
    for (const fs::path& p : models) cmd += " '" + p.string() + "'";
    std::istringstream oracle(run_command(cmd));
    fs::remove(script);
    size_t tensors_compared = 0;

    std::string line;
    std::getline(oracle, line);
    for (const fs::path& path : models) {
        SCOPED_TRACE(path.string());
        ASSERT_EQ(line, "F " + path.string());
        std::vector<std::string> theirs;
        while (std::getline(oracle, line) && line.rfind("F ", 0) != 0) theirs.push_back(line);
        if (!theirs.empty() && theirs[0].rfind("E ", 0) == 0) {
            // Python refuses it (version 1): we must refuse it too, with the version named.
            EXPECT_CONTAINS(theirs[0], "version 1");
            try {
                GgufFile::open(path.string());
                ADD_FAILURE() << "accepted a file Python's gguf rejects";
            } catch (const GgufError& e) {
                EXPECT_CONTAINS(e.what(), "unsupported GGUF version 1");
            }
            continue;
        }
        const GgufFile f = GgufFile::open(path.string());
        std::vector<std::string> ours;
        for (const auto& [key, v] : f.metadata()) {
            std::ostringstream s;
            const char* type = gguf_value_type_name(v.type);
            if (v.type == GgufValueType::kArray) {
                s << "A " << key << " " << gguf_value_type_name(v.as_array().element_type) << " "
                  << v.as_array().values.size();
            } else if (v.type == GgufValueType::kString) {
                s << "K " << key << " string " << hex(v.as_string());
            } else if (v.is_float()) {
                // compare floats exactly: parse Python's repr and compare the doubles
                s << "K " << key << " " << type << " " << v.as_f64();
            } else if (v.type == GgufValueType::kBool) {
                s << "K " << key << " bool " << (v.as_bool() ? 1 : 0);
            } else {
                s << "K " << key << " " << type << " "
                  << (v.type == GgufValueType::kUint64 || v.type == GgufValueType::kUint32 ||
                              v.type == GgufValueType::kUint16 || v.type == GgufValueType::kUint8
                          ? std::to_string(v.as_u64())
                          : std::to_string(v.as_i64()));
            }
            ours.push_back(s.str());
        }
        for (const auto& t : f.tensors())
            ours.push_back("T " + t.name + " " + std::to_string(static_cast<uint32_t>(t.type)) + " " +
                           join(t.dims) + " " + std::to_string(f.data_offset() + t.offset) + " " +
                           std::to_string(t.n_bytes));
        ASSERT_EQ(ours.size(), theirs.size());
        tensors_compared += f.tensors().size();
        for (size_t i = 0; i < ours.size(); ++i) {
            const std::string& a = ours[i];
            const std::string& b = theirs[i];
            if (a.rfind("K ", 0) == 0 && (a.find(" float32 ") != std::string::npos ||
                                          a.find(" float64 ") != std::string::npos)) {
                const std::string prefix_a = a.substr(0, a.rfind(' '));
                const std::string prefix_b = b.substr(0, b.rfind(' '));
                EXPECT_EQ(prefix_a, prefix_b);
                const std::string key = prefix_a.substr(2, prefix_a.find(' ', 2) - 2);
                EXPECT_EQ(f.find(key)->as_f64(), std::strtod(b.substr(b.rfind(' ') + 1).c_str(), nullptr)) << key;
            } else {
                EXPECT_EQ(a, b);
            }
        }
        // Tensor data lies inside the file and the pointers agree with the offsets.
        for (const auto& t : f.tensors()) {
            EXPECT_LE(f.data_offset() + t.offset + t.n_bytes, f.file_size());
        }
    }
    EXPECT_GT(tensors_compared, 500u);
}

// Issue 19: a metadata count one too large made the parser read a tensor info as a key and
// the next bytes as a tensor name holding NUL bytes; printed as a C string, the message
// ended mid-name. Names in messages are escaped, so the whole message survives printing.
TEST(Gguf, NamesWithControlBytesAreEscapedInMessages) {
    GgufWriter w;
    w.set_string("general.architecture", "llama");
    const std::string name("bad\0name\x01", 9);
    w.add_tensor(name, TensorType::kF32, {4, 2}, bytes_of(32, 1));
    Bytes b = w.to_bytes();
    const InfoAt at = tensor_info_at(b, name);
    b[at.n_dims] = 7;   // more dimensions than GGUF allows
    const std::string message = parse_error(b);
    EXPECT_CONTAINS(message, "tensor 'bad\\x00name\\x01' has 7 dimensions");
    EXPECT_EQ(std::strlen(message.c_str()), message.size());
}

TEST(Gguf, MetadataCountOffByOneGivesAWholeMessage) {
    for (int delta : {+1, -1}) {
        Bytes b = small_writer().to_bytes();
        const uint64_t n_kv = get_le(b, 16, 8);
        for (unsigned i = 0; i < 8; ++i) b[16 + i] = uint8_t((n_kv + uint64_t(int64_t(delta))) >> (8 * i));
        const std::string message = parse_error(b);
        EXPECT_FALSE(message.empty()) << delta;
        EXPECT_EQ(std::strlen(message.c_str()), message.size()) << delta;
        for (char c : message) EXPECT_TRUE(static_cast<unsigned char>(c) >= 0x20) << delta << ": " << message;
    }
}

}  // namespace
}  // namespace mmojo
