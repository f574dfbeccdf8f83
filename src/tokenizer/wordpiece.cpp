// WordPiece (tokenizer.ggml.model = "bert"), behaving like llama.cpp's WPM vocabulary, which
// follows BERT's BasicTokenizer + WordpieceTokenizer:
//  - each code point is replaced by the first code point of its NFD form (drops accents
//    of precomposed letters) and lowercased;
//  - White_Space separates words; NUL, U+FFFD, control/format characters and combining
//    marks are dropped;
//  - punctuation, ASCII symbols and CJK ideographs become one-character words;
//  - each word, prefixed with U+2581, is cut greedily into the longest vocabulary entries
//    (GGUF stores word-initial pieces as "▁piece" and continuations without "##"); a word
//    that cannot be covered becomes [UNK].
#include "gguf/gguf.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

namespace mmojo::tokenizer_detail {

namespace {

// BERT's CJK ideograph blocks (as in its _is_chinese_char, with the upstream range typo
// 0x2B920 kept, which llama.cpp keeps too).
bool is_cjk(uint32_t cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
           (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

std::vector<std::string> split_words(std::string_view text) {
    std::vector<std::string> words(1);
    size_t pos = 0;
    while (pos < text.size()) {
        const uint32_t cp = unicode::nfd_first(unicode::decode_utf8(text, pos));
        if (unicode::is_whitespace(cp)) {
            if (!words.back().empty()) words.emplace_back();
            continue;
        }
        const unicode::Category cat = unicode::category(cp);
        // Combining marks are dropped too (BERT's accent stripping; llama.cpp's output for
        // "e\u0301" is the token for "e" alone).
        if (cp == 0 || cp == unicode::kReplacementChar || cat == unicode::Category::kControl ||
            cat == unicode::Category::kMark) {
            continue;
        }
        const uint32_t lower = unicode::to_lower(cp);
        if (cat == unicode::Category::kPunctuation ||
            (cp < 0x7F && cat == unicode::Category::kSymbol) || is_cjk(cp)) {
            if (!words.back().empty()) words.emplace_back();
            unicode::append_utf8(words.back(), lower);
            words.emplace_back();
        } else {
            unicode::append_utf8(words.back(), lower);
        }
    }
    if (words.back().empty()) words.pop_back();
    return words;
}

}  // namespace

WpmTokenizer::WpmTokenizer(const GgufFile& file) {
    VocabDefaults d;
    d.bos = 101;  // [CLS]
    d.unk = 100;
    d.sep = 102;
    d.pad = 0;
    d.add_bos = true;
    d.add_sep = true;
    d.clean_spaces = true;
    load_vocab(file, "bert", d);
    build_pieces();
}

std::string WpmTokenizer::render_normal(const std::string& text) const {
    return replace_space_marks(text);
}

void WpmTokenizer::encode_text(std::string_view text, bool, std::vector<TokenId>& out) const {
    std::string word;
    for (const std::string& w : split_words(text)) {
        word.assign(kSpaceMark);
        word += w;
        const std::string_view view(word);
        const size_t n = view.size();
        const size_t before = out.size();
        // Greedy longest match over byte positions, as llama.cpp does.
        for (size_t i = 0; i < n;) {
            size_t matched = 0;
            for (size_t j = std::min(n, i + max_token_len_ + 1); j > i; --j) {
                const TokenId id = find_token(view.substr(i, j - i));
                if (id != -1) {
                    out.push_back(id);
                    matched = j - i;
                    break;
                }
            }
            if (matched == 0) {
                out.resize(before);  // the word cannot be covered: drop its pieces
                break;
            }
            i += matched;
        }
        if (out.size() == before && unk_ != -1) out.push_back(unk_);
    }
}

// BERT ends a sequence with [SEP], not EOS.
TokenId WpmTokenizer::end_token() const { return add_sep_ ? sep_ : -1; }

}  // namespace mmojo::tokenizer_detail
