// The table of supported architectures (see architecture.h).
#include "model/architecture.h"

namespace mmojo {

namespace {

// Mistral-style (dense) files carry general.architecture "llama" and run as llama.
constexpr Architecture kArchitectures[] = {
    {"llama", create_llama_model},
    {"qwen2", create_qwen2_model},
    {"qwen3", create_qwen3_model},
    {"gemma2", create_gemma2_model},
    {"gemma3", create_gemma3_model},
    {"phi3", create_phi3_model},
    {"bert", create_bert_model},
    {"qwen3moe", create_qwen3moe_model},
    {"glm4moe", create_glm4moe_model},
    {"gpt-oss", create_gpt_oss_model},
    {"smollm3", create_smollm3_model},
    {"olmo2", create_olmo2_model},
    {"mistral3", create_mistral3_model},
    {"gemma4", create_gemma4_model},
};

}  // namespace

std::span<const Architecture> architectures() { return kArchitectures; }

const Architecture* find_architecture(std::string_view name) {
    for (const Architecture& arch : kArchitectures) {
        if (name == arch.name) return &arch;
    }
    return nullptr;
}

}  // namespace mmojo
