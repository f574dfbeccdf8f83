// Renders a Jinja2 chat template with mmojo's interpreter, for tests and debugging.
//
//   render_template TEMPLATE [VARIABLES.json] [--now EPOCH_SECONDS]
//
// TEMPLATE is a file ("-" = stdin); VARIABLES.json is an object whose members become
// the template's top-level variables (nothing else is implied: pass messages,
// bos_token, ... yourself). Prints the rendered text exactly to stdout and exits 0;
// on a template error prints "error: <line>:<col>: <message>" to stderr and exits 1
// (exit 2 when the error came from raise_exception()).
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>

#include "chat/chat_template.h"

namespace {

std::string read_all(const std::string& path) {
    if (path == "-") {
        return {std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

int main(int argc, char** argv) {
    std::string template_path, vars_path;
    std::optional<std::time_t> now;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--now" && i + 1 < argc) {
            now = static_cast<std::time_t>(std::strtoll(argv[++i], nullptr, 10));
        } else if (template_path.empty()) {
            template_path = a;
        } else if (vars_path.empty()) {
            vars_path = a;
        } else {
            std::fprintf(stderr, "usage: render_template TEMPLATE [VARIABLES.json] [--now EPOCH]\n");
            return 64;
        }
    }
    if (template_path.empty()) {
        std::fprintf(stderr, "usage: render_template TEMPLATE [VARIABLES.json] [--now EPOCH]\n");
        return 64;
    }
    try {
        nlohmann::ordered_json vars = nlohmann::ordered_json::object();
        if (!vars_path.empty()) vars = nlohmann::ordered_json::parse(read_all(vars_path));
        mmojo::ChatTemplate tmpl(read_all(template_path));
        std::string out = tmpl.render_variables(vars, now);
        std::fwrite(out.data(), 1, out.size(), stdout);
        return 0;
    } catch (const mmojo::ChatTemplateError& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return e.raised_by_template() ? 2 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
