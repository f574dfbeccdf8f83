// The pack subcommand: see pack.h. Entry order in the output is fixed so the result does
// not depend on the order of the flags: the args file first, then every other entry
// (UI files and --add files) by name, then .gguf models by name (largest data last).
#include "package/pack.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <system_error>

#include "package/args_file.h"
#include "package/portable/embedded.h"
#include "package/portable/polyglot.h"
#include "package/portable/self_location.h"
#include "package/archive/zip_reader.h"
#include "package/archive/zip_writer.h"

namespace fs = std::filesystem;

namespace mmojo {

namespace {

bool is_gguf_name(const std::string& name) {
    if (name.size() < 5) return false;
    std::string ext = name.substr(name.size() - 5);
    for (char& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
    return ext == ".gguf";
}

int entry_group(const std::string& name) {
    if (name == kArgsEntry || name == kArgsYamlEntry) return 0;
    if (is_gguf_name(name)) return 2;
    return 1;
}

// How a new entry is filled.
struct Planned {
    std::string file;        // new content from this file...
    const ZipEntry* kept = nullptr;  // ...or a copy of this input entry
};

void check_gguf(const std::string& path) {
    std::shared_ptr<ByteSource> src = open_file_source(path);
    uint8_t magic[4] = {};
    if (src->size() < 4) throw std::runtime_error(path + ": too small to be a GGUF file");
    src->read(0, magic, 4);
    if (magic[0] != 'G' || magic[1] != 'G' || magic[2] != 'U' || magic[3] != 'F') {
        throw std::runtime_error(path + ": not a GGUF file (it does not start with \"GGUF\")");
    }
}

std::string human_size(uint64_t bytes) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2f GiB", double(bytes) / double(uint64_t(1) << 30));
    return buf;
}

}  // namespace

const char* pack_usage() {
    return "usage: mmojo-server pack -o OUT [--model FILE.gguf] [--args FILE] [--ui DIR]\n"
           "                         [--add NAME=FILE ...] [--remove NAME ...] [--input FILE]\n"
           "                         [--allow-over-4g] [--native TARGET=FILE ...]\n"
           "Writes OUT: a copy of this executable (or of --input) whose embedded ZIP has the\n"
           "given entries replaced, added or removed.\n"
           "  --model FILE.gguf  embed a model (replaces embedded models; stored, 64 KiB aligned)\n"
           "  --args FILE        embed default arguments as mmojo-server-args (or\n"
           "                     mmojo-server-args.yaml when FILE ends in .yaml/.yml)\n"
           "  --ui DIR           embed DIR as the web UI (replaces the ui/ entries)\n"
           "  --add NAME=FILE    add or replace entry NAME with FILE\n"
           "  --remove NAME      remove entry NAME (NAME/ removes a folder)\n"
           "  --input FILE       start from FILE instead of this executable\n"
           "  --allow-over-4g    allow outputs of 4 GiB or more (Windows cannot run them)\n"
           "  --native TARGET=FILE\n"
           "                     build the executable part from native builds instead of keeping\n"
           "                     the input's: TARGET is x86_64-windows (required), x86_64-linux,\n"
           "                     aarch64-linux, aarch64-macos, x86_64-macos or aarch64-windows\n"
           "                     (-musl/-gnu suffixes accepted); without --input the archive\n"
           "                     starts empty\n";
}

PackOptions parse_pack_args(const std::vector<std::string>& args) {
    PackOptions o;
    auto value = [&](size_t& i) -> const std::string& {
        if (i + 1 >= args.size()) throw std::invalid_argument(args[i] + " needs a value");
        return args[++i];
    };
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "-o" || a == "--output") {
            o.output = value(i);
        } else if (a == "--input") {
            o.input = value(i);
        } else if (a == "--model" || a == "-m") {
            if (!o.model.empty()) throw std::invalid_argument("--model given twice");
            o.model = value(i);
        } else if (a == "--args") {
            o.args_file = value(i);
        } else if (a == "--ui") {
            o.ui_dir = value(i);
        } else if (a == "--add") {
            const std::string& v = value(i);
            const size_t eq = v.find('=');
            if (eq == std::string::npos || eq == 0 || eq + 1 == v.size()) {
                throw std::invalid_argument("--add expects NAME=FILE, got '" + v + "'");
            }
            o.add.emplace_back(v.substr(0, eq), v.substr(eq + 1));
        } else if (a == "--remove") {
            o.remove.push_back(value(i));
        } else if (a == "--native") {
            const std::string& v = value(i);
            const size_t eq = v.find('=');
            if (eq == std::string::npos || eq == 0 || eq + 1 == v.size()) {
                throw std::invalid_argument("--native expects TARGET=FILE, got '" + v + "'");
            }
            o.natives.emplace_back(v.substr(0, eq), v.substr(eq + 1));
        } else if (a == "--allow-over-4g") {
            o.allow_over_4g = true;
        } else {
            throw std::invalid_argument("unknown pack option '" + a + "'");
        }
    }
    if (o.output.empty()) throw std::invalid_argument("missing -o OUT");
    return o;
}

PackResult pack(const PackOptions& o) {
    const bool assemble = !o.natives.empty();
    const std::string input = o.input.empty() && !assemble ? self_path() : o.input;
    std::error_code ec;
    if (!input.empty() && fs::exists(utf8_path(o.output), ec) &&
        fs::equivalent(utf8_path(input), utf8_path(o.output), ec)) {
        throw std::runtime_error(o.output + ": the output cannot be the input file itself");
    }
    std::shared_ptr<ByteSource> src;
    std::optional<ZipReader> zip;
    uint64_t prefix = 0;
    std::optional<CertificateTable> signature;
    if (!input.empty()) {
        src = open_file_source(input);
        signature = pe_certificate_table(*src);
        src = without_authenticode(src);
        zip = ZipReader::open(src);
        prefix = zip ? zip->archive_start() : src->size();
    }
    // --native: the executables come from the given builds, the entries from --input.
    PolyglotPrefix built;
    std::shared_ptr<ByteSource> prefix_source = src;
    std::vector<uint8_t> unsigned_prefix;
    if (signature && !o.natives.size()) {
        // A signed input: the rewrite invalidates the signature, so the output carries
        // none (the PE's certificate directory entry is cleared; sign the output again).
        if (signature->directory_entry + 8 > prefix) throw std::runtime_error(input + ": PE headers inside its ZIP");
        unsigned_prefix.resize(size_t(prefix));
        src->read(0, unsigned_prefix.data(), unsigned_prefix.size());
        std::fill_n(unsigned_prefix.begin() + std::ptrdiff_t(signature->directory_entry), 8, uint8_t(0));
        prefix_source = memory_source(unsigned_prefix.data(), unsigned_prefix.size(), input);
    }
    if (assemble) {
        std::vector<NativeBuild> builds;
        for (const auto& [target, file] : o.natives) builds.push_back(NativeBuild{target, file});
        built = build_polyglot_prefix(builds);
        prefix_source = memory_source(built.bytes.data(), built.bytes.size(), "assembled executables");
        prefix = built.bytes.size();
    }

    // Start from the input's entries, then apply removals and replacements.
    std::map<std::string, Planned> plan;  // sorted by name
    if (zip) {
        for (const ZipEntry& e : zip->entries()) {
            if (e.is_directory()) continue;  // folders are implied by file names
            plan[e.name] = Planned{"", &e};
        }
    }
    for (const std::string& name : o.remove) {
        size_t removed = 0;
        for (auto it = plan.begin(); it != plan.end();) {
            const bool match = name.back() == '/' ? it->first.rfind(name, 0) == 0 : it->first == name;
            if (match) {
                it = plan.erase(it);
                ++removed;
            } else {
                ++it;
            }
        }
        if (removed == 0) throw std::runtime_error("--remove " + name + ": no such entry in " + input);
    }
    if (!o.args_file.empty()) {
        std::shared_ptr<ByteSource> a = open_file_source(o.args_file);
        std::string text(static_cast<size_t>(a->size()), '\0');
        a->read(0, text.data(), text.size());
        parse_args_any(text, o.args_file);  // refuse to embed a file with syntax errors
        plan.erase(kArgsEntry);
        plan.erase(kArgsYamlEntry);
        plan[is_yaml_args_name(o.args_file) ? kArgsYamlEntry : kArgsEntry] = Planned{o.args_file, nullptr};
    }
    if (!o.ui_dir.empty()) {
        const fs::path root = utf8_path(o.ui_dir);
        if (!fs::is_directory(root, ec)) throw std::runtime_error("--ui " + o.ui_dir + ": not a directory");
        for (auto it = plan.begin(); it != plan.end();) {
            it = it->first.rfind(kUiPrefix, 0) == 0 ? plan.erase(it) : std::next(it);
        }
        size_t files = 0;
        for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
            if (!it->is_regular_file()) continue;
            const std::string rel = path_utf8(fs::relative(it->path(), root).generic_u8string());
            plan[std::string(kUiPrefix) + rel] = Planned{path_utf8(it->path()), nullptr};
            ++files;
        }
        if (ec) throw std::runtime_error("--ui " + o.ui_dir + ": " + ec.message());
        if (files == 0) throw std::runtime_error("--ui " + o.ui_dir + ": no files in the folder");
    }
    if (!o.model.empty()) {
        check_gguf(o.model);
        for (auto it = plan.begin(); it != plan.end();) {
            it = is_gguf_name(it->first) ? plan.erase(it) : std::next(it);
        }
        plan[path_utf8(utf8_path(o.model).filename())] = Planned{o.model, nullptr};
    }
    for (const auto& [name, file] : o.add) {
        if (is_gguf_name(name)) check_gguf(file);
        plan[name] = Planned{file, nullptr};
    }

    std::vector<std::string> names;
    for (const auto& kv : plan) names.push_back(kv.first);
    std::stable_sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
        return entry_group(a) < entry_group(b);
    });

    ZipWriter writer(prefix_source, prefix);
    for (const std::string& name : names) {
        const Planned& p = plan[name];
        const bool gguf = is_gguf_name(name);
        const uint64_t align = gguf ? kModelAlignment : 0;
        if (p.kept) {
            writer.add(zip_entry_copy(*zip, *p.kept, p.kept->method == 0 ? align : 0));
            continue;
        }
        const ZipMethod method = gguf || entry_group(name) == 0 ? ZipMethod::kStore : ZipMethod::kAuto;
        writer.add(zip_entry_from_file(name, p.file, method, align));
    }
    PackResult result;
    result.signature_removed = signature && !assemble;
    result.size = writer.planned_size();
    result.prefix_size = prefix;
    result.entries = names;
    for (const NativeEntry& n : assemble ? built.natives : read_native_manifest(*prefix_source)) {
        result.natives.push_back(n.target + " at " + std::to_string(n.offset) + ", " + std::to_string(n.size) +
                                 " bytes, sha256 " + n.hash + "...");
    }
    if (result.size >= kWindowsExeLimit && !o.allow_over_4g) {
        throw std::runtime_error(
            o.output + " would be " + std::to_string(result.size) + " bytes (" +
            human_size(result.size) +
            "), and Windows cannot run executables of 4 GiB or more. Keep the model next to the "
            "executable instead (it is found there automatically, or pass -m FILE.gguf), or pass "
            "--allow-over-4g for an output meant only for Linux and macOS.");
    }
    const std::string tmp = o.output + ".pack-tmp";
    try {
        writer.write(tmp);
        fs::permissions(utf8_path(tmp),
                        fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                            fs::perms::others_read | fs::perms::others_exec,
                        ec);
        fs::rename(utf8_path(tmp), utf8_path(o.output));
    } catch (...) {
        fs::remove(utf8_path(tmp), ec);
        throw;
    }
    return result;
}

int run_pack(const std::vector<std::string>& args) {
    if (std::find(args.begin(), args.end(), "--help") != args.end() ||
        std::find(args.begin(), args.end(), "-h") != args.end()) {
        std::fputs(pack_usage(), stdout);
        return 0;
    }
    PackOptions options;
    try {
        options = parse_pack_args(args);
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "pack: %s\n%s", e.what(), pack_usage());
        return 2;
    }
    try {
        const PackResult r = pack(options);
        std::printf("wrote %s: %llu bytes (%llu bytes of executable, %zu entries)\n",
                    options.output.c_str(), static_cast<unsigned long long>(r.size),
                    static_cast<unsigned long long>(r.prefix_size), r.entries.size());
        if (r.signature_removed) {
            std::printf("note: %s was Authenticode-signed; %s is not (sign it again, see docs/sign.md)\n",
                        options.input.empty() ? "this executable" : options.input.c_str(), options.output.c_str());
        }
        for (const std::string& n : r.natives) std::printf("  native %s\n", n.c_str());
        for (const std::string& e : r.entries) std::printf("  %s\n", e.c_str());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "pack: %s\n", e.what());
        return 1;
    }
}

}  // namespace mmojo
