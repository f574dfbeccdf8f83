// Args files: the text form (cross-checked against Python's shlex on inputs where the two
// conventions agree), the flat YAML form (cross-checked against PyYAML's safe_load), precise
// line:column errors, and the layering embedded < adjacent < command line with `...`.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <random>
#include <string>

#include "package/args_file.h"

namespace fs = std::filesystem;
using namespace mmojo;
using Args = std::vector<std::string>;

namespace {

const std::string kPython = std::string(MMOJO_SOURCE_DIR) + "/.venv/bin/python";

// Runs `script` on `input` written to a file; the script prints one argument per line
// with "\n" inside arguments escaped as "\\n".
Args python_oracle(const std::string& script, const std::string& input) {
    const fs::path dir = fs::temp_directory_path() / ("mmojo_args_" + std::to_string(std::random_device{}()));
    fs::create_directories(dir);
    std::ofstream(dir / "in.txt", std::ios::binary) << input;
    std::ofstream(dir / "s.py") << script;
    const std::string cmd = kPython + " " + (dir / "s.py").string() + " " + (dir / "in.txt").string() +
                            " > " + (dir / "out.txt").string();
    EXPECT_EQ(std::system(cmd.c_str()), 0) << input;
    std::ifstream in(dir / "out.txt");
    Args out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    fs::remove_all(dir);
    return out;
}

const char* kShlex = R"PY(
import shlex, sys
for w in shlex.split(open(sys.argv[1]).read(), comments=True, posix=True):
    print(w)
)PY";

// Converts a flat YAML mapping the way docs/args-files.md describes.
const char* kYaml = R"PY(
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1])) or {}
def flag(k): return k if k.startswith("-") else ("-" if len(k) == 1 else "--") + k
def text(v):
    if isinstance(v, float) and v == int(v) and "." not in str(v): return str(int(v))
    return str(v)
for k, v in doc.items():
    k = str(k)
    if v is None or v is True: print(flag(k))
    elif v is False: pass
    elif isinstance(v, list):
        for item in v: print(flag(k)); print(text(item))
    else: print(flag(k)); print(text(v))
)PY";

}  // namespace

TEST(ArgsText, BasicWordsQuotesComments) {
    const auto p = parse_args_text(
        "-m model.gguf   # the model\n"
        "--prompt 'it''s \"x\"' --name \"a \\\"b\\\" \\\\ c\"\n"
        "--x=\"joined words\"tail '' \"\"\n"
        "C:\\models\\a.gguf a#b\n",
        "args");
    EXPECT_EQ(p.args, (Args{"-m", "model.gguf", "--prompt", "its \"x\"", "--name", "a \"b\" \\ c",
                            "--x=joined wordstail", "", "", "C:\\models\\a.gguf", "a#b"}));
    EXPECT_FALSE(p.insert_at.has_value());
}

TEST(ArgsText, EllipsisMarker) {
    auto p = parse_args_text("-m a.gguf\n...\n--port 9000\n'...'", "args");
    EXPECT_EQ(p.args, (Args{"-m", "a.gguf", "--port", "9000", "..."}));
    ASSERT_TRUE(p.insert_at.has_value());
    EXPECT_EQ(*p.insert_at, 2u);
}

TEST(ArgsText, AgreesWithShlexOnCommonInputs) {
    const char* inputs[] = {
        "-m model.gguf --ctx-size 4096",
        "  --prompt 'hello world'  # comment\n--temp 0.7\n",
        "--a \"double \\\"quoted\\\" \\\\ text\" --b 'single \"inner\"'",
        "--x=\"a b\"'c d'e\n\n\t--y\t''",
        "# only a comment\n",
        "--host 0.0.0.0 --port 8080 --path /zip/ui\r\n--n-predict -1",
    };
    for (const char* in : inputs) {
        SCOPED_TRACE(in);
        EXPECT_EQ(parse_args_text(in, "args").args, python_oracle(kShlex, in));
    }
}

TEST(ArgsText, ErrorsNameLineAndColumn) {
    try {
        parse_args_text("-m a.gguf\n  --prompt 'open\nmore", "/opt/mmojo-server-args");
        FAIL();
    } catch (const ArgsFileError& e) {
        EXPECT_STREQ(e.what(), "/opt/mmojo-server-args:2:12: unterminated single quote");
    }
    try {
        parse_args_text("...\n -x ...", "f");
        FAIL();
    } catch (const ArgsFileError& e) {
        EXPECT_EQ(e.line(), 2u);
        EXPECT_EQ(e.column(), 5u);
        EXPECT_NE(std::string(e.what()).find("first is at line 1, column 1"), std::string::npos);
    }
    EXPECT_THROW(parse_args_text("\"abc", "f"), ArgsFileError);
    EXPECT_THROW(parse_args_text(std::string("a\0b", 3), "f"), ArgsFileError);
}

TEST(ArgsYaml, FlatMapping) {
    const auto p = parse_args_yaml(
        "---\n"
        "# defaults\n"
        "model: /models/x.gguf\n"
        "ctx-size: 4096   # comment\n"
        "m: short.gguf\n"
        "no-mmap:\n"
        "verbose: true\n"
        "log-disable: false\n"
        "prompt: \"line1\\nline2 \\\"q\\\" \\u00e9\"\n"
        "alias: 'it''s'\n"
        "lora: [a.gguf, \"b c.gguf\"]\n"
        "api-key:\n"
        "  - one\n"
        "  - 'two'\n"
        "--raw-flag: 1\n",
        "mmojo-server-args.yaml");
    EXPECT_EQ(p.args, (Args{"--model", "/models/x.gguf", "--ctx-size", "4096", "-m", "short.gguf",
                            "--no-mmap", "--verbose", "--prompt", "line1\nline2 \"q\" \xc3\xa9",
                            "--alias", "it's", "--lora", "a.gguf", "--lora", "b c.gguf",
                            "--api-key", "one", "--api-key", "two", "--raw-flag", "1"}));
    EXPECT_FALSE(p.insert_at.has_value());
}

TEST(ArgsYaml, AgreesWithPyYaml) {
    const char* inputs[] = {
        "model: a.gguf\nctx-size: 2048\nthreads: 4\n",
        "host: 0.0.0.0\nport: 8080\nno-webui:\nembedding: true\nflash-attn: false\n",
        "prompt: 'quoted: with colon'\nsystem: \"tab\\tsep\"\ntemp: 0.7\n",
        "lora: [x.gguf, y.gguf]\nalias: my model # trailing comment\n",
        "api-key:\n  - k1\n  - k2\nm: z.gguf\n",
    };
    for (const char* in : inputs) {
        SCOPED_TRACE(in);
        Args got = parse_args_yaml(in, "a.yaml").args;
        for (auto& a : got) {  // the oracle prints one argument per line
            for (size_t i; (i = a.find('\n')) != std::string::npos;) a.replace(i, 1, "\\n");
        }
        EXPECT_EQ(got, python_oracle(kYaml, in));
    }
}

TEST(ArgsYaml, EllipsisLine) {
    const auto p = parse_args_yaml("model: a.gguf\nno-mmap:\n...\nport: 9000\n", "x.yaml");
    EXPECT_EQ(p.args, (Args{"--model", "a.gguf", "--no-mmap", "--port", "9000"}));
    ASSERT_TRUE(p.insert_at.has_value());
    EXPECT_EQ(*p.insert_at, 3u);
}

TEST(ArgsYaml, ErrorsNameLineAndColumn) {
    struct Case {
        const char* text;
        const char* message;
    } cases[] = {
        {"model: a\nctx-size 4096\n", "f.yaml:2:9: expected ':' after key 'ctx-size'"},
        {"model: a\n  nested: 1\n", "f.yaml:2:3: unexpected indentation (only flat 'key: value' lines and '- item' lists are supported)"},
        {"a: 1\n\tb: 2\n", "f.yaml:2:1: tab used for indentation (YAML allows only spaces)"},
        {"prompt: \"open\n", "f.yaml:1:9: unterminated double quote"},
        {"prompt: 'x' y\n", "f.yaml:1:12: unexpected text after the value of 'prompt'"},
        {"x: {a: 1}\n", "f.yaml:1:4: a value starting with '{' is not supported in this flat YAML subset (quote it)"},
        {"x: a: b\n", "f.yaml:1:5: nested mappings are not supported (quote the value if ': ' is part of it)"},
        {"- a\n", "f.yaml:1:1: list item without a key above it (expected 'key: value')"},
        {"k:v\n", "f.yaml:1:3: expected a space after ':'"},
        {"p: \"\\q\"\n", "f.yaml:1:5: unknown escape '\\q'"},
        {"l: [a, b\n", "f.yaml:1:4: unterminated '[' list"},
        {"a: 1\n...\n...\n", "f.yaml:3:1: second '...' marker (the first is at line 2)"},
        {"k$: 1\n", "f.yaml:1:2: character '$' is not allowed in a key (keys are flag names such as ctx-size)"},
    };
    for (const Case& c : cases) {
        try {
            parse_args_yaml(c.text, "f.yaml");
            ADD_FAILURE() << "no error for " << c.text;
        } catch (const ArgsFileError& e) {
            EXPECT_STREQ(e.what(), c.message);
        }
    }
}

TEST(MergeArguments, CommandLineOverAdjacentOverEmbedded) {
    const ArgsText embedded{"exe/zip/mmojo-server-args", "-m embedded.gguf --ctx-size 1024 --port 8080"};
    const ArgsText adjacent{"/dir/mmojo-server-args.yaml", "ctx-size: 2048\n"};
    const Args cli{"--port", "9090"};
    EXPECT_EQ(merge_arguments(embedded, adjacent, cli),
              (Args{"-m", "embedded.gguf", "--ctx-size", "1024", "--port", "8080", "--ctx-size",
                    "2048", "--port", "9090"}));
    EXPECT_EQ(merge_arguments(embedded, std::nullopt, cli),
              (Args{"-m", "embedded.gguf", "--ctx-size", "1024", "--port", "8080", "--port", "9090"}));
    EXPECT_EQ(merge_arguments(std::nullopt, adjacent, cli), (Args{"--ctx-size", "2048", "--port", "9090"}));
    EXPECT_EQ(merge_arguments(std::nullopt, std::nullopt, cli), cli);
}

TEST(MergeArguments, EllipsisPlacesInnerLayers) {
    // The embedded file forces --host after everything, the adjacent file forces --threads.
    const ArgsText embedded{"e", "--port 1 ... --host 127.0.0.1"};
    const ArgsText adjacent{"a", "--ctx-size 5 ... --threads 2"};
    EXPECT_EQ(merge_arguments(embedded, adjacent, {"--port", "3", "--host", "0.0.0.0"}),
              (Args{"--port", "1", "--ctx-size", "5", "--port", "3", "--host", "0.0.0.0",
                    "--threads", "2", "--host", "127.0.0.1"}));
}

TEST(MergeArguments, SyntaxErrorNamesTheFile) {
    try {
        merge_arguments(ArgsText{"exe/zip/mmojo-server-args", "ok"},
                        ArgsText{"/d/foo-args.yaml", "a: 1\nb c\n"}, {});
        FAIL();
    } catch (const ArgsFileError& e) {
        EXPECT_EQ(std::string(e.what()).rfind("/d/foo-args.yaml:2:2:", 0), 0u) << e.what();
    }
}
