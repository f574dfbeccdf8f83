// Where a text is in a grammar (grammar.h): the set of parse stacks that the text so far
// leaves open, advanced byte by byte (UTF-8 is decoded here; the grammar works on code
// points). A stack is a chain of positions in the grammar's element array: the top is the
// character class the next code point must match, each parent is where to go on when the
// rule below it ends. Stacks are linked nodes in an arena, so stacks that share a tail
// share its nodes and branching costs one node per stack. Equal stacks are merged; more
// than `max_stacks` stacks at once (a very ambiguous grammar) throw GrammarError.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "sampling/grammar.h"
#include "sampling/token_trie.h"

namespace mmojo {

class GrammarMatcher {
public:
    explicit GrammarMatcher(std::shared_ptr<const Grammar> grammar, size_t max_stacks = 4096);

    // Feeds bytes. Returns false, leaving the state as it was, when the grammar does not
    // allow them (or they are not UTF-8). A code point may be split between calls.
    bool accept(std::string_view bytes);
    // Whether accept(bytes) would succeed; the state does not change.
    bool allows(std::string_view bytes);
    // The text so far is a whole match of the start rule (not inside a code point).
    bool is_complete() const;
    // Some continuation is possible.
    bool can_continue() const;
    // Sets mask[id] = 1 for every token of `trie` that accept() would take now; other
    // entries are left alone. One walk over the trie, pruning rejected prefixes.
    void allowed_tokens(const TokenTrie& trie, std::vector<uint8_t>& mask);
    void reset();
    size_t n_stacks() const { return tops_.size(); }

private:
    static constexpr uint32_t kNone = UINT32_MAX;       // no parent: the start rule
    static constexpr uint32_t kDone = UINT32_MAX - 1;   // a top: the start rule has ended
    struct Node {
        uint32_t pos;      // top: a kChar element; parent: where to continue
        uint32_t parent;
        uint64_t hash;     // of the whole chain, to merge equal stacks quickly
    };
    struct Utf8 {
        uint32_t cp = 0;   // bits so far
        uint8_t need = 0;  // continuation bytes still to come
        uint8_t len = 0;   // length of the sequence
    };

    uint32_t make(uint32_t pos, uint32_t parent);
    bool same_stack(uint32_t a, uint32_t b) const;
    void add_top(std::vector<uint32_t>& out, size_t begin, uint32_t top);
    void settle(uint32_t pos, uint32_t parent, std::vector<uint32_t>& out, size_t begin);
    // Feeds one byte to the stacks in[b, e) (indices into `buf`), appending the new stacks
    // to `buf`. Returns false on a rejected byte; `advanced` tells whether a code point
    // was completed (if not, the stacks are unchanged and nothing is appended).
    bool feed(uint8_t byte, Utf8& utf8, std::vector<uint32_t>& buf, size_t b, size_t e, bool& advanced);
    bool feed_all(std::string_view bytes, std::vector<uint32_t>& tops, Utf8& utf8);
    void collect_garbage();

    std::shared_ptr<const Grammar> g_;
    size_t max_stacks_;
    std::vector<Node> arena_;
    std::vector<uint32_t> tops_;
    Utf8 utf8_;
    std::vector<std::pair<uint32_t, uint32_t>> work_;   // settle's worklist
    std::vector<uint32_t> scratch_;
};

}  // namespace mmojo
