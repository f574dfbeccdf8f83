// The vocabulary as a byte trie, stored in preorder so a walk is one pass over an array:
// node i's subtree is [i, subtree_end), and a walk that rejects node i skips to
// subtree_end. Built once per model; the grammar matcher walks it to find every token a
// grammar state allows without looking at each token separately (tokens that share a
// prefix share the work, and a rejected prefix rejects all tokens under it).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mmojo {

struct TokenTrie {
    struct Node {
        uint32_t subtree_end;   // first node after this node's subtree
        uint32_t tok_begin;     // token_ids[tok_begin, tok_end): tokens whose text ends here
        uint32_t tok_end;
        uint32_t depth;         // 1 for a first byte
        uint8_t byte;
    };
    std::vector<Node> nodes;
    std::vector<int32_t> token_ids;
    uint32_t max_depth = 0;

    // pieces[id] is token id's text; empty pieces and ids with skip[id] set are left out.
    static TokenTrie build(const std::vector<std::string>& pieces, const std::vector<uint8_t>& skip);
};

}  // namespace mmojo
