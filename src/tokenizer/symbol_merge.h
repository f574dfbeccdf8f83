// The merge loop shared by the SPM and BPE tokenizers: the text starts as one symbol per
// UTF-8 character, kept as a linked list, and the best-scoring adjacent pair is merged
// again and again (ties: leftmost first) until no pair scores. SPM scores a pair by the
// vocabulary score of the merged token, BPE by its merge rank (negated: lower ranks first).
#pragma once

#include <algorithm>
#include <cstddef>
#include <optional>
#include <queue>
#include <string_view>
#include <vector>

#include "tokenizer/unicode.h"

namespace mmojo::tokenizer_detail {

struct Symbol {
    size_t start = 0, len = 0;  // bytes of the text; len 0 = merged away
    int prev = -1, next = -1;
};

// Merges symbols of `text` while score(left, right) gives a value for an adjacent pair
// (std::nullopt: the pair never merges). Returns the symbols; follow `next` from index 0.
template <typename Score, typename ScoreFn>
std::vector<Symbol> merge_symbols(std::string_view text, ScoreFn score) {
    std::vector<Symbol> symbols;
    symbols.reserve(text.size());
    for (size_t pos = 0; pos < text.size();) {
        Symbol s;
        s.start = pos;
        s.len = std::min(unicode::utf8_sequence_length(uint8_t(text[pos])), text.size() - pos);
        pos += s.len;
        s.prev = int(symbols.size()) - 1;
        s.next = pos == text.size() ? -1 : int(symbols.size()) + 1;
        symbols.push_back(s);
    }

    struct Pair {
        Score score;
        int left, right;
        size_t len;
        // Highest score on top of the queue; equal scores: leftmost first.
        bool operator<(const Pair& o) const {
            return score < o.score || (score == o.score && left > o.left);
        }
    };
    std::priority_queue<Pair> queue;
    auto try_pair = [&](int left, int right) {
        if (left < 0 || right < 0) return;
        const Symbol& l = symbols[size_t(left)];
        const Symbol& r = symbols[size_t(right)];
        const std::optional<Score> s = score(text.substr(l.start, l.len), text.substr(r.start, r.len));
        if (s) queue.push({*s, left, right, l.len + r.len});
    };
    for (size_t i = 1; i < symbols.size(); ++i) try_pair(int(i) - 1, int(i));

    while (!queue.empty()) {
        const Pair p = queue.top();
        queue.pop();
        Symbol& left = symbols[size_t(p.left)];
        Symbol& right = symbols[size_t(p.right)];
        // Stale: one side was merged into something else since the pair was queued.
        if (left.len == 0 || right.len == 0 || left.len + right.len != p.len) continue;
        left.len += right.len;
        right.len = 0;
        left.next = right.next;
        if (right.next >= 0) symbols[size_t(right.next)].prev = p.left;
        try_pair(left.prev, p.left);
        try_pair(p.left, left.next);
    }
    return symbols;
}

}  // namespace mmojo::tokenizer_detail
