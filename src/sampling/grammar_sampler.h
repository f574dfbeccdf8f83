// The grammar stage of sampling: a TokenConstraint (sampler.h) that allows the tokens whose
// text the grammar accepts next, and end-of-generation tokens only where the grammar is
// complete. The vocabulary side (each token's text, a trie over them) is built once per
// model and shared by every request.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sampling/grammar_matcher.h"
#include "sampling/sampler.h"
#include "sampling/token_trie.h"
#include "tokenizer/tokenizer.h"

namespace mmojo {

struct TokenVocabulary {
    std::vector<std::string> pieces;   // what each token adds to the generated text
    std::vector<uint8_t> is_eog;       // end-of-generation tokens
    TokenTrie trie;                    // every token with a non-empty piece that is not EOG

    static std::shared_ptr<const TokenVocabulary> from_tokenizer(const Tokenizer& tokenizer);
    static std::shared_ptr<const TokenVocabulary> from_pieces(std::vector<std::string> pieces,
                                                              std::vector<uint8_t> is_eog);
};

class GrammarSampler : public TokenConstraint {
public:
    GrammarSampler(std::shared_ptr<const Grammar> grammar, std::shared_ptr<const TokenVocabulary> vocab);
    bool allows(int32_t token) override;
    void allowed(std::vector<uint8_t>& mask) override;
    // Gives up after visiting `effort` trie nodes.
    bool allowed_if_cheap(std::vector<uint8_t>& mask, size_t effort) override;
    // Advances past a sampled token (EOG tokens change nothing). Throws GrammarError for a
    // token the grammar does not allow.
    void accept(int32_t token);
    bool is_complete() const { return matcher_.is_complete(); }
    bool can_continue() const { return matcher_.can_continue(); }

private:
    std::shared_ptr<const TokenVocabulary> vocab_;
    GrammarMatcher matcher_;
};

}  // namespace mmojo
