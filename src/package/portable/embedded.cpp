// Embedded-file access, model resolution and startup argument assembly: see embedded.h.
#include "package/portable/embedded.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <system_error>

#include "package/archive/deflate.h"
#include "package/portable/polyglot.h"
#include "package/portable/self_location.h"

namespace fs = std::filesystem;

namespace mmojo {

namespace {

bool ends_with_gguf(std::string_view name) {
    if (name.size() < 5) return false;
    std::string ext(name.substr(name.size() - 5));
    for (char& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
    return ext == ".gguf";
}

std::optional<std::string> read_text_file(const fs::path& p) {
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) return std::nullopt;
    std::ifstream in(p, std::ios::binary);
    if (!in) throw std::runtime_error(path_utf8(p) + ": cannot open for reading");
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// .gguf files directly in `dir`, sorted by name.
std::vector<fs::path> gguf_files_in(const std::string& dir) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (fs::directory_iterator it(utf8_path(dir), ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code ec2;
        if (it->is_regular_file(ec2) && ends_with_gguf(path_utf8(it->path().filename()))) {
            out.push_back(it->path());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

const Embedded& Embedded::instance() {
    static std::mutex mutex;
    static std::optional<Embedded> cached;
    std::lock_guard<std::mutex> lock(mutex);
    if (!cached) {
        std::string self;
        try {
            self = self_path();
        } catch (const std::exception&) {
            cached.emplace();
            return *cached;
        }
        try {
            cached = open(self);
        } catch (const ZipError&) {
            throw;
        } catch (const std::exception& e) {
            const char* env = std::getenv(kSelfEnvVar);
            throw std::runtime_error(std::string(e.what()) +
                                     (env && *env ? std::string(" (path taken from ") + kSelfEnvVar + ")" : ""));
        }
    }
    return *cached;
}

Embedded Embedded::open(const std::string& path) {
    Embedded e;
    e.path_ = path;
    e.zip_ = ZipReader::open(without_authenticode(open_file_source(path)));  // signed: ZIP before the certificate table
    return e;
}

std::vector<std::string> Embedded::list() const {
    std::vector<std::string> out;
    if (!zip_) return out;
    for (const ZipEntry& e : zip_->entries()) out.push_back(e.name);
    return out;
}

bool Embedded::contains(std::string_view name) const { return zip_ && zip_->find(name); }

std::optional<std::vector<uint8_t>> Embedded::read(std::string_view name) const {
    if (!zip_) return std::nullopt;
    const ZipEntry* e = zip_->find(name);
    if (!e || e->is_directory()) return std::nullopt;
    return zip_->read(*e);
}

std::optional<Embedded::HttpBody> Embedded::read_for_http(std::string_view name, bool accept_gzip) const {
    if (!zip_) return std::nullopt;
    const ZipEntry* e = zip_->find(name);
    if (!e || e->is_directory()) return std::nullopt;
    HttpBody body;
    if (accept_gzip && e->method == 8 && !e->is_encrypted()) {
        const std::vector<uint8_t> raw = zip_->read_raw(*e);
        body.bytes = gzip_wrap_deflate(raw.data(), raw.size(), e->crc32, e->uncompressed_size);
        body.gzip = true;
    } else {
        body.bytes = zip_->read(*e);
    }
    return body;
}

bool Embedded::has_ui() const {
    if (!zip_) return false;
    return std::any_of(zip_->entries().begin(), zip_->entries().end(), [](const ZipEntry& e) {
        return e.name.rfind(kUiPrefix, 0) == 0 && !e.is_directory();
    });
}

std::optional<Embedded::HttpBody> Embedded::ui_file(std::string_view path, bool accept_gzip) const {
    while (!path.empty() && path.front() == '/') path.remove_prefix(1);
    std::string name = std::string(kUiPrefix) + std::string(path);
    if (path.empty() || path.back() == '/') name += "index.html";
    return read_for_http(name, accept_gzip);
}

std::optional<ArgsText> Embedded::args() const {
    for (const char* name : {kArgsEntry, kArgsYamlEntry}) {
        if (auto bytes = read(name)) {
            return ArgsText{path_ + "/zip/" + name, std::string(bytes->begin(), bytes->end())};
        }
    }
    return std::nullopt;
}

std::vector<std::string> Embedded::gguf_entries() const {
    std::vector<std::string> out;
    if (!zip_) return out;
    for (const ZipEntry& e : zip_->entries()) {
        if (ends_with_gguf(e.name)) out.push_back(e.name);
    }
    return out;
}

ModelLocation resolve_model(const std::string& model_arg, const Embedded& embedded,
                            const std::string& exe_dir, const std::string& cwd) {
    auto from_entry = [&](const std::string& name) {
        const ZipEntry* e = embedded.archive()->find(name);
        const ZipReader::Range r = embedded.archive()->stored_range(*e);
        ModelLocation loc;
        loc.path = embedded.path();
        loc.offset = r.offset;
        loc.length = r.size;
        loc.embedded = true;
        loc.display = std::string(kZipPathPrefix) + name;
        return loc;
    };
    auto entry_list = [&]() {
        const std::vector<std::string> ggufs = embedded.gguf_entries();
        if (ggufs.empty()) return std::string(" (it has no .gguf entries)");
        std::string s = " (its .gguf entries:";
        for (const auto& g : ggufs) s += " " + g;
        return s + ")";
    };
    if (!model_arg.empty()) {
        if (model_arg.rfind(kZipPathPrefix, 0) == 0) {
            const std::string name = model_arg.substr(std::char_traits<char>::length(kZipPathPrefix));
            if (!embedded.contains(name)) {
                if (!embedded.has_archive()) {
                    throw std::runtime_error("model " + model_arg + ": " +
                                             (embedded.path().empty() ? std::string("the executable") : embedded.path()) +
                                             " has no embedded ZIP archive");
                }
                throw std::runtime_error("model " + model_arg + ": no entry '" + name + "' in " +
                                         embedded.path() + entry_list());
            }
            return from_entry(name);
        }
        if (embedded.contains(model_arg)) return from_entry(model_arg);
        std::error_code ec;
        // Anything that exists and is not a folder: a FIFO or a device can hold a model too.
        const fs::file_status st = fs::status(utf8_path(model_arg), ec);
        if (!ec && fs::exists(st) && !fs::is_directory(st)) {
            ModelLocation loc;
            loc.path = model_arg;
            loc.display = model_arg;
            return loc;
        }
        std::string msg = "model " + model_arg + " not found: no such file";
        if (embedded.has_archive()) msg += " and no such entry in " + embedded.path() + entry_list();
        throw std::runtime_error(msg);
    }
    const std::vector<std::string> ggufs = embedded.gguf_entries();
    if (!ggufs.empty()) return from_entry(ggufs.front());
    std::vector<std::string> looked;
    looked.push_back(embedded.has_archive() ? "the ZIP archive of " + embedded.path()
                                            : (embedded.path().empty() ? std::string("the executable (not located)")
                                                                        : embedded.path() + " (no ZIP archive)"));
    for (const std::string& dir : {exe_dir, cwd}) {
        if (dir.empty()) continue;
        const std::vector<fs::path> files = gguf_files_in(dir);
        if (!files.empty()) {
            ModelLocation loc;
            loc.path = path_utf8(files.front());
            loc.display = loc.path;
            return loc;
        }
        looked.push_back("directory " + dir);
    }
    std::string msg = "no model given (-m) and no .gguf model found; looked in:";
    for (const auto& l : looked) msg += "\n  - " + l;
    msg += "\nPass -m FILE.gguf, put a .gguf next to the executable, or embed one with "
           "'mmojo-server pack --model FILE.gguf -o OUT'";
    throw std::runtime_error(msg);
}

std::vector<std::string> startup_arguments(const std::vector<std::string>& command_line,
                                           const Embedded& embedded,
                                           std::vector<std::string>* sources) {
    std::optional<ArgsText> embedded_args = embedded.args();
    std::optional<ArgsText> adjacent;
    if (!embedded.path().empty()) {
        for (const std::string& candidate : adjacent_args_candidates(embedded.path())) {
            if (auto text = read_text_file(utf8_path(candidate))) {
                adjacent = ArgsText{candidate, std::move(*text)};
                break;
            }
        }
    }
    if (sources) {
        if (embedded_args) sources->push_back(embedded_args->source);
        if (adjacent) sources->push_back(adjacent->source);
    }
    return merge_arguments(embedded_args, adjacent, command_line);
}

std::vector<std::string> final_arguments(const std::vector<std::string>& command_line,
                                         std::vector<std::string>* sources) {
    if (!command_line.empty() && command_line[0] == "pack") return command_line;
    return startup_arguments(command_line, Embedded::instance(), sources);
}

}  // namespace mmojo
