// Fuzz target of the GBNF parser, the matcher and the JSON Schema converter. Byte 0 picks
// the mode. Even: the rest up to the first NUL is a grammar, what follows is text fed to
// its matcher byte by byte, with a token-trie walk checked against per-token answers at
// each step. Odd: the rest is a JSON schema; its grammar must parse (a converter that
// writes invalid GBNF is a bug) and its matcher must take the same walk. Outcomes other
// than a result, GrammarError, JsonSchemaError or invalid JSON are bugs (libFuzzer
// reports the uncaught exception).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sampling/grammar.h"
#include "sampling/grammar_matcher.h"
#include "sampling/json_schema_grammar.h"
#include "sampling/token_trie.h"

namespace {

const std::vector<std::string> kVocab = {"{", "}", "[", "]", "\"", ":", ",", " ", "\n", "a", "ab", "abc", "1", "12",
                                         "-", ".", "e", "true", "false", "null", "\":", "\",", "\xC3", "\xA9",
                                         "\xC3\xA9", "\xE4\xB8\xAD", "x\"", "\\", "\\n", "0", "9"};

void walk(const std::shared_ptr<const mmojo::Grammar>& g, std::string_view text) {
    static const mmojo::TokenTrie trie = mmojo::TokenTrie::build(kVocab, {});
    mmojo::GrammarMatcher m(g, 256);
    for (size_t i = 0; i <= text.size() && i < 64; ++i) {
        std::vector<uint8_t> mask(kVocab.size(), 0);
        m.allowed_tokens(trie, mask);
        for (size_t t = 0; t < kVocab.size(); ++t) {
            if (bool(mask[t]) != m.allows(kVocab[t])) std::abort();   // the walk must agree
        }
        if (i < text.size() && !m.accept(text.substr(i, 1))) break;
    }
    (void)m.is_complete();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    mmojo::GrammarLimits limits;
    limits.max_elements = 1u << 14;
    limits.max_rules = 2000;
    try {
        if (data[0] % 2 == 0) {
            const size_t nul = rest.find('\0');
            const std::string_view source = rest.substr(0, nul);
            const std::string_view text = nul == std::string_view::npos ? std::string_view() : rest.substr(nul + 1);
            walk(mmojo::Grammar::parse(source, "root", limits), text);
        } else {
            const auto schema = nlohmann::ordered_json::parse(rest, nullptr, false);
            if (schema.is_discarded()) return 0;
            std::string gbnf;
            try {
                gbnf = mmojo::json_schema_to_gbnf(schema);
            } catch (const mmojo::JsonSchemaError&) {
                return 0;
            }
            walk(mmojo::Grammar::parse(gbnf), "{\"a\": [1, \"x\"], \"b\": null}");
        }
    } catch (const mmojo::GrammarError&) {
    }
    return 0;
}
