// Grammar matching over parse stacks (see grammar_matcher.h). settle() turns a position
// into the stacks whose tops are character classes: a rule reference branches into the
// rule's alternatives, the end of an alternative returns to the parent. A reference that
// ends its alternative (x r |) continues straight at the parent, so repetitions do not
// deepen the stacks.
#include "sampling/grammar_matcher.h"

#include <string>

namespace mmojo {

namespace {

constexpr size_t kMaxSettleSteps = 1u << 20;   // per settle(): a bound for hostile grammars
constexpr size_t kMaxArena = 1u << 26;

uint64_t mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    return h * 0xBF58476D1CE4E5B9ull;
}

}  // namespace

GrammarMatcher::GrammarMatcher(std::shared_ptr<const Grammar> grammar, size_t max_stacks)
    : g_(std::move(grammar)), max_stacks_(max_stacks) {
    if (!g_) throw GrammarError("GrammarMatcher: no grammar");
    reset();
}

void GrammarMatcher::reset() {
    arena_.clear();
    tops_.clear();
    utf8_ = {};
    for (uint32_t alt : g_->rule_alts[g_->root]) settle(alt, kNone, tops_, 0);
}

uint32_t GrammarMatcher::make(uint32_t pos, uint32_t parent) {
    if (arena_.size() >= kMaxArena) throw GrammarError("grammar: the matcher ran out of room (too many parse states)");
    const uint64_t h = mix(parent == kNone ? 0x5151ull : arena_[parent].hash, pos);
    arena_.push_back({pos, parent, h});
    return uint32_t(arena_.size() - 1);
}

bool GrammarMatcher::same_stack(uint32_t a, uint32_t b) const {
    if (a == b) return true;
    if (a == kDone || b == kDone) return false;
    if (arena_[a].hash != arena_[b].hash) return false;
    while (a != b) {
        if (a == kNone || b == kNone || arena_[a].pos != arena_[b].pos) return false;
        a = arena_[a].parent;
        b = arena_[b].parent;
    }
    return true;
}

void GrammarMatcher::add_top(std::vector<uint32_t>& out, size_t begin, uint32_t top) {
    for (size_t k = begin; k < out.size(); ++k) {
        if (same_stack(out[k], top)) return;
    }
    out.push_back(top);
    if (out.size() - begin > max_stacks_) {
        throw GrammarError("grammar: more than " + std::to_string(max_stacks_) +
                           " parses are open at once (the grammar is too ambiguous)");
    }
}

void GrammarMatcher::settle(uint32_t pos, uint32_t parent, std::vector<uint32_t>& out, size_t begin) {
    const auto& el = g_->elements;
    work_.clear();
    work_.push_back({pos, parent});
    size_t steps = 0;
    while (!work_.empty()) {
        auto [p, par] = work_.back();
        work_.pop_back();
        for (;;) {
            if (++steps > kMaxSettleSteps) throw GrammarError("grammar: expanding the rules took too many steps");
            const GrammarElement e = el[p];
            if (e.op == GrammarOp::kChar) {
                add_top(out, begin, make(p, par));
                break;
            }
            if (e.op == GrammarOp::kEnd) {
                if (par == kNone) {
                    add_top(out, begin, kDone);
                    break;
                }
                p = arena_[par].pos;
                par = arena_[par].parent;
                continue;
            }
            const uint32_t cont = el[p + 1].op == GrammarOp::kEnd ? par : make(p + 1, par);
            const auto& alts = g_->rule_alts[e.arg];
            for (size_t a = alts.size(); a-- > 0;) work_.push_back({alts[a], cont});
            break;
        }
    }
}

bool GrammarMatcher::feed(uint8_t byte, Utf8& utf8, std::vector<uint32_t>& buf, size_t b, size_t e, bool& advanced) {
    advanced = false;
    uint32_t cp = 0;
    if (utf8.need == 0) {
        if (byte < 0x80) {
            cp = byte;
        } else if ((byte >> 5) == 6) {
            utf8 = {uint32_t(byte & 0x1F), 1, 2};
        } else if ((byte >> 4) == 14) {
            utf8 = {uint32_t(byte & 0x0F), 2, 3};
        } else if ((byte >> 3) == 30) {
            utf8 = {uint32_t(byte & 0x07), 3, 4};
        } else {
            return false;
        }
    } else {
        if ((byte >> 6) != 2) return false;
        utf8.cp = (utf8.cp << 6) | (byte & 0x3Fu);
        --utf8.need;
        if (utf8.need == 0) {
            static const uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
            cp = utf8.cp;
            if (cp < kMin[utf8.len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        }
    }
    if (utf8.need > 0) {
        // Inside a code point: go on only if some stack could take a code point that
        // starts with these bytes.
        const uint32_t shift = 6u * utf8.need;
        const uint32_t lo = utf8.cp << shift, hi = lo | ((1u << shift) - 1);
        for (size_t k = b; k < e; ++k) {
            if (buf[k] == kDone) continue;
            const CharClass& cls = g_->classes[g_->elements[arena_[buf[k]].pos].arg];
            if (cls.intersects(lo, hi)) return true;
        }
        return false;
    }
    utf8 = {};
    advanced = true;
    const size_t out_begin = buf.size();
    for (size_t k = b; k < e; ++k) {
        const uint32_t top = buf[k];
        if (top == kDone) continue;
        const Node node = arena_[top];
        if (g_->classes[g_->elements[node.pos].arg].contains(cp)) settle(node.pos + 1, node.parent, buf, out_begin);
    }
    return buf.size() > out_begin;
}

bool GrammarMatcher::feed_all(std::string_view bytes, std::vector<uint32_t>& tops, Utf8& utf8) {
    scratch_ = tops;
    size_t b = 0, e = scratch_.size();
    for (char c : bytes) {
        bool advanced = false;
        if (!feed(uint8_t(c), utf8, scratch_, b, e, advanced)) return false;
        if (advanced) {
            b = e;
            e = scratch_.size();
        }
    }
    tops.assign(scratch_.begin() + ptrdiff_t(b), scratch_.begin() + ptrdiff_t(e));
    return true;
}

bool GrammarMatcher::accept(std::string_view bytes) {
    const size_t mark = arena_.size();
    std::vector<uint32_t> tops = tops_;
    Utf8 utf8 = utf8_;
    if (!feed_all(bytes, tops, utf8)) {
        arena_.resize(mark);
        return false;
    }
    tops_ = std::move(tops);
    utf8_ = utf8;
    collect_garbage();
    return true;
}

bool GrammarMatcher::allows(std::string_view bytes) {
    const size_t mark = arena_.size();
    std::vector<uint32_t> tops = tops_;
    Utf8 utf8 = utf8_;
    const bool ok = feed_all(bytes, tops, utf8);
    arena_.resize(mark);
    return ok;
}

bool GrammarMatcher::is_complete() const {
    if (utf8_.need != 0) return false;
    for (uint32_t t : tops_) {
        if (t == kDone) return true;
    }
    return false;
}

bool GrammarMatcher::can_continue() const {
    for (uint32_t t : tops_) {
        if (t != kDone) return true;
    }
    return false;
}

// Copies the nodes the current stacks use into a fresh arena.
void GrammarMatcher::collect_garbage() {
    std::vector<Node> fresh;
    std::vector<uint32_t> remap(arena_.size(), kNone);
    std::vector<uint32_t> chain;
    for (uint32_t& top : tops_) {
        if (top == kDone) continue;
        chain.clear();
        for (uint32_t n = top; n != kNone && remap[n] == kNone; n = arena_[n].parent) chain.push_back(n);
        for (size_t k = chain.size(); k-- > 0;) {
            const Node& old = arena_[chain[k]];
            const uint32_t parent = old.parent == kNone ? kNone : remap[old.parent];
            fresh.push_back({old.pos, parent, old.hash});
            remap[chain[k]] = uint32_t(fresh.size() - 1);
        }
        top = remap[top];
    }
    arena_ = std::move(fresh);
}

void GrammarMatcher::allowed_tokens(const TokenTrie& trie, std::vector<uint8_t>& mask) {
    struct Level {
        size_t b, e;          // this level's stacks in scratch_
        size_t buf_end;       // scratch_ size after this level
        size_t arena_end;     // arena size after this level
        Utf8 utf8;
    };
    std::vector<Level> levels(size_t(trie.max_depth) + 1);
    const size_t arena_mark = arena_.size();
    scratch_ = tops_;
    levels[0] = {0, scratch_.size(), scratch_.size(), arena_mark, utf8_};
    const uint32_t n_nodes = uint32_t(trie.nodes.size());
    for (uint32_t i = 0; i < n_nodes;) {
        const TokenTrie::Node& n = trie.nodes[i];
        const Level& up = levels[n.depth - 1];
        scratch_.resize(up.buf_end);
        arena_.resize(up.arena_end);
        Level cur = up;
        bool advanced = false;
        if (!feed(n.byte, cur.utf8, scratch_, up.b, up.e, advanced)) {
            i = n.subtree_end;
            continue;
        }
        if (advanced) {
            cur.b = up.buf_end;
            cur.e = scratch_.size();
        }
        for (uint32_t t = n.tok_begin; t < n.tok_end; ++t) mask[size_t(trie.token_ids[t])] = 1;
        bool deeper = false;
        for (size_t k = cur.b; k < cur.e && !deeper; ++k) deeper = scratch_[k] != kDone;
        if (!deeper) {
            i = n.subtree_end;
            continue;
        }
        cur.buf_end = scratch_.size();
        cur.arena_end = arena_.size();
        levels[n.depth] = cur;
        ++i;
    }
    arena_.resize(arena_mark);
}

}  // namespace mmojo
