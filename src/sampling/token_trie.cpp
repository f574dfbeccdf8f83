// Building the preorder token trie (see token_trie.h): sort the pieces, then each piece
// shares the nodes of its longest common prefix with the previous one.
#include "sampling/token_trie.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace mmojo {

TokenTrie TokenTrie::build(const std::vector<std::string>& pieces, const std::vector<uint8_t>& skip) {
    std::vector<int32_t> ids;
    for (size_t i = 0; i < pieces.size(); ++i) {
        if (!pieces[i].empty() && (i >= skip.size() || !skip[i])) ids.push_back(int32_t(i));
    }
    std::sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) {
        const int c = pieces[size_t(a)].compare(pieces[size_t(b)]);
        return c != 0 ? c < 0 : a < b;
    });
    TokenTrie t;
    t.token_ids.reserve(ids.size());
    std::vector<uint32_t> path;   // node index at each depth - 1
    const std::string* prev = nullptr;
    for (int32_t id : ids) {
        const std::string& p = pieces[size_t(id)];
        size_t common = 0;
        if (prev) {
            const size_t limit = std::min({prev->size(), p.size(), path.size()});
            while (common < limit && (*prev)[common] == p[common]) ++common;
        }
        while (path.size() > common) {
            t.nodes[path.back()].subtree_end = uint32_t(t.nodes.size());
            path.pop_back();
        }
        for (size_t k = common; k < p.size(); ++k) {
            path.push_back(uint32_t(t.nodes.size()));
            t.nodes.push_back({0, 0, 0, uint32_t(k + 1), uint8_t(p[k])});
        }
        Node& end = t.nodes[path.back()];
        if (end.tok_begin == end.tok_end) end.tok_begin = end.tok_end = uint32_t(t.token_ids.size());
        t.token_ids.push_back(id);
        end.tok_end = uint32_t(t.token_ids.size());
        t.max_depth = std::max(t.max_depth, uint32_t(p.size()));
        prev = &p;
    }
    while (!path.empty()) {
        t.nodes[path.back()].subtree_end = uint32_t(t.nodes.size());
        path.pop_back();
    }
    if (t.nodes.size() >= UINT32_MAX) throw std::length_error("TokenTrie: too many nodes");
    return t;
}

}  // namespace mmojo
