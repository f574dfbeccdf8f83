// The HTTP front's pure parts (issue 19): request-head checks before httplib reads a
// request, the connection slot accounting, and the JSON nesting check before parsing.
// The same behaviour over real sockets is tested in tests/integration/test_server_hardening.py.
#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "server/connection_limits.h"
#include "server/errors.h"
#include "server/json_limits.h"
#include "server/request_head.h"

using namespace mmojo;

namespace {

std::string head_with(const std::string& fields) {
    return "POST /completion HTTP/1.1\r\nHost: x\r\n" + fields + "\r\n";
}

}  // namespace

TEST(RequestHead, EndIsFoundOnlyWhenComplete) {
    EXPECT_EQ(request_head_end("GET / HTTP/1.1\r\nHost: x\r\n"), std::string_view::npos);
    EXPECT_EQ(request_head_end("GET / HTTP/1.1\r\n\r\nbody"), 18u);
    EXPECT_EQ(request_head_end("GET / HTTP/1.1\n\nbody"), 16u);
    EXPECT_EQ(request_head_end(""), std::string_view::npos);
}

TEST(RequestHead, ImpossibleContentLengthIsRefused) {
    const uint64_t max = 1000;
    EXPECT_EQ(check_request_head(head_with("Content-Length: -5\r\n"), max).status, 400);
    EXPECT_EQ(check_request_head(head_with("Content-Length: 12a\r\n"), max).status, 400);
    EXPECT_EQ(check_request_head(head_with("Content-Length: \r\n"), max).status, 400);
    EXPECT_EQ(check_request_head(head_with("Content-Length: 0x10\r\n"), max).status, 400);
    EXPECT_EQ(check_request_head(head_with("Content-Length: 99999999999999999999999\r\n"), max).status, 413);
    EXPECT_EQ(check_request_head(head_with("Content-Length: 18446744073709551616\r\n"), max).status, 413);
    EXPECT_EQ(check_request_head(head_with("Content-Length: 1001\r\n"), max).status, 413);
    EXPECT_EQ(check_request_head(head_with("Content-Length: 5\r\nContent-Length: 6\r\n"), max).status, 400);
    EXPECT_EQ(check_request_head(head_with("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"), max).status, 400);
}

TEST(RequestHead, ValidHeadsPass) {
    const uint64_t max = 1000;
    RequestHeadVerdict v = check_request_head(head_with("content-length:  1000 \r\n"), max);
    EXPECT_EQ(v.status, 0) << v.message;
    EXPECT_EQ(v.content_length, 1000u);
    v = check_request_head(head_with("Content-Length: 7\r\nContent-Length: 7\r\n"), max);
    EXPECT_EQ(v.status, 0);
    v = check_request_head(head_with("Transfer-Encoding: chunked\r\n"), max);
    EXPECT_EQ(v.status, 0);
    EXPECT_TRUE(v.chunked);
    EXPECT_EQ(check_request_head(head_with(""), max).status, 0);
    // Names are matched whole: X-Content-Length is not Content-Length.
    EXPECT_EQ(check_request_head(head_with("X-Content-Length: -1\r\n"), max).status, 0);
}

TEST(RequestHead, OversizedHeadIs431) {
    const std::string big = head_with("X-Pad: " + std::string(kMaxRequestHeadBytes, 'a') + "\r\n");
    EXPECT_EQ(check_request_head(big, 1000).status, 431);
}

TEST(ConnectionLimits, TotalAndPerAddressCaps) {
    ConnectionLimits limits(3, 2);
    uint64_t a1 = 0, a2 = 0, a3 = 0, b1 = 0, c1 = 0;
    EXPECT_EQ(limits.admit("a", nullptr, a1), ConnectionLimits::Admission::kAdmitted);
    EXPECT_EQ(limits.admit("a", nullptr, a2), ConnectionLimits::Admission::kAdmitted);
    EXPECT_EQ(limits.admit("a", nullptr, a3), ConnectionLimits::Admission::kAddressFull);
    EXPECT_EQ(limits.admit("b", nullptr, b1), ConnectionLimits::Admission::kAdmitted);
    EXPECT_EQ(limits.admit("c", nullptr, c1), ConnectionLimits::Admission::kServerFull);
    EXPECT_EQ(limits.open(), 3u);
    limits.release(a1);
    EXPECT_EQ(limits.admit("a", nullptr, a3), ConnectionLimits::Admission::kAdmitted);
    limits.release(a2);
    limits.release(a3);
    limits.release(b1);
    limits.release(b1);   // twice: ignored
    EXPECT_EQ(limits.open(), 0u);
}

TEST(ConnectionLimits, CloseAllShutsOpenConnectionsAndRefusesNewOnes) {
    ConnectionLimits limits(10, 10);
    std::atomic<int> shut{0};
    uint64_t id1 = 0, id2 = 0, id3 = 0;
    ASSERT_EQ(limits.admit("a", [&] { ++shut; }, id1), ConnectionLimits::Admission::kAdmitted);
    ASSERT_EQ(limits.admit("b", [&] { ++shut; }, id2), ConnectionLimits::Admission::kAdmitted);
    limits.close_all();
    EXPECT_EQ(shut.load(), 2);
    EXPECT_EQ(limits.admit("c", nullptr, id3), ConnectionLimits::Admission::kStopping);
    limits.release(id1);
    limits.release(id2);
    EXPECT_EQ(limits.open(), 0u);
}

TEST(JsonLimits, DepthIsCountedOutsideStringsOnly) {
    EXPECT_NO_THROW(check_json_depth(std::string(128, '[') + std::string(128, ']')));
    EXPECT_THROW(check_json_depth(std::string(129, '[') + std::string(129, ']')), ApiError);
    EXPECT_THROW(check_json_depth(std::string(60000, '[')), ApiError);
    // Brackets inside strings, escaped quotes included, are text.
    EXPECT_NO_THROW(check_json_depth("{\"a\": \"" + std::string(1000, '[') + "\\\"" + std::string(1000, '{') + "\"}"));
    EXPECT_NO_THROW(check_json_depth("[\"\\\\\", [1]]", 2));
    EXPECT_THROW(check_json_depth("[\"\\\\\", [[1]]]", 2), ApiError);
    try {
        check_json_depth(std::string(200, '{'), 5);
        FAIL();
    } catch (const ApiError& e) {
        EXPECT_EQ(e.status(), 400);
        EXPECT_NE(std::string(e.what()).find("deeper than 5 levels (at byte 5)"), std::string::npos) << e.what();
    }
}
