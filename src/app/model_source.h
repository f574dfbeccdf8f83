// Where the model comes from: the -m argument resolved against the executable's own ZIP
// (an embedded, stored GGUF is mapped in place), the folder beside the executable and the
// current directory. The one place the CLI and the server load a model through.
#pragma once

#include <memory>
#include <string>

#include "model/model.h"

namespace mmojo {

struct LoadedModel {
    std::unique_ptr<Model> model;
    std::string display;  // "/zip/name.gguf" or the file path, for logs and /props
};

// `model_arg` is the -m value (empty when absent). Throws std::runtime_error saying where it
// looked when nothing is found, or why the file could not be loaded.
LoadedModel load_model(const std::string& model_arg, ModelLoadOptions options = {});

}  // namespace mmojo
