// SentencePiece-style tokenizer (tokenizer.ggml.model = "llama"), behaving like llama.cpp's
// SPM vocabulary:
//  - spaces become U+2581 ("▁"); a raw-text fragment at the start of the input or right
//    after a special token gets a leading space when add_space_prefix (default true);
//  - the text is split into UTF-8 characters; repeatedly the adjacent pair whose
//    concatenation is a token with the highest score is merged (ties: leftmost first);
//  - a symbol left that is not a token is emitted byte by byte as <0xNN> tokens (or the
//    single-byte token, else <unk>).
#include "gguf/gguf.h"
#include "tokenizer/symbol_merge.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

namespace mmojo::tokenizer_detail {

namespace {

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

std::string SpmTokenizer::render_normal(const std::string& text) const {
    return replace_space_marks(text);
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

void SpmTokenizer::encode_text(std::string_view raw, bool after_special,
                               std::vector<TokenId>& out) const {
    const std::string escaped = escape_spaces(raw, add_space_prefix_ && after_special);
    const std::string_view text(escaped);
    const std::vector<Symbol> symbols = merge_symbols<float>(
        text, [&](std::string_view left, std::string_view right) -> std::optional<float> {
            const TokenId id = find_token(std::string_view(left.data(), left.size() + right.size()));
            if (id == -1) return std::nullopt;
            return token_score(id);
        });

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

}  // namespace mmojo::tokenizer_detail
