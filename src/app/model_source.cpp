#include "app/model_source.h"

#include <filesystem>

#include "package/portable/embedded.h"
#include "package/portable/self_location.h"

namespace mmojo {

LoadedModel load_model(const std::string& model_arg, ModelLoadOptions options) {
    const Embedded& embedded = Embedded::instance();
    const ModelLocation where = resolve_model(model_arg, embedded, parent_directory(self_path()),
                                              std::filesystem::current_path().string());
    options.offset = where.offset;
    options.length = where.length;
    LoadedModel loaded;
    loaded.display = where.display;
    loaded.model = Model::load(where.path, options);
    return loaded;
}

}  // namespace mmojo
