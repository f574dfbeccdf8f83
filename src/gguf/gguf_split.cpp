#include "gguf/gguf_split.h"

#include <cstdio>
#include <filesystem>
#include <utility>

namespace mmojo {

namespace {

// "-00002-of-00003.gguf" for index 1 of 3.
std::string part_suffix(uint32_t index, uint32_t count) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "-%05u-of-%05u.gguf", unsigned(index + 1), unsigned(count));
    return buf;
}

// split.no / split.count of a file, or the fallback when absent (a file that is not split).
uint32_t split_key(const GgufFile& f, const char* key, uint32_t fallback) {
    const GgufValue* v = f.find(key);
    if (!v) return fallback;
    uint64_t n = v->as_u64();
    if (n > 0xFFFF) throw GgufError(f.name() + ": " + key + " is " + std::to_string(n) + ", more than 65535");
    return uint32_t(n);
}

}  // namespace

void GgufFile::adopt_split_part(GgufFile&& part) {
    for (GgufTensorInfo& t : part.tensors_) {
        if (find_tensor(t.name)) {
            throw GgufError(part.name_ + ": tensor '" + t.name + "' is also in " + name_ +
                            " or an earlier part of the split model");
        }
        tensor_index_.emplace(t.name, tensors_.size());
        tensors_.push_back(std::move(t));
    }
    if (part.mapping_) part_mappings_.push_back(std::move(part.mapping_));
    for (auto& m : part.part_mappings_) part_mappings_.push_back(std::move(m));
    part.tensors_.clear();
    part.tensor_index_.clear();
}

std::string split_part_path(const std::string& first_part, uint32_t index, uint32_t count) {
    const std::string first_suffix = part_suffix(0, count);
    if (first_part.size() <= first_suffix.size() ||
        first_part.compare(first_part.size() - first_suffix.size(), first_suffix.size(), first_suffix) != 0) {
        throw GgufError(first_part + ": first part of a split model of " + std::to_string(count) +
                        " parts, but its name does not end in '" + first_suffix +
                        "', so the other parts cannot be found (rename the parts as gguf-split names them)");
    }
    return first_part.substr(0, first_part.size() - first_suffix.size()) + part_suffix(index, count);
}

GgufFile open_gguf_model(const std::string& path, uint64_t offset, uint64_t length) {
    GgufFile first = GgufFile::open(path, offset, length);
    const uint32_t count = split_key(first, "split.count", 1);
    const uint32_t no = split_key(first, "split.no", 0);
    if (count == 0) throw GgufError(path + ": split.count is 0");
    if (no != 0) {
        std::string hint;
        const std::string suffix = part_suffix(no, count);
        if (path.size() > suffix.size() && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0) {
            hint = "; give the first part, " + path.substr(0, path.size() - suffix.size()) + part_suffix(0, count);
        }
        throw GgufError(path + ": this is part " + std::to_string(no + 1) + " of " + std::to_string(count) +
                        " of a split model" + hint);
    }
    if (count == 1) return first;
    if (offset != 0 || length != 0) {
        throw GgufError(path + ": a split model (" + std::to_string(count) +
                        " parts) cannot be loaded from a byte range of a larger file");
    }
    for (uint32_t i = 1; i < count; ++i) {
        const std::string part_path = split_part_path(path, i, count);
        if (!std::filesystem::exists(part_path)) {
            throw GgufError(path + ": part " + std::to_string(i + 1) + " of " + std::to_string(count) +
                            " of the split model is missing: expected " + part_path);
        }
        GgufFile part = GgufFile::open(part_path);
        const uint32_t part_count = split_key(part, "split.count", 1);
        const uint32_t part_no = split_key(part, "split.no", 0);
        if (part_count != count || part_no != i) {
            throw GgufError(part_path + ": expected part " + std::to_string(i + 1) + " of " + std::to_string(count) +
                            " of the split model " + path + ", but its keys say part " + std::to_string(part_no + 1) +
                            " of " + std::to_string(part_count));
        }
        first.adopt_split_part(std::move(part));
    }
    if (const GgufValue* total = first.find("split.tensors.count")) {
        const uint64_t expected = total->as_u64();
        if (expected != first.tensors().size()) {
            throw GgufError(path + ": the " + std::to_string(count) + " parts of the split model hold " +
                            std::to_string(first.tensors().size()) + " tensors, but split.tensors.count says " +
                            std::to_string(expected));
        }
    }
    return first;
}

}  // namespace mmojo
