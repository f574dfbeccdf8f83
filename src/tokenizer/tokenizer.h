// Text <-> token ids for the vocabularies stored in GGUF files (`tokenizer.ggml.*` keys):
// SentencePiece-style (model "llama"), byte-level BPE (model "gpt2", with the pre-tokenizer
// named by `tokenizer.ggml.pre`) and WordPiece (model "bert"). Behaviour follows llama.cpp
// so that ids match its test vectors.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mmojo {

class GgufFile;
using TokenId = int32_t;

// Token attributes from `tokenizer.ggml.token_type` (1 normal, 2 unknown, 3 control,
// 4 user-defined, 5 unused, 6 byte).
enum class TokenKind : int32_t {
    kUndefined = 0, kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5,
    kByte = 6,
};

class Tokenizer {
public:
    virtual ~Tokenizer() = default;
    // Builds the tokenizer a GGUF file describes; throws std::runtime_error naming the
    // missing key or the unsupported model/pre-tokenizer.
    static std::unique_ptr<Tokenizer> from_gguf(const GgufFile& file);

    // add_special: BOS/EOS (or [CLS]/[SEP]) as the file's add_bos/add_eos say.
    // parse_special: text like "<s>" or "<|im_start|>" becomes the control token.
    virtual std::vector<TokenId> encode(std::string_view text, bool add_special,
                                        bool parse_special) const = 0;
    // The bytes a token stands for. special=false renders control and unknown tokens as ""
    // (as llama.cpp). Throws std::out_of_range for an id outside [0, n_vocab()).
    virtual std::string token_to_piece(TokenId id, bool special) const = 0;
    // Text of a token sequence as llama.cpp's detokenizer renders it (remove_special=false):
    // the pieces concatenated; with a space prefix vocabulary (SPM) the first piece loses one
    // leading space; vocabularies with clean_spaces (most BPE and WordPiece) also tighten
    // " ." " ," " ?" " !", " ' " and the contractions " 's" " 'm" " 're" " 've".
    std::string decode(std::span<const TokenId> ids, bool special) const;
    // Id of the token whose text is exactly `text`, or -1.
    virtual TokenId find_token(std::string_view text) const;

    int32_t n_vocab() const { return int32_t(texts_.size()); }
    const std::string& token_text(TokenId id) const { return texts_.at(size_t(id)); }
    TokenKind token_kind(TokenId id) const { return kinds_.at(size_t(id)); }
    float token_score(TokenId id) const { return scores_.empty() ? 0.0f : scores_.at(size_t(id)); }
    // -1 where the vocabulary has no such token.
    TokenId bos() const { return bos_; }
    TokenId eos() const { return eos_; }
    TokenId eot() const { return eot_; }
    TokenId unk() const { return unk_; }
    TokenId sep() const { return sep_; }
    TokenId pad() const { return pad_; }
    bool add_bos() const { return add_bos_; }
    bool add_eos() const { return add_eos_; }
    // SPM's leading space ("Hello" is encoded as " Hello") and llama.cpp's clean-up of
    // spaces before punctuation in decode().
    bool add_space_prefix() const { return add_space_prefix_; }
    bool clean_spaces() const { return clean_spaces_; }
    const std::vector<TokenId>& eog_ids() const { return eog_ids_; }  // sorted
    // End of generation: eos, eot and any other token the vocabulary marks as such.
    bool is_eog(TokenId id) const;
    bool is_control(TokenId id) const { return token_kind(id) == TokenKind::kControl; }
    // "llama", "gpt2", "bert" (tokenizer.ggml.model) and the pre-tokenizer name.
    const std::string& model_name() const { return model_name_; }
    const std::string& pre_name() const { return pre_name_; }

protected:
    std::vector<std::string> texts_;
    std::vector<float> scores_;
    std::vector<TokenKind> kinds_;
    std::vector<TokenId> eog_ids_;
    TokenId bos_ = -1, eos_ = -1, eot_ = -1, unk_ = -1, sep_ = -1, pad_ = -1;
    bool add_bos_ = false, add_eos_ = false;
    bool add_space_prefix_ = false, clean_spaces_ = false;
    std::string model_name_, pre_name_;
};

}  // namespace mmojo
