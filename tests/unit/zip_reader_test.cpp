// ZIP reader and inflate against archives made by independent tools: Python's zipfile
// (stored, deflated, relative offsets after a prefix, force_zip64, >65535 entries) and
// Info-ZIP `zip` (plain, -fz ZIP64, `zip -A` absolute offsets after a prefix). Also checks
// that damaged archives give precise errors.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "package/archive/crc32.h"
#include "package/archive/deflate.h"
#include "package/archive/zip_reader.h"

namespace fs = std::filesystem;
using namespace mmojo;

namespace {

const std::string kPython = std::string(MMOJO_SOURCE_DIR) + "/.venv/bin/python";

fs::path temp_dir(const std::string& name) {
    fs::path dir = fs::temp_directory_path() /
                   ("mmojo_zip_reader_" + name + "_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" + std::to_string(std::random_device{}()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

int run(const std::string& cmd) {
    const int rc = std::system(cmd.c_str());
    return rc;
}

// Runs a Python snippet with argv[1] = dir.
void python(const std::string& script, const fs::path& dir) {
    const fs::path file = dir / "script.py";
    std::ofstream(file) << script;
    ASSERT_EQ(run(kPython + " " + file.string() + " " + dir.string()), 0) << script;
}

std::vector<uint8_t> read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const fs::path& p, const std::vector<uint8_t>& bytes) {
    std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

std::string str(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }

// Python writes the archive and, for every entry, a file expect/<index> with its bytes.
const char* kMakeArchives = R"PY(
import os, sys, zipfile, random
d = sys.argv[1]
random.seed(7)
text = ("The quick brown fox jumps over the lazy dog. " * 300).encode()
rnd = bytes(random.getrandbits(8) for _ in range(70000))
contents = {"a.txt": b"hello\n", "dir/text.txt": text, "rand.bin": rnd, "empty": b"",
            "mixed.bin": text[:5000] + rnd[:5000] + text}
def make(path, prefix=b"", **kw):
    with open(path, "wb") as f:
        f.write(prefix)
        with zipfile.ZipFile(f, "a" if prefix else "w") as z:
            for i, (name, data) in enumerate(contents.items()):
                method = zipfile.ZIP_DEFLATED if i % 2 else zipfile.ZIP_STORED
                if kw.get("all_deflate"): method = zipfile.ZIP_DEFLATED
                if kw.get("force64"):
                    zi = zipfile.ZipInfo(name)
                    zi.compress_type = method
                    with z.open(zi, "w", force_zip64=True) as w: w.write(data)
                else:
                    z.writestr(name, data, compress_type=method, compresslevel=kw.get("level"))
make(os.path.join(d, "plain.zip"))
make(os.path.join(d, "deflate9.zip"), all_deflate=True, level=9)
make(os.path.join(d, "deflate1.zip"), all_deflate=True, level=1)
make(os.path.join(d, "appended.zip"), prefix=b"\x7fELF" + b"x" * 100000)
# Concatenation keeps the archive's offsets relative to its own start.
open(os.path.join(d, "prefixed.zip"), "wb").write(
    b"\x7fELF" + b"x" * 100000 + open(os.path.join(d, "plain.zip"), "rb").read())
make(os.path.join(d, "force64.zip"), force64=True)
os.makedirs(os.path.join(d, "expect"), exist_ok=True)
for name, data in contents.items():
    open(os.path.join(d, "expect", name.replace("/", "_")), "wb").write(data)
)PY";

void expect_contents(const ZipReader& z, const fs::path& dir) {
    const char* names[] = {"a.txt", "dir/text.txt", "rand.bin", "empty", "mixed.bin"};
    ASSERT_EQ(z.entries().size(), 5u);
    for (const char* n : names) {
        const ZipEntry* e = z.find(n);
        ASSERT_NE(e, nullptr) << n;
        std::string file = n;
        for (char& c : file) c = c == '/' ? '_' : c;
        EXPECT_EQ(z.read(*e), read_file(dir / "expect" / file)) << n;
    }
}

}  // namespace

TEST(ZipReader, PythonArchives) {
    const fs::path dir = temp_dir("py");
    python(kMakeArchives, dir);
    for (const char* name : {"plain.zip", "deflate9.zip", "deflate1.zip", "force64.zip"}) {
        SCOPED_TRACE(name);
        auto z = ZipReader::open_file((dir / name).string());
        ASSERT_TRUE(z.has_value());
        EXPECT_EQ(z->shift(), 0u);
        EXPECT_EQ(z->archive_start(), 0u);
        expect_contents(*z, dir);
    }
    fs::remove_all(dir);
}

TEST(ZipReader, PrefixWithRelativeOffsets) {
    const fs::path dir = temp_dir("prefix");
    python(kMakeArchives, dir);
    auto z = ZipReader::open_file((dir / "prefixed.zip").string());
    ASSERT_TRUE(z.has_value());
    EXPECT_EQ(z->shift(), 100004u);  // offsets are relative to the archive start
    EXPECT_EQ(z->archive_start(), 100004u);
    expect_contents(*z, dir);
    // zipfile's append mode on a non-ZIP file writes absolute offsets after the prefix.
    auto appended = ZipReader::open_file((dir / "appended.zip").string());
    ASSERT_TRUE(appended.has_value());
    EXPECT_EQ(appended->archive_start(), 100004u);
    expect_contents(*appended, dir);
    // Stored entry: the data range holds exactly the bytes.
    const ZipEntry* e = z->find("a.txt");
    ASSERT_NE(e, nullptr);
    const auto r = z->stored_range(*e);
    const auto all = read_file(dir / "prefixed.zip");
    EXPECT_EQ(std::string(all.begin() + long(r.offset), all.begin() + long(r.offset + r.size)), "hello\n");
    EXPECT_THROW(z->stored_range(*z->find("dir/text.txt")), ZipError);  // deflated
    fs::remove_all(dir);
}

TEST(ZipReader, InfoZipArchivesAndAbsoluteOffsetsAfterPrefix) {
    const fs::path dir = temp_dir("infozip");
    python(kMakeArchives, dir);
    fs::create_directories(dir / "tree/sub");
    write_file(dir / "tree/one.txt", std::vector<uint8_t>(5000, 'a'));
    write_file(dir / "tree/sub/two.txt", read_file(dir / "expect" / "mixed.bin"));
    const std::string cd = "cd " + dir.string() + " && ";
    ASSERT_EQ(run(cd + "zip -q -X -r info.zip tree && zip -q -X -fz -r info64.zip tree"), 0);
    // Self-extractor style: prefix + archive, then `zip -A` rewrites offsets as absolute.
    write_file(dir / "prefix.bin", std::vector<uint8_t>(77777, 0x90));
    ASSERT_EQ(run(cd + "cat prefix.bin info.zip > sfx.zip && zip -q -A sfx.zip"), 0);
    for (const char* name : {"info.zip", "info64.zip", "sfx.zip"}) {
        SCOPED_TRACE(name);
        auto z = ZipReader::open_file((dir / name).string());
        ASSERT_TRUE(z.has_value());
        EXPECT_EQ(z->shift(), 0u);
        EXPECT_EQ(z->archive_start(), std::string(name) == "sfx.zip" ? 77777u : 0u);
        const ZipEntry* one = z->find("tree/one.txt");
        const ZipEntry* two = z->find("tree/sub/two.txt");
        ASSERT_NE(one, nullptr);
        ASSERT_NE(two, nullptr);
        EXPECT_NE(z->find("tree/"), nullptr);
        EXPECT_TRUE(z->find("tree/")->is_directory());
        EXPECT_EQ(z->read(*one), read_file(dir / "tree/one.txt"));
        EXPECT_EQ(z->read(*two), read_file(dir / "tree/sub/two.txt"));
    }
    fs::remove_all(dir);
}

TEST(ZipReader, MoreThan65535EntriesUsesZip64End) {
    const fs::path dir = temp_dir("many");
    python(R"PY(
import sys, zipfile, os
with zipfile.ZipFile(os.path.join(sys.argv[1], "many.zip"), "w") as z:
    for i in range(70000):
        z.writestr("f%05d" % i, str(i))
)PY", dir);
    auto z = ZipReader::open_file((dir / "many.zip").string());
    ASSERT_TRUE(z.has_value());
    EXPECT_TRUE(z->is_zip64());
    ASSERT_EQ(z->entries().size(), 70000u);
    EXPECT_EQ(str(z->read(*z->find("f69999"))), "69999");
    EXPECT_EQ(str(z->read(z->entries()[12345])), "12345");
    fs::remove_all(dir);
}

TEST(ZipReader, NoArchiveIsNotAnError) {
    std::vector<uint8_t> elf(200000, 0x11);
    // A stray EOCD signature whose comment length does not reach the end of the file.
    elf[150000] = 'P'; elf[150001] = 'K'; elf[150002] = 5; elf[150003] = 6;
    auto z = ZipReader::open(memory_source(elf.data(), elf.size(), "plain-exe"));
    EXPECT_FALSE(z.has_value());
    std::vector<uint8_t> tiny(5, 0);
    EXPECT_FALSE(ZipReader::open(memory_source(tiny.data(), tiny.size(), "tiny")).has_value());
}

TEST(ZipReader, DamageGivesPreciseErrors) {
    const fs::path dir = temp_dir("damage");
    python(kMakeArchives, dir);
    const std::vector<uint8_t> good = read_file(dir / "plain.zip");
    auto z = ZipReader::open(memory_source(good.data(), good.size(), "good.zip"));
    ASSERT_TRUE(z.has_value());
    const ZipEntry text = *z->find("a.txt");  // stored
    auto expect_error = [&](std::vector<uint8_t> bytes, const std::string& needle, bool on_read) {
        try {
            auto r = ZipReader::open(memory_source(bytes.data(), bytes.size(), "bad.zip"));
            ASSERT_TRUE(r.has_value());
            if (on_read) {
                for (const ZipEntry& e : r->entries()) (void)r->read(e);
            }
            FAIL() << "no error for " << needle;
        } catch (const ZipError& e) {
            const std::string msg = e.what();
            EXPECT_NE(msg.find("bad.zip: ZIP error at offset "), std::string::npos) << msg;
            EXPECT_NE(msg.find(needle), std::string::npos) << msg;
        }
    };
    {   // flip a byte of stored data: CRC mismatch on read
        auto b = good;
        b[size_t(text.data_offset)] ^= 1;
        expect_error(b, "CRC-32", true);
    }
    {   // break a local header signature
        auto b = good;
        b[size_t(text.local_header_offset)] = 'X';
        expect_error(b, "local header signature", false);
    }
    {   // central directory offset pointing nowhere useful
        auto b = good;
        const size_t eocd = b.size() - 22;
        b[eocd + 16] ^= 0x40;
        expect_error(b, "signature", false);
    }
    {   // entry count larger than what fits
        auto b = good;
        const size_t eocd = b.size() - 22;
        b[eocd + 8] = 0xF0; b[eocd + 10] = 0xF0;
        expect_error(b, "cannot fit", false);
    }
    {   // corrupt deflate data
        const ZipEntry& d = *z->find("dir/text.txt");
        auto b = good;
        for (size_t i = 0; i < 40; ++i) b[size_t(d.data_offset) + i] = 0xFF;
        expect_error(b, "dir/text.txt", true);
    }
    fs::remove_all(dir);
}

TEST(Inflate, RejectsBadStreams) {
    const uint8_t type3[] = {0x07};  // final block, type 3
    EXPECT_THROW(inflate_raw(type3, 1, 0), DeflateError);
    const uint8_t stored_bad_len[] = {0x01, 0x05, 0x00, 0x00, 0x00};
    EXPECT_THROW(inflate_raw(stored_bad_len, 5, 5), DeflateError);
    const uint8_t truncated[] = {0x01, 0x05, 0x00, 0xFA, 0xFF, 'a'};
    EXPECT_THROW(inflate_raw(truncated, 6, 5), DeflateError);
    const uint8_t ok[] = {0x01, 0x02, 0x00, 0xFD, 0xFF, 'h', 'i'};
    EXPECT_EQ(inflate_raw(ok, 7, 2), (std::vector<uint8_t>{'h', 'i'}));
    EXPECT_THROW(inflate_raw(ok, 7, 3), DeflateError);  // size mismatch
    EXPECT_THROW(inflate_raw(ok, 7, 1), DeflateError);  // output beyond the limit
}

TEST(Crc32, KnownValue) {
    // The standard check value of CRC-32/ISO-HDLC.
    EXPECT_EQ(crc32("123456789", 9), 0xCBF43926u);
    EXPECT_EQ(crc32_update(crc32("12345", 5), "6789", 4), 0xCBF43926u);
}
