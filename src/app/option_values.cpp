// Parsing and checking of flag values (integers, reals, booleans, cache types, files, grammars,
// logit biases); every error names the flag as the user spelled it.
#include "app/option_values.h"

#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include "sampling/grammar.h"
#include "sampling/json_schema_grammar.h"

namespace mmojo {

std::string in_quotes(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    out.push_back('\'');
    out.append(s);
    out.push_back('\'');
    return out;
}

int64_t parse_integer(const std::string& flag, const std::string& value, int64_t lo, int64_t hi) {
    int64_t v = 0;
    const char* first = value.data();
    const char* last = value.data() + value.size();
    if (first != last && *first == '+') ++first;
    auto [ptr, ec] = std::from_chars(first, last, v);
    if (value.empty() || ec == std::errc::invalid_argument || ptr != last) {
        throw OptionsError("invalid value " + in_quotes(value) + " for " + flag + ": expected an integer");
    }
    if (ec == std::errc::result_out_of_range || v < lo || v > hi) {
        throw OptionsError("value " + value + " for " + flag + " is out of range: expected " +
                           std::to_string(lo) + " to " + std::to_string(hi));
    }
    return v;
}

std::string format_float(double v) {
    std::ostringstream os;
    os << v;
    return os.str();
}

// lo/hi inclusive unless lo_open (then v must be > lo).
float parse_real(const std::string& flag, const std::string& value, double lo, double hi,
                 bool lo_open) {
    double v = 0;
    const char* first = value.data();
    const char* last = value.data() + value.size();
    if (first != last && *first == '+') ++first;
    auto [ptr, ec] = std::from_chars(first, last, v);
    if (value.empty() || ec == std::errc::invalid_argument || ptr != last || !std::isfinite(v)) {
        throw OptionsError("invalid value " + in_quotes(value) + " for " + flag + ": expected a number");
    }
    bool below = lo_open ? !(v > lo) : v < lo;
    if (ec == std::errc::result_out_of_range || below || v > hi) {
        std::string range = lo_open ? "greater than " + format_float(lo) : format_float(lo);
        if (hi < std::numeric_limits<double>::max()) {
            range = lo_open ? range + " and at most " + format_float(hi)
                            : format_float(lo) + " to " + format_float(hi);
        } else if (!lo_open) {
            range = "at least " + format_float(lo);
        }
        throw OptionsError("value " + value + " for " + flag + " is out of range: expected " + range);
    }
    return float(v);
}

bool parse_env_bool(const std::string& var, const std::string& value) {
    std::string v = value;
    std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    if (v == "1" || v == "true" || v == "on" || v == "yes" || v == "enabled") return true;
    if (v == "0" || v == "false" || v == "off" || v == "no" || v == "disabled" || v.empty()) return false;
    throw OptionsError("invalid value " + in_quotes(value) + " for environment variable " + var +
                       ": expected true or false");
}

TensorType parse_cache_type(const std::string& flag, const std::string& value) {
    if (value == "f32") return TensorType::kF32;
    if (value == "f16") return TensorType::kF16;
    throw OptionsError("unsupported cache type " + in_quotes(value) + " for " + flag +
                       ": expected f32 or f16");
}

std::string read_text_file(const std::string& flag, const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw OptionsError("cannot read " + in_quotes(path) + " given to " + flag + ": no such readable file");
    std::ostringstream os;
    os << in.rdbuf();
    if (in.bad()) throw OptionsError("error reading " + in_quotes(path) + " given to " + flag);
    return os.str();
}

// A grammar given on the command line, refused at once when it does not parse.
std::string checked_grammar(const std::string& flag, const std::string& gbnf) {
    try {
        (void)Grammar::parse(gbnf);
    } catch (const GrammarError& e) {
        throw OptionsError(std::string("invalid grammar given to ") + flag + ": " + e.what());
    }
    return gbnf;
}

// The GBNF of a JSON Schema given to `flag`.
std::string schema_grammar(const std::string& flag, const std::string& schema) {
    try {
        return checked_grammar(flag, json_schema_to_gbnf(nlohmann::ordered_json::parse(schema)));
    } catch (const OptionsError&) {
        throw;
    } catch (const std::exception& e) {
        throw OptionsError("invalid value for " + flag + ": " + e.what());
    }
}

// The escapes llama-cli processes in a prompt: \n \r \t \' \" \\ and \xHH; anything else
// stays as written.
std::string process_escapes(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\\' || i + 1 >= s.size()) {
            out += s[i];
            continue;
        }
        char c = s[i + 1];
        switch (c) {
            case 'n': out += '\n'; ++i; break;
            case 'r': out += '\r'; ++i; break;
            case 't': out += '\t'; ++i; break;
            case '\'': out += '\''; ++i; break;
            case '"': out += '"'; ++i; break;
            case '\\': out += '\\'; ++i; break;
            case 'x': {
                auto hex = [](char h) -> int {
                    if (h >= '0' && h <= '9') return h - '0';
                    if (h >= 'a' && h <= 'f') return h - 'a' + 10;
                    if (h >= 'A' && h <= 'F') return h - 'A' + 10;
                    return -1;
                };
                if (i + 3 < s.size() && hex(s[i + 2]) >= 0 && hex(s[i + 3]) >= 0) {
                    out += char(hex(s[i + 2]) * 16 + hex(s[i + 3]));
                    i += 3;
                } else {
                    out += s[i];
                }
                break;
            }
            default: out += s[i]; break;
        }
    }
    return out;
}

// TOKEN_ID(+/-)BIAS as llama.cpp reads it: "15043+1", "15043-0.5", "2-inf".
std::pair<int32_t, float> parse_logit_bias(const std::string& flag, const std::string& value) {
    const std::string expected = ": expected TOKEN_ID followed by +BIAS or -BIAS, e.g. 15043+1";
    size_t sign = value.find_first_of("+-", 1);
    if (value.empty() || sign == std::string::npos) {
        throw OptionsError("invalid value " + in_quotes(value) + " for " + flag + expected);
    }
    int64_t id = 0;
    try {
        id = parse_integer(flag, value.substr(0, sign), 0, kTokenIdMax);
    } catch (const OptionsError&) {
        throw OptionsError("invalid value " + in_quotes(value) + " for " + flag + expected);
    }
    std::string bias_text = value.substr(sign + 1);
    double bias = 0;
    auto [ptr, ec] = std::from_chars(bias_text.data(), bias_text.data() + bias_text.size(), bias);
    if (bias_text.empty() || ec != std::errc() || ptr != bias_text.data() + bias_text.size() || std::isnan(bias)) {
        throw OptionsError("invalid value " + in_quotes(value) + " for " + flag + expected);
    }
    return {int32_t(id), float(value[sign] == '-' ? -bias : bias)};
}

// API keys from a file: one per line; blank lines and lines starting with '#' are skipped.
std::vector<std::string> read_api_key_file(const std::string& flag, const std::string& path) {
    std::istringstream lines(read_text_file(flag, path));
    std::vector<std::string> keys;
    std::string line;
    while (std::getline(lines, line)) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
        size_t start = line.find_first_not_of(" \t");
        if (start == std::string::npos || line[start] == '#') continue;
        keys.push_back(line.substr(start));
    }
    if (keys.empty()) throw OptionsError("no API key found in " + in_quotes(path) + " given to " + flag);
    return keys;
}

}  // namespace mmojo
