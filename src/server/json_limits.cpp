// Nesting check of JSON text before parsing (see json_limits.h).
#include "server/json_limits.h"

#include <string>

#include "server/errors.h"

namespace mmojo {

void check_json_depth(std::string_view text, size_t max_depth) {
    size_t depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\') ++i;          // skip the escaped character ("\"" or "\\")
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth) {
                throw ApiError(ErrorType::kInvalidRequest,
                               "Invalid JSON body: arrays and objects nest deeper than " +
                                   std::to_string(max_depth) + " levels (at byte " + std::to_string(i) + ")");
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;   // unbalanced brackets are the parser's to report
        }
    }
}

}  // namespace mmojo
