// GGUF writer (version 3): used by tests to build malformed and synthetic files, and by the
// packager. Values are written in insertion order; tensor data is padded to `alignment`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gguf/gguf.h"

namespace mmojo {

class GgufWriter {
public:
    explicit GgufWriter(uint64_t alignment = 32) : alignment_(alignment) {}

    void set(const std::string& key, GgufValue value);
    // Conveniences for the common types.
    void set_u32(const std::string& key, uint32_t v);
    void set_i32(const std::string& key, int32_t v);
    void set_u64(const std::string& key, uint64_t v);
    void set_f32(const std::string& key, float v);
    void set_bool(const std::string& key, bool v);
    void set_string(const std::string& key, const std::string& v);
    void set_string_array(const std::string& key, const std::vector<std::string>& v);
    void set_f32_array(const std::string& key, const std::vector<float>& v);
    void set_i32_array(const std::string& key, const std::vector<int32_t>& v);

    // `data` must hold exactly the bytes the type and dims imply.
    void add_tensor(const std::string& name, TensorType type, std::vector<uint64_t> dims,
                    std::vector<uint8_t> data);

    std::vector<uint8_t> to_bytes() const;
    void write(const std::string& path) const;  // throws std::runtime_error on I/O failure

private:
    struct Tensor {
        std::string name;
        TensorType type;
        std::vector<uint64_t> dims;
        std::vector<uint8_t> data;
    };
    uint64_t alignment_;
    std::vector<std::pair<std::string, GgufValue>> metadata_;
    std::vector<Tensor> tensors_;
};

}  // namespace mmojo
