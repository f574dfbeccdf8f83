// The architecture registry: general.architecture -> a function that creates the model
// class of that family. Each family is one small file under src/model/ (llama.cpp now;
// qwen2, qwen3, gemma2, gemma3, phi3 and bert fit the same pattern: a weights struct, a
// load_weights that binds them, and a forward pass written with the shared blocks).
// The table is explicit (architecture.cpp) rather than built by static registration,
// because objects in a static library are dropped by the linker unless referenced.
#pragma once

#include <memory>
#include <span>
#include <string_view>

#include "model/model.h"

namespace mmojo {

struct Architecture {
    const char* name;                    // as in general.architecture
    std::unique_ptr<Model> (*create)();
};

// Every architecture this build can run.
std::span<const Architecture> architectures();
// The entry for `name`, or nullptr.
const Architecture* find_architecture(std::string_view name);

// One factory per family file.
std::unique_ptr<Model> create_llama_model();
std::unique_ptr<Model> create_qwen2_model();
std::unique_ptr<Model> create_qwen3_model();
std::unique_ptr<Model> create_gemma2_model();
std::unique_ptr<Model> create_gemma3_model();
std::unique_ptr<Model> create_phi3_model();
std::unique_ptr<Model> create_bert_model();
std::unique_ptr<Model> create_qwen3moe_model();
std::unique_ptr<Model> create_glm4moe_model();
std::unique_ptr<Model> create_gpt_oss_model();
std::unique_ptr<Model> create_smollm3_model();
std::unique_ptr<Model> create_olmo2_model();
std::unique_ptr<Model> create_mistral3_model();
std::unique_ptr<Model> create_gemma4_model();
// The qwen2 graph with required per-head q/k RMSNorm (qwen2.cpp; used by qwen3).
std::unique_ptr<Model> create_qwen_model_with_qk_norm();

}  // namespace mmojo
