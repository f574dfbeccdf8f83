// SSE framing (see sse.h).
#include "server/sse.h"

#include <algorithm>

#include "server/errors.h"

namespace mmojo {

std::string sse_data(const nlohmann::json& value) {
    return "data: " + dump_json(value) + "\n\n";
}

std::string sse_done() { return "data: [DONE]\n\n"; }

nlohmann::json bytes_array(std::string_view text) {
    nlohmann::json out = nlohmann::json::array();
    for (char c : text) out.push_back(static_cast<int>(static_cast<unsigned char>(c)));
    return out;
}

}  // namespace mmojo
