// Unit tests for the server's text helpers: UTF-8 boundaries, stop-string matching,
// SSE framing, static path sanitizing and MIME types.
#include <gtest/gtest.h>

#include "base/utf8.h"
#include "sampling/text_stream.h"
#include "server/sse.h"
#include "server/static_files.h"

using namespace mmojo;

TEST(Utf8, CompletePrefixHoldsUnfinishedSequences) {
    EXPECT_EQ(utf8_complete_prefix(""), 0u);
    EXPECT_EQ(utf8_complete_prefix("abc"), 3u);
    // "é" is C3 A9: a lone C3 at the end is held back.
    EXPECT_EQ(utf8_complete_prefix("ab\xC3"), 2u);
    EXPECT_EQ(utf8_complete_prefix("ab\xC3\xA9"), 4u);
    // "€" is E2 82 AC.
    EXPECT_EQ(utf8_complete_prefix("x\xE2"), 1u);
    EXPECT_EQ(utf8_complete_prefix("x\xE2\x82"), 1u);
    EXPECT_EQ(utf8_complete_prefix("x\xE2\x82\xAC"), 4u);
    // U+1F600 is F0 9F 98 80.
    EXPECT_EQ(utf8_complete_prefix("\xF0\x9F\x98"), 0u);
    EXPECT_EQ(utf8_complete_prefix("\xF0\x9F\x98\x80"), 4u);
    // Invalid bytes are passed on, not held forever.
    EXPECT_EQ(utf8_complete_prefix("a\xFF"), 2u);
    EXPECT_EQ(utf8_complete_prefix("a\x80"), 2u);
    // A lead byte followed by a non-continuation is not "unfinished".
    EXPECT_EQ(utf8_complete_prefix("\xE2\x41"), 2u);
}

TEST(Utf8, Validity) {
    EXPECT_TRUE(utf8_valid("hello"));
    EXPECT_TRUE(utf8_valid("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"));
    EXPECT_FALSE(utf8_valid("\xC3"));
    EXPECT_FALSE(utf8_valid("\xC0\xAF"));          // overlong '/'
    EXPECT_FALSE(utf8_valid("\xED\xA0\x80"));      // surrogate
    EXPECT_FALSE(utf8_valid("\xF4\x90\x80\x80"));  // > U+10FFFF
    EXPECT_FALSE(utf8_valid("\xFF"));
}

TEST(Stop, FindsEarliestFullMatch) {
    std::vector<std::string> stops = {"END", "\n\n"};
    auto m = find_stop("hello\n\nworld END", stops, 0);
    EXPECT_EQ(m.pos, 5u);
    EXPECT_EQ(m.word, "\n\n");
    m = find_stop("abcEND", stops, 0);
    EXPECT_EQ(m.pos, 3u);
    EXPECT_EQ(m.word, "END");
    EXPECT_EQ(find_stop("nothing", stops, 0).pos, std::string::npos);
    EXPECT_EQ(find_stop("ENDx", stops, 1).pos, std::string::npos);   // before `from`
}

TEST(Stop, PartialMatchIsHeldBack) {
    std::vector<std::string> stops = {"STOP"};
    EXPECT_EQ(partial_stop_start("hello ST", stops), 6u);
    EXPECT_EQ(partial_stop_start("hello S", stops), 6u);
    EXPECT_EQ(partial_stop_start("hello STO", stops), 6u);
    EXPECT_EQ(partial_stop_start("hello", stops), 5u);
    EXPECT_EQ(partial_stop_start("", stops), 0u);
    // The longest held suffix wins across several stop strings.
    EXPECT_EQ(partial_stop_start("xab", {"b!", "ab!"}), 1u);
    EXPECT_EQ(partial_stop_start("abc", {}), 3u);
}

TEST(Sse, Framing) {
    EXPECT_EQ(sse_data(nlohmann::json{{"a", 1}}), "data: {\"a\":1}\n\n");
    EXPECT_EQ(sse_done(), "data: [DONE]\n\n");
    EXPECT_EQ(bytes_array("\xC3\xA9").dump(), "[195,169]");
    // Invalid UTF-8 in a string must not throw while serializing.
    EXPECT_NO_THROW(sse_data(nlohmann::json{{"t", std::string("\xF8")}}));
}

TEST(StaticFiles, SanitizesPaths) {
    EXPECT_EQ(sanitize_ui_path("/").value(), "index.html");
    EXPECT_EQ(sanitize_ui_path("/index.html").value(), "index.html");
    EXPECT_EQ(sanitize_ui_path("/js/app.js").value(), "js/app.js");
    EXPECT_EQ(sanitize_ui_path("/docs/").value(), "docs/index.html");
    for (const char* bad : {"/../etc/passwd", "/a/../../b", "/..", "/./x", "/%2e%2e/x", "/%252e%252e/x",
                            "/a%2f..%2fb", "/a\\..\\b", "//etc/passwd", "/a//b", "/C:/x", "/.hidden", "",
                            "etc/passwd", "/%zz", "/%"}) {
        EXPECT_FALSE(sanitize_ui_path(bad).has_value()) << bad;
    }
}

TEST(StaticFiles, ContentTypes) {
    EXPECT_EQ(content_type_for("index.html"), "text/html; charset=utf-8");
    EXPECT_EQ(content_type_for("a/b.JS"), "text/javascript; charset=utf-8");
    EXPECT_EQ(content_type_for("style.css"), "text/css; charset=utf-8");
    EXPECT_EQ(content_type_for("x.svg"), "image/svg+xml");
    EXPECT_EQ(content_type_for("x.png"), "image/png");
    EXPECT_EQ(content_type_for("noext"), "application/octet-stream");
}
