// Model loading: open the GGUF, pick the architecture, build the tokenizer, bind the
// weights; plus the descriptive accessors (type label, chat template).
#include "model/model.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <stdexcept>

#include "gguf/gguf_split.h"
#include "model/architecture.h"
#include "model/tensor_binder.h"

namespace mmojo {

namespace {

// llama.cpp's names of general.file_type values (llama_ftype), shortened to the type.
const char* file_type_label(uint32_t file_type) {
    switch (file_type) {
        case 0: return "F32";
        case 1: return "F16";
        case 2: return "Q4_0";
        case 3: return "Q4_1";
        case 7: return "Q8_0";
        case 8: return "Q5_0";
        case 9: return "Q5_1";
        case 10: return "Q2_K";
        case 11: return "Q3_K_S";
        case 12: return "Q3_K_M";
        case 13: return "Q3_K_L";
        case 14: return "Q4_K_S";
        case 15: return "Q4_K_M";
        case 16: return "Q5_K_S";
        case 17: return "Q5_K_M";
        case 18: return "Q6_K";
        case 19: return "IQ2_XXS";
        case 20: return "IQ2_XS";
        case 21: return "Q2_K_S";
        case 22: return "IQ3_XS";
        case 23: return "IQ3_XXS";
        case 24: return "IQ1_S";
        case 25: return "IQ4_NL";
        case 26: return "IQ3_S";
        case 27: return "IQ3_M";
        case 28: return "IQ2_S";
        case 29: return "IQ2_M";
        case 30: return "IQ4_XS";
        case 31: return "IQ1_M";
        case 32: return "BF16";
        default: return nullptr;
    }
}

}  // namespace

std::unique_ptr<Model> Model::load(const std::string& path, const ModelLoadOptions& options) {
    auto file = std::make_unique<GgufFile>(open_gguf_model(path, options.offset, options.length));
    const std::string arch = file->get_string_or("general.architecture", "");
    if (arch.empty()) {
        throw std::runtime_error(path + ": missing key 'general.architecture'");
    }
    const Architecture* entry = find_architecture(arch);
    if (!entry) {
        std::string supported;
        for (const Architecture& a : architectures()) {
            supported += supported.empty() ? a.name : std::string(", ") + a.name;
        }
        throw std::runtime_error(path + ": unsupported architecture '" + arch +
                                 "' (supported: " + supported + ")");
    }

    std::unique_ptr<Model> model = entry->create();
    model->hparams_.arch = arch;
    model->tokenizer_ = Tokenizer::from_gguf(*file);
    model->gguf_ = std::move(file);

    TensorBinder binder(*model->gguf_, options.progress);
    model->load_weights(binder);
    binder.finish();

    for (const GgufTensorInfo& info : model->gguf_->tensors()) {
        model->n_params_ += info.n_elements;
        model->size_bytes_ += info.n_bytes;
    }
    return model;
}

std::string Model::chat_template() const {
    return gguf_->get_string_or("tokenizer.chat_template", "");
}

std::string Model::type_label() const {
    if (gguf_->has("general.file_type")) {
        if (const char* label = file_type_label(gguf_->get_u32("general.file_type"))) return label;
    }
    // No (known) file type: the type holding most bytes of 2-D tensors.
    std::map<uint32_t, uint64_t> bytes_by_type;
    for (const GgufTensorInfo& info : gguf_->tensors()) {
        if (info.dims.size() >= 2) bytes_by_type[uint32_t(info.type)] += info.n_bytes;
    }
    if (bytes_by_type.empty()) return "unknown";
    const auto top = std::max_element(bytes_by_type.begin(), bytes_by_type.end(),
                                      [](const auto& a, const auto& b) { return a.second < b.second; });
    const char* name = tensor_type_name(top->first);
    std::string label = name ? name : "type " + std::to_string(top->first);
    for (char& c : label) c = char(std::toupper(static_cast<unsigned char>(c)));
    return label;
}

std::vector<LayerStateSpec> Model::state_layers() const {
    return std::vector<LayerStateSpec>(
        hparams_.n_layer, LayerStateSpec::key_value(hparams_.n_head_kv, hparams_.head_dim_k, hparams_.head_dim_v));
}

}  // namespace mmojo
