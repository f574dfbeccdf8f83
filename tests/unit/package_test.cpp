// Self-location, embedded files, model resolution, startup arguments and `pack`, on fake
// executables in a temp folder. Outputs are checked with Python's zipfile/gzip (alignment
// computed from the local header), byte-identical repacks and the 4 GiB refusal.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "package/portable/embedded.h"
#include "package/pack.h"
#include "package/portable/self_location.h"
#include "package/archive/zip_reader.h"
#include "package/archive/zip_writer.h"

namespace fs = std::filesystem;
using namespace mmojo;
using Args = std::vector<std::string>;

namespace {

const std::string kPython = std::string(MMOJO_SOURCE_DIR) + "/.venv/bin/python";

std::vector<uint8_t> read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const fs::path& p, const std::string& s) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << s;
}

std::string fake_gguf(size_t size, char fill) {
    std::string s = "GGUF";
    s.resize(size, fill);
    return s;
}

class PackageTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("mmojo_package_" + std::to_string(std::random_device{}()) + "_" +
                                            ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        exe_ = dir_ / "bin" / "mmojo-server";
        write_file(exe_, "\x7f" "ELF fake executable bytes\n" + std::string(5000, 'E'));
        write_file(dir_ / "model.gguf", fake_gguf(300000, 'w'));
        write_file(dir_ / "other.gguf", fake_gguf(1000, 'o'));
        write_file(dir_ / "ui" / "index.html", "<html>" + std::string(4000, 'x') + "</html>");
        write_file(dir_ / "ui" / "js" / "app.js", "console.log('hi');\n");
        write_file(dir_ / "args", "-m model.gguf\n--ctx-size 1024\n");
        unsetenv(kSelfEnvVar);
    }
    void TearDown() override {
        unsetenv(kSelfEnvVar);
        fs::remove_all(dir_);
    }
    int python(const std::string& script, const std::string& args) {
        const fs::path file = dir_ / "check.py";
        std::ofstream(file) << script;
        return std::system((kPython + " " + file.string() + " " + args).c_str());
    }
    PackResult do_pack(Args args) {
        return pack(parse_pack_args(args));
    }
    fs::path dir_;
    fs::path exe_;
};

// zipfile must read everything, and every .gguf must be stored with data % 65536 == 0.
const char* kCheckPacked = R"PY(
import sys, zipfile, struct
path, prefix = sys.argv[1], int(sys.argv[2])
raw = open(path, "rb").read()
with zipfile.ZipFile(path) as z:
    assert z.testzip() is None
    for i in z.infolist():
        assert i.header_offset >= prefix
        if i.filename.endswith(".gguf"):
            assert i.compress_type == zipfile.ZIP_STORED
            n, x = struct.unpack_from("<HH", raw, i.header_offset + 26)
            start = i.header_offset + 30 + n + x
            assert start % 65536 == 0, (i.filename, start)
            assert raw[start:start + 4] == b"GGUF"
    print(" ".join(z.namelist()))
)PY";

}  // namespace

TEST_F(PackageTest, SelfPathPrefersEnvironment) {
    const std::string exe = executable_path();
    EXPECT_TRUE(fs::equivalent(exe, "/proc/self/exe"));
    EXPECT_EQ(self_path(), exe);
    setenv(kSelfEnvVar, "/somewhere/mmojo-server.exe", 1);
    EXPECT_EQ(self_path(), "/somewhere/mmojo-server.exe");
    EXPECT_EQ(adjacent_args_candidates("/d/My Server.exe"),
              (Args{"/d/My Server-args", "/d/My Server-args.yaml", "/d/mmojo-server-args",
                    "/d/mmojo-server-args.yaml"}));
    EXPECT_EQ(adjacent_args_candidates("/d/mmojo-server"),
              (Args{"/d/mmojo-server-args", "/d/mmojo-server-args.yaml"}));
}

TEST_F(PackageTest, PlainExecutableHasNoArchive) {
    const Embedded e = Embedded::open(exe_.string());
    EXPECT_FALSE(e.has_archive());
    EXPECT_TRUE(e.list().empty());
    EXPECT_FALSE(e.args().has_value());
    EXPECT_FALSE(e.read("ui/index.html").has_value());
}

TEST_F(PackageTest, PackThenReadEmbeddedFiles) {
    const fs::path out = dir_ / "packed";
    const PackResult r = do_pack({"--input", exe_.string(), "-o", out.string(), "--model",
                                  (dir_ / "model.gguf").string(), "--args", (dir_ / "args").string(),
                                  "--ui", (dir_ / "ui").string(), "--add",
                                  "notes/readme.txt=" + (dir_ / "args").string()});
    EXPECT_EQ(r.prefix_size, fs::file_size(exe_));
    EXPECT_EQ(r.entries, (Args{"mmojo-server-args", "notes/readme.txt", "ui/index.html",
                               "ui/js/app.js", "model.gguf"}));
    EXPECT_EQ(fs::file_size(out), r.size);
    // The executable bytes are kept verbatim.
    const auto packed = read_file(out), exe = read_file(exe_);
    EXPECT_TRUE(std::equal(exe.begin(), exe.end(), packed.begin()));
    EXPECT_EQ(python(kCheckPacked, out.string() + " " + std::to_string(exe.size())), 0);
    EXPECT_EQ(std::system(("unzip -tq " + out.string() + " >/dev/null").c_str()), 0);

    const Embedded e = Embedded::open(out.string());
    ASSERT_TRUE(e.has_archive());
    EXPECT_TRUE(e.has_ui());
    ASSERT_TRUE(e.args().has_value());
    EXPECT_EQ(e.args()->text, "-m model.gguf\n--ctx-size 1024\n");
    EXPECT_EQ(e.args()->source, out.string() + "/zip/mmojo-server-args");
    auto html = e.ui_file("/", false);
    ASSERT_TRUE(html.has_value());
    EXPECT_FALSE(html->gzip);
    EXPECT_EQ(std::string(html->bytes.begin(), html->bytes.end()), "<html>" + std::string(4000, 'x') + "</html>");
    // The gzip form is decoded by Python's gzip module into the same bytes.
    auto gz = e.ui_file("index.html", true);
    ASSERT_TRUE(gz.has_value());
    EXPECT_TRUE(gz->gzip);
    EXPECT_LT(gz->bytes.size(), 200u);
    std::ofstream(dir_ / "index.html.gz", std::ios::binary).write(reinterpret_cast<const char*>(gz->bytes.data()), std::streamsize(gz->bytes.size()));
    EXPECT_EQ(python("import gzip,sys\nassert gzip.decompress(open(sys.argv[1],'rb').read()) == b'<html>' + b'x'*4000 + b'</html>'\n",
                     (dir_ / "index.html.gz").string()), 0);
    EXPECT_FALSE(e.ui_file("missing.js", true).has_value());
}

TEST_F(PackageTest, PackIsReproducibleAndRepackable) {
    const Args base{"--input", exe_.string(), "--model", (dir_ / "model.gguf").string(), "--ui",
                    (dir_ / "ui").string(), "--args", (dir_ / "args").string()};
    Args a = base, b = base;
    a.insert(a.end(), {"-o", (dir_ / "a").string()});
    // Same inputs, flags in another order.
    b = {"--args", (dir_ / "args").string(), "-o", (dir_ / "b").string(), "--ui",
         (dir_ / "ui").string(), "--model", (dir_ / "model.gguf").string(), "--input", exe_.string()};
    do_pack(a);
    do_pack(b);
    EXPECT_EQ(read_file(dir_ / "a"), read_file(dir_ / "b"));
    // Repacking a packed file with no changes reproduces it; replacing the model works.
    do_pack({"--input", (dir_ / "a").string(), "-o", (dir_ / "c").string()});
    EXPECT_EQ(read_file(dir_ / "a"), read_file(dir_ / "c"));
    const PackResult r = do_pack({"--input", (dir_ / "a").string(), "-o", (dir_ / "d").string(),
                                  "--model", (dir_ / "other.gguf").string(), "--remove", "ui/js/"});
    EXPECT_EQ(r.entries, (Args{"mmojo-server-args", "ui/index.html", "other.gguf"}));
    EXPECT_EQ(r.prefix_size, fs::file_size(exe_));
    EXPECT_EQ(python(kCheckPacked, (dir_ / "d").string() + " " + std::to_string(r.prefix_size)), 0);
    const auto d = read_file(dir_ / "d"), exe = read_file(exe_);
    EXPECT_TRUE(std::equal(exe.begin(), exe.end(), d.begin()));
}

TEST_F(PackageTest, PackRefusesOver4GiBUnlessAllowed) {
    // A sparse 4 GiB "model": the size check happens before anything is written.
    const fs::path big = dir_ / "big.gguf";
    write_file(big, "GGUF");
    fs::resize_file(big, (uint64_t(1) << 32) + 100);
    const fs::path out = dir_ / "huge";
    try {
        do_pack({"--input", exe_.string(), "-o", out.string(), "--model", big.string()});
        FAIL() << "no refusal";
    } catch (const std::runtime_error& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("Windows cannot run executables of 4 GiB"), std::string::npos) << msg;
        EXPECT_NE(msg.find("next to the executable"), std::string::npos) << msg;
        EXPECT_NE(msg.find("--allow-over-4g"), std::string::npos) << msg;
    }
    EXPECT_FALSE(fs::exists(out));
    // With the flag, the plan (not written here: 4 GiB of I/O) needs ZIP64.
    PackOptions o = parse_pack_args({"--input", exe_.string(), "-o", out.string(), "--model",
                                     big.string(), "--allow-over-4g"});
    EXPECT_TRUE(o.allow_over_4g);
}

TEST_F(PackageTest, PackErrors) {
    EXPECT_THROW(parse_pack_args({"--model", "x.gguf"}), std::invalid_argument);      // no -o
    EXPECT_THROW(parse_pack_args({"-o", "x", "--bogus"}), std::invalid_argument);
    EXPECT_THROW(parse_pack_args({"-o", "x", "--add", "noequals"}), std::invalid_argument);
    EXPECT_THROW(parse_pack_args({"-o"}), std::invalid_argument);
    const std::string o = (dir_ / "out").string();
    // Not a GGUF.
    EXPECT_THROW(do_pack({"--input", exe_.string(), "-o", o, "--model", (dir_ / "args").string()}),
                 std::runtime_error);
    // Removing something absent.
    EXPECT_THROW(do_pack({"--input", exe_.string(), "-o", o, "--remove", "nothing"}), std::runtime_error);
    // An args file with a syntax error is refused with its line and column.
    write_file(dir_ / "bad.yaml", "ctx-size 4\n");
    try {
        do_pack({"--input", exe_.string(), "-o", o, "--args", (dir_ / "bad.yaml").string()});
        FAIL();
    } catch (const ArgsFileError& e) {
        EXPECT_EQ(e.line(), 1u);
        EXPECT_EQ(e.column(), 9u);
    }
    // Output = input.
    EXPECT_THROW(do_pack({"--input", exe_.string(), "-o", exe_.string()}), std::runtime_error);
    EXPECT_FALSE(fs::exists(o));
    EXPECT_EQ(run_pack({"-o"}), 2);
    EXPECT_EQ(run_pack({"--input", exe_.string(), "-o", o, "--remove", "nothing"}), 1);
}

TEST_F(PackageTest, ResolveModel) {
    const fs::path packed = dir_ / "bin" / "packed";
    do_pack({"--input", exe_.string(), "-o", packed.string(), "--model", (dir_ / "model.gguf").string()});
    const Embedded e = Embedded::open(packed.string());
    const auto bytes = read_file(packed);
    for (const std::string arg : {"", "model.gguf", "/zip/model.gguf"}) {
        SCOPED_TRACE(arg);
        const ModelLocation m = resolve_model(arg, e, "/nonexistent", "/nonexistent");
        EXPECT_TRUE(m.embedded);
        EXPECT_EQ(m.path, packed.string());
        EXPECT_EQ(m.display, "/zip/model.gguf");
        EXPECT_EQ(m.offset % 65536, 0u);
        EXPECT_EQ(m.length, 300000u);
        EXPECT_EQ(std::string(bytes.begin() + long(m.offset), bytes.begin() + long(m.offset + m.length)),
                  fake_gguf(300000, 'w'));
    }
    // A path on disk.
    const ModelLocation disk = resolve_model((dir_ / "other.gguf").string(), e, "", "");
    EXPECT_FALSE(disk.embedded);
    EXPECT_EQ(disk.path, (dir_ / "other.gguf").string());
    EXPECT_EQ(disk.length, 0u);
    // Missing entry: the error lists the entries.
    try {
        resolve_model("/zip/nope.gguf", e, "", "");
        FAIL();
    } catch (const std::runtime_error& err) {
        EXPECT_NE(std::string(err.what()).find("its .gguf entries: model.gguf"), std::string::npos) << err.what();
    }
    // No archive: beside the executable first, then the current directory, else an error.
    const Embedded plain = Embedded::open(exe_.string());
    write_file(dir_ / "bin" / "b.gguf", "GGUF");
    write_file(dir_ / "bin" / "a.gguf", "GGUF");
    EXPECT_EQ(resolve_model("", plain, (dir_ / "bin").string(), dir_.string()).path, (dir_ / "bin" / "a.gguf").string());
    EXPECT_EQ(resolve_model("", plain, (dir_ / "ui").string(), dir_.string()).path, (dir_ / "model.gguf").string());
    try {
        resolve_model("", plain, (dir_ / "ui").string(), (dir_ / "ui" / "js").string());
        FAIL();
    } catch (const std::runtime_error& err) {
        const std::string msg = err.what();
        EXPECT_NE(msg.find("(no ZIP archive)"), std::string::npos) << msg;
        EXPECT_NE(msg.find("directory " + (dir_ / "ui").string()), std::string::npos) << msg;
        EXPECT_NE(msg.find("directory " + (dir_ / "ui" / "js").string()), std::string::npos) << msg;
    }
}

TEST_F(PackageTest, StartupArgumentsLayering) {
    const fs::path packed = dir_ / "bin" / "server.exe";
    write_file(dir_ / "emb.yaml", "model: embedded.gguf\nctx-size: 1024\nport: 8080\n");
    do_pack({"--input", exe_.string(), "-o", packed.string(), "--args", (dir_ / "emb.yaml").string()});
    const Embedded e = Embedded::open(packed.string());
    // Only embedded.
    Args sources;
    EXPECT_EQ(startup_arguments({"--port", "1"}, e, &sources),
              (Args{"--model", "embedded.gguf", "--ctx-size", "1024", "--port", "8080", "--port", "1"}));
    EXPECT_EQ(sources, (Args{packed.string() + "/zip/mmojo-server-args.yaml"}));
    // A generic adjacent file is used; the renamed-specific one wins over it.
    write_file(dir_ / "bin" / "mmojo-server-args", "--ctx-size 2048");
    EXPECT_EQ(startup_arguments({}, e),
              (Args{"--model", "embedded.gguf", "--ctx-size", "1024", "--port", "8080", "--ctx-size", "2048"}));
    write_file(dir_ / "bin" / "server-args.yaml", "ctx-size: 4096\n...\nthreads: 2\n");
    sources.clear();
    EXPECT_EQ(startup_arguments({"-c", "9"}, e, &sources),
              (Args{"--model", "embedded.gguf", "--ctx-size", "1024", "--port", "8080", "--ctx-size", "4096",
                    "-c", "9", "--threads", "2"}));
    EXPECT_EQ(sources[1], (dir_ / "bin" / "server-args.yaml").string());
}
