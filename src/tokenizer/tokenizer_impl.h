// Internal interfaces of the tokenizer area: the vocabulary state shared by the three
// tokenizer kinds (token table, attributes, special-token partition, pieces) and the
// model-specific classes built by Tokenizer::from_gguf.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/regex.h"
#include "tokenizer/tokenizer.h"

namespace mmojo {
class GgufFile;
}

namespace mmojo::tokenizer_detail {

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581, SPM's and WPM's space

// Token attribute bits, as llama.cpp keeps them (token_type gives the initial value; text
// rules and per-model rules add to it).
enum : uint32_t {
    kAttrUnknown = 1u << 0, kAttrUnused = 1u << 1, kAttrNormal = 1u << 2,
    kAttrControl = 1u << 3, kAttrUserDefined = 1u << 4, kAttrByte = 1u << 5,
    kAttrLstrip = 1u << 7, kAttrRstrip = 1u << 8,
};

struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using TokenMap = std::unordered_map<std::string, TokenId, StringHash, std::equal_to<>>;

// Defaults a tokenizer kind starts from before the file's keys override them.
struct VocabDefaults {
    TokenId bos = -1, eos = -1, unk = -1, sep = -1, pad = -1;
    bool add_bos = false, add_eos = false, add_sep = false;
    bool add_space_prefix = false, clean_spaces = false;
};

// A piece of the input after special tokens are split out: either a token or a byte range
// of raw text.
struct Fragment {
    TokenId token = -1;  // -1 for raw text
    size_t offset = 0, length = 0;
};

class VocabTokenizer : public Tokenizer {
public:
    std::string token_to_piece(TokenId id, bool special) const override;
    TokenId find_token(std::string_view text) const override;
    // BOS, then each raw-text fragment through encode_text and each special token as is,
    // then end_token().
    std::vector<TokenId> encode(std::string_view text, bool add_special,
                                bool parse_special) const final;

protected:
    // Reads tokens, scores, types, special ids and flags; applies llama.cpp's text-based
    // rules (EOT/EOG/FIM detection, attribute overrides, per-model strip rules) and builds
    // the special-token list.
    void load_vocab(const GgufFile& file, const std::string& model, VocabDefaults defaults);

    // Splits `text` around special tokens (longest first; control and unknown tokens only
    // when parse_special; user-defined tokens always), honouring lstrip/rstrip attributes.
    std::vector<Fragment> partition(std::string_view text, bool parse_special) const;

    // Fills pieces_ from render_piece; the constructors call it once the model data is set.
    void build_pieces();
    // The bytes of token `id` as token_to_piece(id, true) returns them: control and
    // user-defined tokens as written, byte tokens as their byte, normal ones by render_normal.
    std::string render_piece(TokenId id) const;
    virtual std::string render_normal(const std::string& text) const = 0;
    // `text` with every U+2581 turned back into a space.
    static std::string replace_space_marks(std::string_view text);
    // Appends the tokens of raw text; after_special: it starts the input or follows a
    // special token.
    virtual void encode_text(std::string_view text, bool after_special,
                             std::vector<TokenId>& out) const = 0;
    // The token that add_special appends at the end (-1 for none).
    virtual TokenId end_token() const { return add_eos_ ? eos_ : -1; }
    // Byte value of a "<0xNN>" token, or -1.
    int byte_token_value(TokenId id) const;

    std::vector<uint32_t> attrs_;
    TokenMap ids_;
    std::vector<TokenId> special_tokens_;  // longest text first
    std::vector<std::string> pieces_;      // render_piece for every id
    size_t max_token_len_ = 0;
    bool add_sep_ = false;
};

// SentencePiece-style ("llama"): score-driven merges of adjacent symbols, byte fallback.
class SpmTokenizer final : public VocabTokenizer {
public:
    explicit SpmTokenizer(const GgufFile& file);
private:
    std::string render_normal(const std::string& text) const override;
    void encode_text(std::string_view raw, bool after_special,
                     std::vector<TokenId>& out) const override;
    void push_bytes(std::string_view bytes, std::vector<TokenId>& out) const;
    TokenId byte_tokens_[256];
};

// Byte-level BPE ("gpt2") with a regex pre-tokenizer named by tokenizer.ggml.pre.
class BpeTokenizer final : public VocabTokenizer {
public:
    explicit BpeTokenizer(const GgufFile& file);
private:
    std::string render_normal(const std::string& text) const override;
    void encode_text(std::string_view text, bool after_special,
                     std::vector<TokenId>& out) const override;
    void encode_word(const std::string& word, std::vector<TokenId>& out) const;
    int32_t merge_rank(std::string_view left, std::string_view right, std::string& key) const;

    std::vector<Regex> pre_regexes_;
    std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> ranks_;
    bool ignore_merges_ = false;
};

// WordPiece ("bert"): BERT-style normalisation and splitting, greedy longest match with
// continuation pieces (stored without "##"; word-initial pieces start with U+2581).
class WpmTokenizer final : public VocabTokenizer {
public:
    explicit WpmTokenizer(const GgufFile& file);
private:
    std::string render_normal(const std::string& text) const override;
    void encode_text(std::string_view text, bool after_special,
                     std::vector<TokenId>& out) const override;
    TokenId end_token() const override;
};

// Pre-tokenizer settings for a tokenizer.ggml.pre name (empty = "default"); throws
// std::runtime_error for names it does not know.
struct PreTokenizerConfig {
    std::vector<std::string> patterns;
    bool ignore_merges = false;
    bool clean_spaces = true;
    bool add_bos = false;
    bool no_bos = false;  // the vocabulary has no BOS token (chatglm)
};
PreTokenizerConfig pre_tokenizer_config(const std::string& name);

// Applies the patterns in turn (each refines the pieces of the previous one) and returns
// the pieces as UTF-8 (malformed input bytes become U+FFFD, as in llama.cpp).
std::vector<std::string> pre_tokenize(const std::vector<Regex>& regexes, std::string_view text);

}  // namespace mmojo::tokenizer_detail
