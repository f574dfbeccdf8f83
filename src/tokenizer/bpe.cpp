// Byte-level BPE (tokenizer.ggml.model = "gpt2"), behaving like llama.cpp's BPE vocabulary:
//  - the pre-tokenizer named by tokenizer.ggml.pre splits raw text into words;
//  - each word's UTF-8 bytes are mapped to GPT-2's printable code points;
//  - adjacent symbols are merged by rank of tokenizer.ggml.merges ("left right", lower index
//    first; equal ranks leftmost first) until no listed pair remains;
//  - with ignore_merges (Llama 3 style), a word that is itself a token is emitted whole;
//  - a final symbol that is not a token is emitted as its single-byte tokens, where they exist.
#include <stdexcept>

#include "gguf/gguf.h"
#include "tokenizer/symbol_merge.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

namespace mmojo::tokenizer_detail {

namespace {

// Unambiguous key for a merge pair: "<length of left>:" + left + right.
void make_key(std::string& key, std::string_view left, std::string_view right) {
    key.clear();
    key += std::to_string(left.size());
    key += ':';
    key += left;
    key += right;
}

}  // namespace

BpeTokenizer::BpeTokenizer(const GgufFile& file) {
    const PreTokenizerConfig pre =
        pre_tokenizer_config(file.get_string_or("tokenizer.ggml.pre", ""));
    VocabDefaults d;
    d.bos = pre.no_bos ? -1 : 11;  // llama.cpp's defaults for "gpt2" vocabularies
    d.eos = 11;
    d.add_bos = pre.add_bos;
    d.clean_spaces = pre.clean_spaces;
    load_vocab(file, "gpt2", d);
    if (pre.no_bos) bos_ = -1;
    ignore_merges_ = pre.ignore_merges;
    for (const std::string& p : pre.patterns) pre_regexes_.emplace_back(p);

    if (!file.has("tokenizer.ggml.merges")) {
        throw std::runtime_error(file.name() + ": BPE vocabulary without tokenizer.ggml.merges");
    }
    const std::vector<std::string> merges = file.get_string_array("tokenizer.ggml.merges");
    ranks_.reserve(merges.size());
    std::string key;
    for (size_t i = 0; i < merges.size(); ++i) {
        const std::string& m = merges[i];
        // The separator is the first space after the first byte (a pair may start with one).
        const size_t sep = m.size() > 1 ? m.find(' ', 1) : std::string::npos;
        if (sep == std::string::npos) {
            make_key(key, "", "");  // llama.cpp files such a line under ("", "")
        } else {
            make_key(key, std::string_view(m).substr(0, sep), std::string_view(m).substr(sep + 1));
        }
        ranks_.emplace(key, int32_t(std::min<size_t>(i, INT32_MAX)));  // first occurrence wins
    }
    build_pieces();
}

// Undoes the byte mapping; a code point outside it (malformed vocabulary) is kept as its
// own UTF-8.
std::string BpeTokenizer::render_normal(const std::string& text) const {
    std::string out;
    out.reserve(text.size());
    size_t pos = 0;
    while (pos < text.size()) {
        const uint32_t cp = unicode::decode_utf8(text, pos);
        const int byte = unicode::codepoint_to_byte(cp);
        if (byte >= 0) {
            out += char(byte);
        } else {
            unicode::append_utf8(out, cp);
        }
    }
    return out;
}

int32_t BpeTokenizer::merge_rank(std::string_view left, std::string_view right,
                                 std::string& key) const {
    make_key(key, left, right);
    const auto it = ranks_.find(std::string_view(key));
    return it == ranks_.end() ? -1 : it->second;
}

void BpeTokenizer::encode_word(const std::string& word, std::vector<TokenId>& out) const {
    if (ignore_merges_) {
        const TokenId whole = find_token(word);
        if (whole != -1) {
            out.push_back(whole);
            return;
        }
    }
    const std::string_view w(word);
    std::string key;
    const std::vector<Symbol> symbols = merge_symbols<int64_t>(
        w, [&](std::string_view left, std::string_view right) -> std::optional<int64_t> {
            const int32_t rank = merge_rank(left, right, key);
            if (rank < 0) return std::nullopt;
            return -int64_t(rank);  // lower ranks merge first
        });

    for (int i = symbols.empty() ? -1 : 0; i != -1; i = symbols[size_t(i)].next) {
        const Symbol& s = symbols[size_t(i)];
        const std::string_view piece = w.substr(s.start, s.len);
        const TokenId id = find_token(piece);
        if (id != -1) {
            out.push_back(id);
            continue;
        }
        for (char c : piece) {
            const TokenId byte_id = find_token(std::string_view(&c, 1));
            if (byte_id != -1) out.push_back(byte_id);
        }
    }
}

void BpeTokenizer::encode_text(std::string_view text, bool, std::vector<TokenId>& out) const {
    std::string mapped;
    for (const std::string& word : pre_tokenize(pre_regexes_, text)) {
        mapped.clear();
        for (char c : word) unicode::append_utf8(mapped, unicode::byte_to_codepoint(uint8_t(c)));
        encode_word(mapped, out);
    }
}

}  // namespace mmojo::tokenizer_detail
