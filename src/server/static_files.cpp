// Static UI files: path sanitizing, MIME types, directory and embedded sources.
#include "server/static_files.h"

#include "package/portable/embedded.h"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace mmojo {

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Percent-decodes; nullopt on a malformed escape.
static std::optional<std::string> percent_decode(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '%') {
            out += in[i];
            continue;
        }
        if (i + 2 >= in.size()) return std::nullopt;
        const int hi = hex_value(in[i + 1]);
        const int lo = hex_value(in[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

std::optional<std::string> sanitize_ui_path(std::string_view url_path) {
    // httplib has decoded the path once already; decode again so that double-encoded
    // forms (%252e%252e) are caught too, and refuse anything that still contains '%'.
    std::string path(url_path);
    for (int round = 0; round < 2; ++round) {
        if (path.find('%') == std::string::npos) break;
        auto decoded = percent_decode(path);
        if (!decoded) return std::nullopt;
        path = *decoded;
    }
    if (path.find('%') != std::string::npos) return std::nullopt;
    if (path.empty() || path[0] != '/') return std::nullopt;
    if (path.find('\\') != std::string::npos || path.find('\0') != std::string::npos ||
        path.find(':') != std::string::npos) {
        return std::nullopt;
    }
    std::vector<std::string> parts;
    std::string part;
    std::istringstream stream(path.substr(1));
    while (std::getline(stream, part, '/')) {
        if (part.empty()) {
            // "//" in the middle (an absolute path in disguise) is refused; only a
            // trailing "/" is allowed, meaning the folder's index.html.
            if (stream.peek() != std::char_traits<char>::eof()) return std::nullopt;
            continue;
        }
        if (part == "." || part == ".." || part[0] == '.') return std::nullopt;
        parts.push_back(part);
    }
    std::string out;
    for (const auto& p : parts) {
        if (!out.empty()) out += '/';
        out += p;
    }
    if (out.empty() || path.back() == '/') out += out.empty() ? "index.html" : "/index.html";
    return out;
}

std::string content_type_for(std::string_view path) {
    const size_t dot = path.rfind('.');
    std::string ext = dot == std::string_view::npos ? "" : std::string(path.substr(dot + 1));
    for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (ext == "html" || ext == "htm") return "text/html; charset=utf-8";
    if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
    if (ext == "css") return "text/css; charset=utf-8";
    if (ext == "json" || ext == "map") return "application/json; charset=utf-8";
    if (ext == "svg") return "image/svg+xml";
    if (ext == "png") return "image/png";
    if (ext == "jpg" || ext == "jpeg") return "image/jpeg";
    if (ext == "gif") return "image/gif";
    if (ext == "webp") return "image/webp";
    if (ext == "ico") return "image/x-icon";
    if (ext == "woff") return "font/woff";
    if (ext == "woff2") return "font/woff2";
    if (ext == "txt" || ext == "md") return "text/plain; charset=utf-8";
    if (ext == "wasm") return "application/wasm";
    return "application/octet-stream";
}

namespace {

// Serves files under one folder. The sanitized URL path has no ".." parts, but a symlink
// inside the folder may still point anywhere, so the file's real path (every link
// resolved) must lie inside the folder's real path, and it must be a regular file.
class DirectoryUiSource : public UiSource {
public:
    explicit DirectoryUiSource(const std::string& root) {
        std::error_code ec;
        root_ = std::filesystem::canonical(root, ec);
        if (ec) root_.clear();   // a missing folder serves nothing
    }
    std::optional<Blob> get(const std::string& path) const override {
        if (root_.empty()) return std::nullopt;
        std::error_code ec;
        const std::filesystem::path real = std::filesystem::canonical(root_ / path, ec);
        if (ec || !inside_root(real)) return std::nullopt;
        if (!std::filesystem::is_regular_file(real, ec) || ec) return std::nullopt;
        std::ifstream in(real, std::ios::binary);
        if (!in) return std::nullopt;
        std::ostringstream data;
        data << in.rdbuf();
        return Blob{data.str(), content_type_for(path)};
    }

private:
    bool inside_root(const std::filesystem::path& real) const {
        auto r = root_.begin();
        auto p = real.begin();
        for (; r != root_.end(); ++r, ++p) {
            if (p == real.end() || *p != *r) return false;
        }
        return p != real.end();   // strictly below the folder, not the folder itself
    }

    std::filesystem::path root_;
};

// The "ui/" entries of the executable's own ZIP (src/package/portable/embedded.h).
class EmbeddedUiSource : public UiSource {
public:
    std::optional<Blob> get(const std::string& path) const override {
        std::optional<Embedded::HttpBody> body = Embedded::instance().ui_file(path, false);
        if (!body) return std::nullopt;
        return Blob{std::string(body->bytes.begin(), body->bytes.end()), content_type_for(path)};
    }
};

}  // namespace

std::unique_ptr<UiSource> make_directory_ui_source(const std::string& root) {
    return std::make_unique<DirectoryUiSource>(root);
}

std::unique_ptr<UiSource> make_embedded_ui_source() {
    if (!Embedded::instance().has_ui()) return nullptr;
    return std::make_unique<EmbeddedUiSource>();
}

}  // namespace mmojo
