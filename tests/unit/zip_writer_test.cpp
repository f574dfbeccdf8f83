// ZIP writer output checked by independent readers: Python's zipfile (testzip, contents,
// alignment of stored .gguf data computed from the local header) and Info-ZIP `unzip -t`.
// Also: deflate output decoded by zlib (through zipfile), ZIP64 for >65535 entries,
// the rare alignment case that needs a gap before the local header, reproducibility.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "package/archive/deflate.h"
#include "package/archive/zip_reader.h"
#include "package/archive/zip_writer.h"

namespace fs = std::filesystem;
using namespace mmojo;

namespace {

const std::string kPython = std::string(MMOJO_SOURCE_DIR) + "/.venv/bin/python";

fs::path temp_dir(const std::string& name) {
    fs::path dir = fs::temp_directory_path() / ("mmojo_zip_writer_" + name + "_" + std::to_string(std::random_device{}()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

std::vector<uint8_t> read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const fs::path& p, const std::vector<uint8_t>& bytes) {
    std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

std::vector<uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }

// Checks `zip_path` with zipfile: every entry in expect/ (file name = entry name with '/'
// replaced by '__') has the same bytes, testzip() passes, and entries listed in `aligned`
// have their data at a multiple of 65536 (offset from the local header, not from our code).
const char* kCheck = R"PY(
import os, sys, zipfile, struct
zip_path, expect_dir, prefix_len = sys.argv[1], sys.argv[2], int(sys.argv[3])
aligned = sys.argv[4].split(",") if len(sys.argv) > 4 and sys.argv[4] else []
raw = open(zip_path, "rb").read()
with zipfile.ZipFile(zip_path) as z:
    assert z.testzip() is None
    names = z.namelist()
    want = sorted(n.replace("__", "/") for n in os.listdir(expect_dir))
    assert sorted(names) == want, (names, want)
    for n in names:
        assert z.read(n) == open(os.path.join(expect_dir, n.replace("/", "__")), "rb").read(), n
    infos = {i.filename: i for i in z.infolist()}
    first = min(i.header_offset for i in z.infolist())
    assert first >= prefix_len, (first, prefix_len)
    assert raw[:prefix_len] == open(os.path.join(os.path.dirname(zip_path), "prefix.bin"), "rb").read()[:prefix_len]
    for n in aligned:
        i = infos[n]
        assert i.compress_type == zipfile.ZIP_STORED
        sig, = struct.unpack_from("<I", raw, i.header_offset)
        assert sig == 0x04034b50
        nlen, xlen = struct.unpack_from("<HH", raw, i.header_offset + 26)
        data = i.header_offset + 30 + nlen + xlen
        assert data % 65536 == 0, (n, data)
        assert raw[data:data + i.file_size] == z.read(n)
print("ok")
)PY";

void check_with_python(const fs::path& zip, const fs::path& expect, uint64_t prefix_len,
                       const std::string& aligned) {
    const fs::path script = zip.parent_path() / "check.py";
    std::ofstream(script) << kCheck;
    const std::string cmd = kPython + " " + script.string() + " " + zip.string() + " " +
                            expect.string() + " " + std::to_string(prefix_len) + " '" + aligned + "'";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

void check_with_unzip(const fs::path& zip) {
    const std::string cmd = "unzip -tq " + zip.string() + " > " + zip.string() + ".unzip.log 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd << "\n" << std::string(read_file(zip.string() + ".unzip.log").begin(), read_file(zip.string() + ".unzip.log").end());
}

struct Sample {
    std::string name;
    std::vector<uint8_t> data;
    ZipMethod method;
    uint64_t align;
};

std::vector<Sample> samples() {
    std::mt19937 rng(99);
    std::vector<uint8_t> random(300000);
    for (auto& b : random) b = uint8_t(rng());
    std::string text;
    for (int i = 0; i < 4000; ++i) text += "<div class=\"row\">item " + std::to_string(i % 97) + "</div>\n";
    std::vector<uint8_t> gguf = bytes("GGUF");
    gguf.resize(200001);
    for (size_t i = 4; i < gguf.size(); ++i) gguf[i] = uint8_t(i * 7 + (i >> 9));
    std::vector<uint8_t> runs;
    for (int i = 0; i < 100; ++i) runs.insert(runs.end(), size_t(i * 37 % 300 + 1), uint8_t(i));
    return {
        {"mmojo-server-args", bytes("-m model.gguf\n--ctx-size 2048\n"), ZipMethod::kStore, 0},
        {"ui/index.html", bytes(text), ZipMethod::kAuto, 0},
        {"ui/random.bin", random, ZipMethod::kAuto, 0},          // auto -> stored
        {"ui/random-deflated.bin", random, ZipMethod::kDeflate, 0},  // forced deflate
        {"ui/runs.bin", runs, ZipMethod::kDeflate, 0},
        {"ui/empty.txt", {}, ZipMethod::kDeflate, 0},
        {"ui/caf\xc3\xa9.txt", bytes("utf-8 name"), ZipMethod::kAuto, 0},
        {"model.gguf", gguf, ZipMethod::kStore, 65536},
        {"second.gguf", gguf, ZipMethod::kStore, 65536},
    };
}

}  // namespace

TEST(ZipWriter, ReadBackByZipfileAndUnzip) {
    for (uint64_t prefix_len : {uint64_t(0), uint64_t(12345), uint64_t(65536 * 3 - 40)}) {
        SCOPED_TRACE(prefix_len);
        const fs::path dir = temp_dir("basic");
        std::vector<uint8_t> prefix(prefix_len + 100, 0x4D);
        write_file(dir / "prefix.bin", prefix);
        auto prefix_src = open_file_source((dir / "prefix.bin").string());
        ZipWriter w(prefix_src, prefix_len);
        fs::create_directories(dir / "expect");
        for (const Sample& s : samples()) {
            w.add(zip_entry_from_bytes(s.name, s.data, s.method, s.align));
            std::string file = s.name;
            for (size_t p; (p = file.find('/')) != std::string::npos;) file.replace(p, 1, "__");
            write_file(dir / "expect" / file, s.data);
        }
        const fs::path out = dir / "out.zip";
        w.write(out.string());
        EXPECT_EQ(fs::file_size(out), w.planned_size());
        check_with_python(out, dir / "expect", prefix_len, "model.gguf,second.gguf");
        check_with_unzip(out);
        // Our own reader agrees, and sees absolute offsets.
        auto z = ZipReader::open_file(out.string());
        ASSERT_TRUE(z.has_value());
        EXPECT_EQ(z->shift(), 0u);
        EXPECT_EQ(z->archive_start(), prefix_len);
        EXPECT_EQ(z->find("ui/random.bin")->method, 0);
        EXPECT_EQ(z->find("ui/random-deflated.bin")->method, 8);
        EXPECT_EQ(z->find("ui/index.html")->method, 8);
        EXPECT_LT(z->find("ui/index.html")->compressed_size, 20000u);
        EXPECT_EQ(z->stored_range(*z->find("model.gguf")).offset % 65536, 0u);
        fs::remove_all(dir);
    }
}

TEST(ZipWriter, AlignmentGapWhenPaddingCannotFit) {
    // Pick a prefix so that the 64 KiB padding would be 1..5 bytes: the extra field cannot
    // hold 65536 + 1..5 bytes, so the writer leaves the bytes before the local header.
    const std::string name = "m.gguf";
    for (uint64_t pad : {1, 3, 5}) {
        SCOPED_TRACE(pad);
        const uint64_t prefix_len = 65536 * 2 - 30 - name.size() - pad;
        const fs::path dir = temp_dir("gap");
        write_file(dir / "prefix.bin", std::vector<uint8_t>(prefix_len, 0x33));
        ZipWriter w(open_file_source((dir / "prefix.bin").string()), prefix_len);
        std::vector<uint8_t> data = bytes("GGUF and some weights");
        w.add(zip_entry_from_bytes(name, data, ZipMethod::kStore, 65536));
        EXPECT_EQ(w.layout()[0].gap, pad);
        fs::create_directories(dir / "expect");
        write_file(dir / "expect" / name, data);
        w.write((dir / "out.zip").string());
        check_with_python(dir / "out.zip", dir / "expect", prefix_len, name);
        check_with_unzip(dir / "out.zip");
        fs::remove_all(dir);
    }
}

TEST(ZipWriter, StreamedFileAndCopiedEntries) {
    const fs::path dir = temp_dir("stream");
    std::vector<uint8_t> big(3 * 1024 * 1024 + 17);
    for (size_t i = 0; i < big.size(); ++i) big[i] = uint8_t((i * 2654435761u) >> 13);
    write_file(dir / "big.gguf", big);
    write_file(dir / "prefix.bin", bytes("#!/bin/sh\nexit 0\n"));
    ZipWriter first(open_file_source((dir / "prefix.bin").string()), 17);
    first.add(zip_entry_from_file("big.gguf", (dir / "big.gguf").string(), ZipMethod::kStore, 65536));
    first.add(zip_entry_from_bytes("note.txt", std::vector<uint8_t>(5000, 'n'), ZipMethod::kAuto));
    first.write((dir / "first.zip").string());
    // Copy both entries into a second archive (as pack does), re-aligning the model.
    auto z = ZipReader::open_file((dir / "first.zip").string());
    ASSERT_TRUE(z.has_value());
    write_file(dir / "prefix.bin", std::vector<uint8_t>(1000, 1));
    ZipWriter second(open_file_source((dir / "prefix.bin").string()), 1000);
    second.add(zip_entry_copy(*z, *z->find("note.txt")));
    second.add(zip_entry_copy(*z, *z->find("big.gguf"), 65536));
    second.write((dir / "second.zip").string());
    fs::create_directories(dir / "expect");
    write_file(dir / "expect" / "big.gguf", big);
    write_file(dir / "expect" / "note.txt", std::vector<uint8_t>(5000, 'n'));
    check_with_python(dir / "second.zip", dir / "expect", 1000, "big.gguf");
    check_with_unzip(dir / "second.zip");
    fs::remove_all(dir);
}

TEST(ZipWriter, Zip64ForManyEntries) {
    const fs::path dir = temp_dir("many");
    write_file(dir / "prefix.bin", bytes("PREFIX"));
    ZipWriter w(open_file_source((dir / "prefix.bin").string()), 6);
    for (int i = 0; i < 70000; ++i) {
        char name[32];
        std::snprintf(name, sizeof name, "d/%05d.txt", i);
        w.add(zip_entry_from_bytes(name, bytes(std::to_string(i * 3)), ZipMethod::kStore));
    }
    EXPECT_TRUE(w.needs_zip64());
    w.write((dir / "many.zip").string());
    const fs::path script = dir / "many.py";
    std::ofstream(script) << R"PY(
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    names = z.namelist()
    assert len(names) == 70000, len(names)
    for i in (0, 1, 65534, 65535, 65536, 69999):
        assert z.read("d/%05d.txt" % i) == str(i * 3).encode()
    assert z.testzip() is None
)PY";
    EXPECT_EQ(std::system((kPython + " " + script.string() + " " + (dir / "many.zip").string()).c_str()), 0);
    check_with_unzip(dir / "many.zip");
    fs::remove_all(dir);
}

TEST(ZipWriter, DeterministicOutput) {
    const fs::path dir = temp_dir("det");
    write_file(dir / "prefix.bin", bytes("EXE"));
    for (const char* out : {"a.zip", "b.zip"}) {
        ZipWriter w(open_file_source((dir / "prefix.bin").string()), 3);
        for (const Sample& s : samples()) w.add(zip_entry_from_bytes(s.name, s.data, s.method, s.align));
        w.write((dir / out).string());
    }
    EXPECT_EQ(read_file(dir / "a.zip"), read_file(dir / "b.zip"));
    fs::remove_all(dir);
}

TEST(ZipWriter, RejectsBadNamesAndAlignment) {
    ZipWriter w;
    const std::vector<uint8_t> d = bytes("x");
    EXPECT_THROW(w.add(zip_entry_from_bytes("", d, ZipMethod::kStore)), std::invalid_argument);
    EXPECT_THROW(w.add(zip_entry_from_bytes("/abs", d, ZipMethod::kStore)), std::invalid_argument);
    EXPECT_THROW(w.add(zip_entry_from_bytes("a/../b", d, ZipMethod::kStore)), std::invalid_argument);
    EXPECT_THROW(w.add(zip_entry_from_bytes("a\\b", d, ZipMethod::kStore)), std::invalid_argument);
    EXPECT_THROW(w.add(zip_entry_from_bytes("a", d, ZipMethod::kStore, 3)), std::invalid_argument);
    w.add(zip_entry_from_bytes("a", d, ZipMethod::kStore));
    EXPECT_THROW(w.add(zip_entry_from_bytes("a", d, ZipMethod::kStore)), std::invalid_argument);
}

TEST(Deflate, RoundTripsThroughOwnInflate) {
    std::mt19937 rng(5);
    for (int round = 0; round < 30; ++round) {
        std::vector<uint8_t> data(size_t(rng() % 200000));
        const int alphabet = 1 + int(rng() % 256);
        for (size_t i = 0; i < data.size(); ++i) {
            data[i] = (rng() % 4 == 0 && i > 300) ? data[i - 1 - rng() % 300] : uint8_t(rng() % alphabet);
        }
        const auto packed = deflate_raw(data.data(), data.size());
        EXPECT_EQ(inflate_raw(packed.data(), packed.size(), data.size()), data) << round;
    }
}
