// SentencePiece-style tokenizer (tokenizer.ggml.model = "llama"), behaving like llama.cpp's
// SPM vocabulary:
//  - spaces become U+2581 ("▁"); a raw-text fragment at the start of the input or right
//    after a special token gets a leading space when add_space_prefix (default true);
//  - the text is split into UTF-8 characters; repeatedly the adjacent pair whose
//    concatenation is a token with the highest score is merged (ties: leftmost first);
//  - a symbol left that is not a token is emitted byte by byte as <0xNN> tokens (or the
//    single-byte token, else <unk>).
#include <queue>

#include "gguf/gguf.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

namespace mmojo::tokenizer_detail {

namespace {

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581

std::string escape_spaces(std::string_view text, bool prefix_space) {
    std::string out;
    out.reserve(text.size() + 8);
    if (prefix_space) out += kSpaceMark;
    for (char c : text) {
        if (c == ' ') {
            out += kSpaceMark;
        } else {
            out += c;
        }
    }
    return out;
}

struct Symbol {
    size_t start = 0, len = 0;  // bytes in the escaped text; len 0 = merged away
    int prev = -1, next = -1;
};

struct Bigram {
    float score = 0;
    int left = 0, right = 0;
    size_t len = 0;
    // Highest score first; equal scores: leftmost first.
    bool operator<(const Bigram& o) const {
        return score < o.score || (score == o.score && left > o.left);
    }
};

}  // namespace

SpmTokenizer::SpmTokenizer(const GgufFile& file) {
    VocabDefaults d;
    d.bos = 1;
    d.eos = 2;
    d.unk = 0;
    d.add_bos = true;
    d.add_space_prefix = true;
    d.clean_spaces = false;
    load_vocab(file, "llama", d);
    static const char* const kHex = "0123456789ABCDEF";
    for (int b = 0; b < 256; ++b) {
        const char name[7] = {'<', '0', 'x', kHex[b >> 4], kHex[b & 15], '>', 0};
        TokenId id = find_token(name);
        if (id == -1) id = find_token(std::string(1, char(b)));
        byte_tokens_[b] = id;
    }
    build_pieces();
}

std::string SpmTokenizer::render_piece(TokenId id) const {
    const uint32_t attr = attrs_[size_t(id)];
    const std::string& text = texts_[size_t(id)];
    if (attr & (kAttrUnknown | kAttrControl | kAttrUserDefined)) return text;
    if (attr & kAttrNormal) {
        std::string out;
        out.reserve(text.size());
        for (size_t i = 0; i < text.size();) {
            if (text.compare(i, kSpaceMark.size(), kSpaceMark) == 0) {
                out += ' ';
                i += kSpaceMark.size();
            } else {
                out += text[i++];
            }
        }
        return out;
    }
    if (attr & kAttrByte) {
        const int value = byte_token_value(id);
        return value < 0 ? std::string() : std::string(1, char(value));
    }
    return {};
}

void SpmTokenizer::push_bytes(std::string_view bytes, std::vector<TokenId>& out) const {
    for (char c : bytes) {
        const TokenId id = byte_tokens_[static_cast<unsigned char>(c)];
        if (id != -1) {
            out.push_back(id);
        } else if (unk_ != -1) {
            out.push_back(unk_);  // llama.cpp would fail here; unknown is the defined result
        }
    }
}

void SpmTokenizer::encode_text(std::string_view text, std::vector<TokenId>& out) const {
    std::vector<Symbol> symbols;
    symbols.reserve(text.size());
    for (size_t pos = 0; pos < text.size();) {
        Symbol s;
        s.start = pos;
        s.len = std::min(unicode::utf8_sequence_length(uint8_t(text[pos])), text.size() - pos);
        pos += s.len;
        s.prev = int(symbols.size()) - 1;
        s.next = pos == text.size() ? -1 : int(symbols.size()) + 1;
        symbols.push_back(s);
    }

    std::priority_queue<Bigram> queue;
    auto try_pair = [&](int left, int right) {
        if (left < 0 || right < 0) return;
        const size_t len = symbols[size_t(left)].len + symbols[size_t(right)].len;
        const TokenId id = find_token(text.substr(symbols[size_t(left)].start, len));
        if (id == -1) return;
        queue.push({token_score(id), left, right, len});
    };
    for (size_t i = 1; i < symbols.size(); ++i) try_pair(int(i) - 1, int(i));

    while (!queue.empty()) {
        const Bigram b = queue.top();
        queue.pop();
        Symbol& left = symbols[size_t(b.left)];
        Symbol& right = symbols[size_t(b.right)];
        // Stale: one side was merged into something else since the pair was queued.
        if (left.len == 0 || right.len == 0 || left.len + right.len != b.len) continue;
        left.len += right.len;
        right.len = 0;
        left.next = right.next;
        if (right.next >= 0) symbols[size_t(right.next)].prev = b.left;
        try_pair(left.prev, b.left);
        try_pair(b.left, left.next);
    }

    for (int i = symbols.empty() ? -1 : 0; i != -1; i = symbols[size_t(i)].next) {
        const Symbol& s = symbols[size_t(i)];
        const std::string_view piece = text.substr(s.start, s.len);
        const TokenId id = find_token(piece);
        if (id != -1) {
            out.push_back(id);
        } else {
            push_bytes(piece, out);
        }
    }
}

std::vector<TokenId> SpmTokenizer::encode(std::string_view text, bool add_special,
                                          bool parse_special) const {
    std::vector<TokenId> out;
    if (add_special && add_bos_ && bos_ != -1) out.push_back(bos_);
    bool prev_special = true;  // the input start counts as "after a special token"
    for (const Fragment& f : partition(text, parse_special)) {
        if (f.token != -1) {
            out.push_back(f.token);
            prev_special = true;
            continue;
        }
        const std::string escaped =
            escape_spaces(text.substr(f.offset, f.length), add_space_prefix_ && prev_special);
        encode_text(escaped, out);
        prev_special = false;
    }
    if (add_special && add_eos_ && eos_ != -1) out.push_back(eos_);
    return out;
}

}  // namespace mmojo::tokenizer_detail
