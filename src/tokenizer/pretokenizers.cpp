// Byte-level BPE pre-tokenizers: the split patterns and flags llama.cpp associates with each
// `tokenizer.ggml.pre` name (llama-vocab.cpp), and the splitting itself.
//
// A pre-tokenizer is a list of patterns applied in turn: the first splits the whole text
// into matches and the gaps between them; each next pattern splits every piece again. Each
// piece is matched on its own, so `$` and `(?!\S)` see the end of the piece.
#include <stdexcept>

#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

namespace mmojo::tokenizer_detail {

namespace {

// GPT-2's pattern (without its trailing `|\s+`, as llama.cpp has it).
const char* const kGpt2 =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
// Llama 3 (case-insensitive contractions spelled out), digits in runs of up to three.
const char* const kLlama3 =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
    "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
// Qwen 2: as Llama 3 but one digit per piece.
const char* const kQwen2 =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
    "\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char* const kDeepseekLlmLetters =
    "\\s?[A-Za-z\u00B5\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u01BA\u01BC-\u01BF\u01C4-\u0293"
    "\u0295-\u02AF\u0370-\u0373\u0376\u0377\u037B-\u037D\u037F\u0386\u0388-\u038A\u038C"
    "\u038E-\u03A1\u03A3-\u03F5\u03F7-\u0481\u048A-\u052F\u0531-\u0556\u10A0-\u10C5"
    "\u13A0-\u13F5\u13F8-\u13FD\u1C90-\u1CBA\u1CBD-\u1CBF\u1D00-\u1D2B\u1D6B-\u1D77"
    "\u1D79-\u1D9A\u1E00-\u1F15\u1F18-\u1F1D\u1F20-\u1F45\u1F48-\u1F4D\u1F50-\u1F57\u1F59"
    "\u1F5B\u1F5D\u1F5F-\u1F7D\u1F80-\u1FB4\u1FB6-\u1FBC\u1FBE\u1FC2-\u1FC4\u1FC6-\u1FCC"
    "\u1FD0-\u1FD3\u1FD6-\u1FDB\u1FE0-\u1FEC\u1FF2-\u1FF4\u1FF6-\u1FFC\u2102\u2107"
    "\u210A-\u2113\u2115\u2119-\u211D\u2124\u2126\u2128\u212A-\u212D\u212F-\u2134\u2139"
    "\u213C-\u213F\u2145-\u2149\u214E\u2183\u2184\u2C00-\u2C7B\u2C7E-\u2CE4\u2CEB-\u2CEE"
    "\u2CF2\u2CF3\uA640-\uA66D\uA680-\uA69B\uA722-\uA76F\uA771-\uA787\uA78B-\uA78E"
    "\uAB70-\uABBF\uFB00-\uFB06\uFB13-\uFB17\uFF21-\uFF3A\uFF41-\uFF5A\U00010400-\U0001044F"
    "\U000104B0-\U000104D3\U000104D8-\U000104FB\U00010C80-\U00010CB2\U00010CC0-\U00010CF2"
    "\U000118A0-\U000118DF\U0001E900-\U0001E943]+";
const char* const kDeepseekLlmPunct =
    "\\s?[!-/:-~\uFF01-\uFF0F\uFF1A-\uFF5E\u2018-\u201F\u3000-\u3002]+";
const char* const kCjk = "[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+";
// Mistral's Tekken and GPT-4o: upper-then-lower letter runs via lookahead classes.
const char* const kTekken =
    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+|[^\\r\\n\\p{L}\\p{N}]?"
    "((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char* const kGpt4o =
    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+"
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?"
    "((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|"
    "'[lL][lL]|'[dD])?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char* const kBloom = " ?[^(\\s|.,!?\u2026\u3002\uFF0C\u3001\u0964\u06D4\u060C)]+";

bool name_in(const std::string& name, std::initializer_list<const char*> names) {
    for (const char* n : names) {
        if (name == n) return true;
    }
    return false;
}

}  // namespace

PreTokenizerConfig pre_tokenizer_config(const std::string& name) {
    PreTokenizerConfig c;
    if (name.empty() || name == "default") {
        c.patterns = {"[\\p{P}\\$\\+<=>\\^~\\|]+", kGpt2, "\\p{N}+", "[0-9][0-9][0-9]"};
    } else if (name_in(name, {"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1",
                              "pixtral", "midm-2.0", "lfm2"})) {
        c.patterns = {kLlama3};
        c.ignore_merges = true;
        c.add_bos = true;
    } else if (name_in(name, {"dbrx", "smaug-bpe"})) {
        c.patterns = {kLlama3};
    } else if (name == "deepseek-llm") {
        c.patterns = {"[\r\n]", kDeepseekLlmLetters, kDeepseekLlmPunct, "\\s+$", kCjk, "\\p{N}+"};
        c.clean_spaces = false;
    } else if (name == "deepseek-coder") {
        c.patterns = {"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", kCjk, "\\p{N}"};
        c.clean_spaces = false;
    } else if (name == "falcon") {
        c.patterns = {"[\\p{P}\\$\\+<=>\\^~\\|`]+", kGpt2, "[0-9][0-9][0-9]"};
    } else if (name_in(name, {"gpt2", "gpt-2", "mpt", "olmo", "jais", "phi-2", "jina-es",
                              "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0",
                              "mellum", "trillion", "granite-docling"})) {
        c.patterns = {kGpt2};
    } else if (name_in(name, {"starcoder", "refact", "codeshell", "exaone", "minerva-7b"})) {
        c.patterns = {"\\p{N}", kGpt2};
    } else if (name_in(name, {"command-r", "smollm"})) {
        c.patterns = {"\\p{N}", kGpt2};
        c.clean_spaces = false;
    } else if (name_in(name, {"qwen2", "qwen2.5", "deepseek-r1-qwen", "stablelm2", "hunyuan"})) {
        c.patterns = {kQwen2};
        c.clean_spaces = false;
    } else if (name_in(name, {"chatglm-bpe", "glm4"})) {
        c.patterns = {kLlama3};
        c.no_bos = true;
    } else if (name == "tekken") {
        c.patterns = {kTekken};
        c.clean_spaces = false;
        c.ignore_merges = true;
        c.add_bos = true;
    } else if (name_in(name, {"gpt-4o", "minimax-m2"})) {
        c.patterns = {kGpt4o};
        c.clean_spaces = false;
    } else if (name_in(name, {"poro-chat", "bloom", "gpt3-finnish"})) {
        c.patterns = {kBloom};
        c.clean_spaces = name != "poro-chat";
    } else if (name == "viking") {
        c.patterns = {kBloom, "\\p{N}"};
        c.clean_spaces = false;
    } else {
        throw std::runtime_error("unknown pre-tokenizer type '" + name +
                                 "' in tokenizer.ggml.pre");
    }
    return c;
}

std::vector<std::string> pre_tokenize(const std::vector<Regex>& regexes, std::string_view text) {
    const std::vector<uint32_t> cps = unicode::to_codepoints(text);
    std::vector<uint16_t> props(cps.size());
    for (size_t i = 0; i < cps.size(); ++i) props[i] = unicode::properties(cps[i]);

    std::vector<size_t> pieces;
    if (!cps.empty()) pieces.push_back(cps.size());
    for (const Regex& re : regexes) pieces = re.split(cps.data(), props.data(), pieces);

    std::vector<std::string> words;
    words.reserve(pieces.size());
    size_t start = 0;
    for (size_t len : pieces) {
        std::string w;
        for (size_t i = start; i < start + len; ++i) unicode::append_utf8(w, cps[i]);
        words.push_back(std::move(w));
        start += len;
    }
    return words;
}

}  // namespace mmojo::tokenizer_detail
