// The table of supported architectures (see architecture.h).
#include "model/architecture.h"

namespace mmojo {

namespace {

// Mistral-style (dense) files carry general.architecture "llama" and run as llama.
constexpr Architecture kArchitectures[] = {
    {"llama", create_llama_model},
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
