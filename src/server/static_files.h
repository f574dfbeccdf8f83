// Static web UI serving. Files come from a UiSource: a folder given with --path, or the
// resources embedded in the executable's ZIP (src/package/portable/embedded.h). Request paths are
// checked before any lookup: "..", encoded dots/slashes, backslashes, NUL and absolute
// forms are rejected, so nothing outside the UI root can be reached.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace mmojo {

struct Blob {
    std::string data;
    std::string content_type;   // empty: guess from the file name
};

class UiSource {
public:
    virtual ~UiSource() = default;
    // `path` is a clean relative path such as "index.html" or "js/app.js".
    virtual std::optional<Blob> get(const std::string& path) const = 0;
};

// Files under a directory on disk.
std::unique_ptr<UiSource> make_directory_ui_source(const std::string& root);

// The "ui/" files of the executable's own ZIP, or null when it carries none.
std::unique_ptr<UiSource> make_embedded_ui_source();

// Turns a URL path ("/", "/index.html", "/a/b.js") into a clean relative path, with ""
// and trailing "/" mapped to index.html. nullopt for anything that could escape the root.
std::optional<std::string> sanitize_ui_path(std::string_view url_path);

// MIME type for a file name by extension ("text/html; charset=utf-8", ...).
std::string content_type_for(std::string_view path);

}  // namespace mmojo
