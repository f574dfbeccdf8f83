// Request-head checks done before httplib parses the request (see request_head.h).
#include "server/request_head.h"

#include <cctype>

namespace mmojo {

namespace {

bool same_name(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

RequestHeadVerdict refuse(int status, std::string message) {
    RequestHeadVerdict v;
    v.status = status;
    v.message = std::move(message);
    return v;
}

}  // namespace

size_t request_head_end(std::string_view bytes) {
    const size_t crlf = bytes.find("\r\n\r\n");
    const size_t lf = bytes.find("\n\n");
    if (crlf == std::string_view::npos && lf == std::string_view::npos) return std::string_view::npos;
    if (lf == std::string_view::npos || (crlf != std::string_view::npos && crlf + 2 <= lf)) return crlf + 4;
    return lf + 2;
}

RequestHeadVerdict check_request_head(std::string_view head, uint64_t max_body_bytes) {
    RequestHeadVerdict out;
    if (head.size() > kMaxRequestHeadBytes) {
        return refuse(431, "request head larger than " + std::to_string(kMaxRequestHeadBytes) + " bytes");
    }
    bool have_length = false;
    bool first_line = true;
    size_t pos = 0;
    while (pos < head.size()) {
        size_t eol = head.find('\n', pos);
        if (eol == std::string_view::npos) eol = head.size();
        const std::string_view line = head.substr(pos, eol - pos);
        pos = eol + 1;
        if (first_line) {   // the request line is httplib's to parse
            first_line = false;
            continue;
        }
        const size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;   // blank line or garbage: httplib says 400
        const std::string_view name = line.substr(0, colon);
        const std::string_view value = trim(line.substr(colon + 1));
        if (same_name(name, "Transfer-Encoding")) {
            out.chunked = true;
        } else if (same_name(name, "Content-Length")) {
            if (value.empty()) return refuse(400, "Content-Length is empty");
            uint64_t n = 0;
            bool overflow = false;
            for (char c : value) {
                if (c < '0' || c > '9') {
                    return refuse(400, "Content-Length '" + std::string(value.substr(0, 40)) +
                                           "' is not a non-negative decimal number");
                }
                const uint64_t digit = uint64_t(c - '0');
                if (n > (UINT64_MAX - digit) / 10) overflow = true;
                else n = n * 10 + digit;
            }
            if (overflow) return refuse(413, "Content-Length does not fit in 64 bits");
            if (have_length && n != out.content_length) {
                return refuse(400, "two different Content-Length values");
            }
            have_length = true;
            out.content_length = n;
        }
    }
    if (have_length && out.chunked) {
        return refuse(400, "both Content-Length and Transfer-Encoding given");
    }
    if (have_length && out.content_length > max_body_bytes) {
        return refuse(413, "Content-Length " + std::to_string(out.content_length) +
                               " bytes is larger than the limit of " + std::to_string(max_body_bytes));
    }
    if (out.chunked) out.content_length = 0;
    return out;
}

}  // namespace mmojo
