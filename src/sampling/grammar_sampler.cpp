// The grammar as a sampler constraint (see grammar_sampler.h).
#include "sampling/grammar_sampler.h"

#include <algorithm>

namespace mmojo {

std::shared_ptr<const TokenVocabulary> TokenVocabulary::from_pieces(std::vector<std::string> pieces,
                                                                     std::vector<uint8_t> is_eog) {
    auto v = std::make_shared<TokenVocabulary>();
    is_eog.resize(pieces.size(), 0);
    v->trie = TokenTrie::build(pieces, is_eog);
    v->pieces = std::move(pieces);
    v->is_eog = std::move(is_eog);
    return v;
}

std::shared_ptr<const TokenVocabulary> TokenVocabulary::from_tokenizer(const Tokenizer& tokenizer) {
    const int32_t n = tokenizer.n_vocab();
    std::vector<std::string> pieces(static_cast<size_t>(n));
    std::vector<uint8_t> eog(static_cast<size_t>(n), 0);
    for (int32_t id = 0; id < n; ++id) {
        pieces[size_t(id)] = tokenizer.token_to_piece(id, false);
        eog[size_t(id)] = tokenizer.is_eog(id) ? 1 : 0;
    }
    return from_pieces(std::move(pieces), std::move(eog));
}

GrammarSampler::GrammarSampler(std::shared_ptr<const Grammar> grammar, std::shared_ptr<const TokenVocabulary> vocab)
    : vocab_(std::move(vocab)), matcher_(std::move(grammar)) {}

bool GrammarSampler::allows(int32_t token) {
    if (token < 0 || size_t(token) >= vocab_->pieces.size()) return false;
    if (vocab_->is_eog[size_t(token)]) return matcher_.is_complete();
    const std::string& piece = vocab_->pieces[size_t(token)];
    return !piece.empty() && matcher_.allows(piece);
}

void GrammarSampler::allowed(std::vector<uint8_t>& mask) { allowed_if_cheap(mask, SIZE_MAX); }

bool GrammarSampler::allowed_if_cheap(std::vector<uint8_t>& mask, size_t effort) {
    mask.assign(vocab_->pieces.size(), 0);
    if (!matcher_.allowed_tokens(vocab_->trie, mask, effort)) return false;
    if (matcher_.is_complete()) {
        for (size_t i = 0; i < mask.size(); ++i) {
            if (vocab_->is_eog[i]) mask[i] = 1;
        }
    }
    return true;
}

void GrammarSampler::accept(int32_t token) {
    if (token < 0 || size_t(token) >= vocab_->pieces.size()) throw GrammarError("grammar: token id out of range");
    if (vocab_->is_eog[size_t(token)]) return;
    if (!matcher_.accept(vocab_->pieces[size_t(token)])) {
        throw GrammarError("grammar: the token " + std::to_string(token) + " is not allowed here");
    }
}

}  // namespace mmojo
