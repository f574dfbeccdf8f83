// Tokenizer factory and the vocabulary logic shared by SPM, BPE and WordPiece: reading the
// `tokenizer.ggml.*` keys, llama.cpp's rules for special ids, end-of-generation tokens and
// token attributes (llama-vocab.cpp behaviour, learnt from its source and test vectors), the
// special-token partition of the input, pieces and detokenization.
#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <stdexcept>

#include "gguf/gguf.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

namespace mmojo {

using namespace tokenizer_detail;

std::unique_ptr<Tokenizer> Tokenizer::from_gguf(const GgufFile& file) {
    const std::string& model = file.get_string("tokenizer.ggml.model");
    if (model == "llama") return std::make_unique<SpmTokenizer>(file);
    if (model == "gpt2") return std::make_unique<BpeTokenizer>(file);
    if (model == "bert") return std::make_unique<WpmTokenizer>(file);
    throw std::runtime_error(file.name() + ": unsupported tokenizer model '" + model +
                             "' in tokenizer.ggml.model (supported: llama, gpt2, bert)");
}

bool Tokenizer::is_eog(TokenId id) const {
    return id >= 0 && std::binary_search(eog_ids_.begin(), eog_ids_.end(), id);
}

TokenId Tokenizer::find_token(std::string_view text) const {
    for (size_t i = 0; i < texts_.size(); ++i) {
        if (texts_[i] == text) return TokenId(i);
    }
    return -1;
}

std::string Tokenizer::decode(std::span<const TokenId> ids, bool special) const {
    std::string text;
    bool strip_space = add_space_prefix_;
    for (TokenId id : ids) {
        std::string piece = token_to_piece(id, special);
        if (strip_space && !piece.empty() && piece[0] == ' ') piece.erase(0, 1);
        strip_space = false;
        text += piece;
    }
    if (!clean_spaces_ || text.empty()) return text;

    // Pass 1: " ?", " !", " .", " ," lose the space.
    std::string a;
    a.reserve(text.size());
    a += text[0];
    for (size_t i = 1; i < text.size(); ++i) {
        const char x = text[i];
        if (text[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) a.pop_back();
        a += x;
    }
    // Pass 2: a lone apostrophe between spaces, " ' ", becomes "'".
    std::string b;
    b.reserve(a.size());
    b += a[0];
    for (size_t i = 1; i < a.size(); ++i) {
        const char x = a[i];
        if (x == '\'' && i + 1 < a.size() && a[i - 1] == ' ' && a[i + 1] == ' ') {
            b.pop_back();
            b += x;
            ++i;  // drop the following space
            continue;
        }
        b += x;
    }
    // Pass 3: " 's", " 'm", " 're", " 've" lose the space (" 't", " 'd", " 'll" keep it).
    std::string c;
    c.reserve(b.size());
    c += b[0];
    for (size_t i = 1; i < b.size(); ++i) {
        const char x = b[i];
        if (b[i - 1] == ' ' && x == '\'' && i + 1 < b.size()) {
            const char x1 = b[i + 1];
            const char x2 = i + 2 < b.size() ? b[i + 2] : '\0';
            if (x1 == 's' || x1 == 'm' || (x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) {
                c.pop_back();
            }
        }
        c += x;
    }
    return c;
}

namespace tokenizer_detail {

namespace {

// Token texts llama.cpp recognises (llama-vocab.cpp), in its order of preference.
const char* const kEotTexts[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
                                 "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]",
                                 "<end_of_utterance>"};
const char* const kEomTexts[] = {"<|eom_id|>"};
const char* const kFimPreTexts[] = {"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<PRE>",
                                    "<|code_prefix|>", "<|prefix|>"};
const char* const kFimSufTexts[] = {"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<SUF>",
                                    "<|code_suffix|>", "<|suffix|>"};
const char* const kFimMidTexts[] = {"<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<MID>",
                                    "<|code_middle|>", "<|middle|>"};
const char* const kFimPadTexts[] = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"};
const char* const kFimRepTexts[] = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>",
                                    "<reponame>"};
const char* const kFimSepTexts[] = {"<|file_sep|>"};
const char* const kEogTexts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
    "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
    "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>"};

TokenKind kind_from_type(int64_t type) {
    return (type >= 1 && type <= 6) ? TokenKind(type) : TokenKind::kUndefined;
}

uint32_t attr_from_kind(TokenKind kind) {
    switch (kind) {
        case TokenKind::kNormal: return kAttrNormal;
        case TokenKind::kUnknown: return kAttrUnknown;
        case TokenKind::kControl: return kAttrControl;
        case TokenKind::kUserDefined: return kAttrUserDefined;
        case TokenKind::kUnused: return kAttrUnused;
        case TokenKind::kByte: return kAttrByte;
        default: return 0;
    }
}

// An optional token id key: absent keeps `id`; a value outside the vocabulary keeps it too
// (llama.cpp warns and uses its default); a non-integer value is an error.
void read_id(const GgufFile& file, const char* key, size_t n_vocab, TokenId& id) {
    const GgufValue* value = file.find(key);
    if (value == nullptr) return;
    if (!value->is_integer()) {
        throw std::runtime_error(file.name() + ": " + key + " must be an integer, not " +
                                 gguf_value_type_name(value->type));
    }
    const bool is_signed = value->type == GgufValueType::kInt8 ||
                           value->type == GgufValueType::kInt16 ||
                           value->type == GgufValueType::kInt32 ||
                           value->type == GgufValueType::kInt64;
    if (is_signed) {
        const int64_t v = value->as_i64();
        if (v >= 0 && uint64_t(v) < n_vocab) id = TokenId(v);
    } else {
        const uint64_t v = value->as_u64();
        if (v < n_vocab) id = TokenId(v);
    }
}

bool contains_any(const std::string& haystack, std::initializer_list<const char*> needles) {
    for (const char* n : needles) {
        if (haystack.find(n) != std::string::npos) return true;
    }
    return false;
}

}  // namespace

void VocabTokenizer::load_vocab(const GgufFile& file, const std::string& model,
                                VocabDefaults defaults) {
    model_name_ = model;
    pre_name_ = file.get_string_or("tokenizer.ggml.pre", "");

    texts_ = file.get_string_array("tokenizer.ggml.tokens");
    const size_t n = texts_.size();
    if (n == 0) throw std::runtime_error(file.name() + ": tokenizer.ggml.tokens is empty");
    if (n > size_t(std::numeric_limits<TokenId>::max())) {
        throw std::runtime_error(file.name() + ": tokenizer.ggml.tokens has too many entries");
    }
    if (file.has("tokenizer.ggml.scores")) {
        scores_ = file.get_f32_array("tokenizer.ggml.scores");
        if (scores_.size() < n) {
            throw std::runtime_error(file.name() + ": tokenizer.ggml.scores has " +
                                     std::to_string(scores_.size()) + " entries for " +
                                     std::to_string(n) + " tokens");
        }
        scores_.resize(n);
    }
    kinds_.assign(n, TokenKind::kNormal);
    if (file.has("tokenizer.ggml.token_type")) {
        const std::vector<int64_t> types = file.get_int_array("tokenizer.ggml.token_type");
        if (types.size() < n) {
            throw std::runtime_error(file.name() + ": tokenizer.ggml.token_type has " +
                                     std::to_string(types.size()) + " entries for " +
                                     std::to_string(n) + " tokens");
        }
        for (size_t i = 0; i < n; ++i) kinds_[i] = kind_from_type(types[i]);
    }
    attrs_.resize(n);
    ids_.clear();
    ids_.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        // llama.cpp renames empty tokens so that they can never match text.
        if (texts_[i].empty()) texts_[i] = "[EMPTY_" + std::to_string(i) + "]";
        ids_[texts_[i]] = TokenId(i);  // a later duplicate wins, as in llama.cpp
        max_token_len_ = std::max(max_token_len_, texts_[i].size());
        attrs_[i] = attr_from_kind(kinds_[i]);
    }

    // Special ids: the kind's defaults (dropped when outside the vocabulary), then the keys.
    auto in_range = [n](TokenId id) { return id >= 0 && size_t(id) < n ? id : TokenId(-1); };
    bos_ = in_range(defaults.bos);
    eos_ = in_range(defaults.eos);
    unk_ = in_range(defaults.unk);
    sep_ = in_range(defaults.sep);
    pad_ = in_range(defaults.pad);
    eot_ = -1;
    TokenId eom = -1, fim_pre = -1, fim_suf = -1, fim_mid = -1, fim_pad = -1, fim_rep = -1,
            fim_sep = -1;
    read_id(file, "tokenizer.ggml.bos_token_id", n, bos_);
    read_id(file, "tokenizer.ggml.eos_token_id", n, eos_);
    read_id(file, "tokenizer.ggml.eot_token_id", n, eot_);
    read_id(file, "tokenizer.ggml.eom_token_id", n, eom);
    read_id(file, "tokenizer.ggml.unknown_token_id", n, unk_);
    read_id(file, "tokenizer.ggml.seperator_token_id", n, sep_);  // llama.cpp's spelling
    read_id(file, "tokenizer.ggml.padding_token_id", n, pad_);
    read_id(file, "tokenizer.ggml.fim_pre_token_id", n, fim_pre);
    read_id(file, "tokenizer.ggml.fim_suf_token_id", n, fim_suf);
    read_id(file, "tokenizer.ggml.fim_mid_token_id", n, fim_mid);
    read_id(file, "tokenizer.ggml.fim_pad_token_id", n, fim_pad);
    read_id(file, "tokenizer.ggml.fim_rep_token_id", n, fim_rep);
    read_id(file, "tokenizer.ggml.fim_sep_token_id", n, fim_sep);
    read_id(file, "tokenizer.ggml.prefix_token_id", n, fim_pre);
    read_id(file, "tokenizer.ggml.suffix_token_id", n, fim_suf);
    read_id(file, "tokenizer.ggml.middle_token_id", n, fim_mid);

    add_bos_ = file.get_bool_or("tokenizer.ggml.add_bos_token", defaults.add_bos);
    add_eos_ = file.get_bool_or("tokenizer.ggml.add_eos_token", defaults.add_eos);
    add_sep_ = file.get_bool_or("tokenizer.ggml.add_sep_token", defaults.add_sep);
    add_space_prefix_ = file.get_bool_or("tokenizer.ggml.add_space_prefix",
                                         defaults.add_space_prefix);
    clean_spaces_ = defaults.clean_spaces;

    // Tokens found by text. llama.cpp walks a hash map, so when several texts match, which
    // one becomes EOT is unspecified there; here the first text of the list that exists wins.
    auto mark_control = [&](TokenId id) { attrs_[size_t(id)] |= kAttrControl; };
    auto detect = [&](TokenId& id, auto const& texts) {
        if (id != -1) return;
        for (const char* t : texts) {
            const TokenId found = find_token(t);
            if (found != -1) {
                id = found;
                mark_control(found);
                return;
            }
        }
    };
    detect(eot_, kEotTexts);
    detect(eom, kEomTexts);
    detect(fim_pre, kFimPreTexts);
    detect(fim_suf, kFimSufTexts);
    detect(fim_mid, kFimMidTexts);
    detect(fim_pad, kFimPadTexts);
    detect(fim_rep, kFimRepTexts);
    detect(fim_sep, kFimSepTexts);

    std::vector<TokenId> eog;
    for (TokenId id : {fim_pad, fim_rep, fim_sep}) {
        if (id != -1) eog.push_back(id);
    }
    for (const char* t : kEogTexts) {
        const TokenId id = find_token(t);
        if (id != -1) {
            eog.push_back(id);
            mark_control(id);
        }
    }
    // gpt-oss: these are rendered as text.
    for (const char* t : {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"}) {
        const TokenId id = find_token(t);
        if (id != -1) attrs_[size_t(id)] = kAttrUserDefined;
    }
    for (TokenId id : {eos_, eot_, eom}) {
        if (id != -1) eog.push_back(id);
    }
    auto has_eog_text = [&](const char* t) {
        return std::any_of(eog.begin(), eog.end(),
                           [&](TokenId id) { return texts_[size_t(id)] == t; });
    };
    auto drop_eog_text = [&](const char* t, uint32_t new_attr) {
        for (TokenId id : eog) {
            if (texts_[size_t(id)] == t) attrs_[size_t(id)] = new_attr;
        }
        eog.erase(std::remove_if(eog.begin(), eog.end(),
                                 [&](TokenId id) { return texts_[size_t(id)] == t; }),
                  eog.end());
    };
    // o200k_harmony / solar-open: "<|end|>" is not an end of generation there.
    if (has_eog_text("<|end|>") && ((has_eog_text("<|return|>") && has_eog_text("<|call|>")) ||
                                    (has_eog_text("<|calls|>") && has_eog_text("<|flush|>")))) {
        drop_eog_text("<|end|>", kAttrUserDefined);
    }
    // gemma4 / paddleocr: "</s>" is ordinary text there.
    if (has_eog_text("<|tool_response>") && has_eog_text("</s>")) {
        drop_eog_text("</s>", kAttrNormal);
    }
    std::sort(eog.begin(), eog.end());
    eog.erase(std::unique(eog.begin(), eog.end()), eog.end());
    eog_ids_ = std::move(eog);

    // Tokens that split the input before the model's own algorithm runs.
    special_tokens_.clear();
    for (size_t i = 0; i < n; ++i) {
        if (attrs_[i] & (kAttrControl | kAttrUserDefined | kAttrUnknown)) {
            special_tokens_.push_back(TokenId(i));
        }
    }
    std::stable_sort(special_tokens_.begin(), special_tokens_.end(), [&](TokenId a, TokenId b) {
        return texts_[size_t(a)].size() > texts_[size_t(b)].size();
    });

    // Per-model strip rules (not stored in GGUF; llama.cpp keys them on names).
    std::string name = file.get_string_or("general.name", "");
    for (char& ch : name) ch = char(std::tolower(static_cast<unsigned char>(ch)));
    const std::string arch = file.get_string_or("general.architecture", "");
    auto set_attr = [&](const char* text, uint32_t bit, bool on) {
        const TokenId id = find_token(text);
        if (id == -1) return;
        attrs_[size_t(id)] = on ? (attrs_[size_t(id)] | bit) : (attrs_[size_t(id)] & ~bit);
    };
    if (contains_any(pre_name_, {"jina-v2-de", "jina-v2-es", "jina-v2-code"}) ||
        contains_any(arch, {"nomic-bert-moe", "jina-bert-v3"})) {
        set_attr("<mask>", kAttrLstrip, true);
    } else if (contains_any(name, {"phi-3", "phi3"})) {
        for (TokenId id : special_tokens_) attrs_[size_t(id)] |= kAttrRstrip;
        set_attr("</s>", kAttrRstrip, true);
        for (const char* t : {"<unk>", "<s>", "<|endoftext|>"}) set_attr(t, kAttrRstrip, false);
    } else if (contains_any(name, {"modern-bert"})) {
        set_attr("[MASK]", kAttrLstrip, true);
    }

    // TokenKind mirrors the final attributes for the public accessors.
    for (size_t i = 0; i < n; ++i) {
        if (attrs_[i] & kAttrControl) {
            kinds_[i] = TokenKind::kControl;
        } else if ((attrs_[i] & kAttrUserDefined) && kinds_[i] != TokenKind::kUserDefined) {
            kinds_[i] = TokenKind::kUserDefined;
        } else if (attrs_[i] == kAttrNormal && kinds_[i] != TokenKind::kNormal) {
            kinds_[i] = TokenKind::kNormal;
        }
    }
}

std::string VocabTokenizer::render_piece(TokenId id) const {
    const uint32_t attr = attrs_[size_t(id)];
    const std::string& text = texts_[size_t(id)];
    if (attr & (kAttrUnknown | kAttrControl | kAttrUserDefined)) return text;
    if (attr & kAttrNormal) return render_normal(text);
    if (attr & kAttrByte) {
        const int value = byte_token_value(id);
        return value < 0 ? std::string() : std::string(1, char(value));
    }
    return {};
}

std::string VocabTokenizer::replace_space_marks(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
        if (text.substr(i, kSpaceMark.size()) == kSpaceMark) {
            out += ' ';
            i += kSpaceMark.size();
        } else {
            out += text[i++];
        }
    }
    return out;
}

std::vector<TokenId> VocabTokenizer::encode(std::string_view text, bool add_special,
                                            bool parse_special) const {
    std::vector<TokenId> out;
    if (add_special && add_bos_ && bos_ != -1) out.push_back(bos_);
    bool after_special = true;  // the input start counts as "after a special token"
    for (const Fragment& f : partition(text, parse_special)) {
        if (f.token != -1) {
            out.push_back(f.token);
            after_special = true;
        } else {
            encode_text(text.substr(f.offset, f.length), after_special, out);
            after_special = false;
        }
    }
    if (add_special && end_token() != -1) out.push_back(end_token());
    return out;
}

void VocabTokenizer::build_pieces() {
    pieces_.resize(texts_.size());
    for (size_t i = 0; i < texts_.size(); ++i) pieces_[i] = render_piece(TokenId(i));
}

TokenId VocabTokenizer::find_token(std::string_view text) const {
    const auto it = ids_.find(text);
    return it == ids_.end() ? -1 : it->second;
}

int VocabTokenizer::byte_token_value(TokenId id) const {
    const std::string& t = texts_[size_t(id)];
    auto hex = [](char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return -1;
    const int hi = hex(t[3]), lo = hex(t[4]);
    return (hi < 0 || lo < 0) ? -1 : hi * 16 + lo;
}

std::string VocabTokenizer::token_to_piece(TokenId id, bool special) const {
    if (id < 0 || size_t(id) >= pieces_.size()) {
        throw std::out_of_range("token id " + std::to_string(id) +
                                " is outside the vocabulary [0, " +
                                std::to_string(pieces_.size()) + ")");
    }
    if (!special && (attrs_[size_t(id)] & (kAttrControl | kAttrUnknown))) return {};
    return pieces_[size_t(id)];
}

std::vector<Fragment> VocabTokenizer::partition(std::string_view text, bool parse_special) const {
    std::vector<Fragment> fragments;
    if (text.empty()) return fragments;
    fragments.push_back({-1, 0, text.size()});
    std::vector<Fragment> next;
    auto is_space = [&](size_t i) {
        return std::isspace(static_cast<unsigned char>(text[i])) != 0;  // C locale, as llama.cpp
    };
    for (TokenId id : special_tokens_) {
        const uint32_t attr = attrs_[size_t(id)];
        if (!parse_special && (attr & (kAttrControl | kAttrUnknown))) continue;
        const std::string& needle = texts_[size_t(id)];
        if (text.find(needle) == std::string_view::npos) continue;
        next.clear();
        for (const Fragment& f : fragments) {
            if (f.token != -1) {
                next.push_back(f);
                continue;
            }
            size_t off = f.offset, len = f.length;
            while (len > 0) {
                const size_t match = text.substr(0, off + len).find(needle, off);
                if (match == std::string_view::npos) break;
                size_t left = match - off;
                if (attr & kAttrLstrip) {
                    while (left > 0 && is_space(off + left - 1)) --left;
                }
                if (left > 0) next.push_back({-1, off, left});
                next.push_back({id, 0, 0});
                size_t right_off = match + needle.size();
                size_t right_len = off + len - right_off;
                if (attr & kAttrRstrip) {
                    while (right_len > 0 && is_space(right_off)) {
                        ++right_off;
                        --right_len;
                    }
                }
                off = right_off;
                len = right_len;
            }
            if (len > 0) next.push_back({-1, off, len});
        }
        fragments.swap(next);
    }
    return fragments;
}

}  // namespace tokenizer_detail

}  // namespace mmojo
