// DEFLATE encoder (RFC 1951). LZ77 over a 32 KiB window with hash chains on 3-byte
// prefixes and one-step lazy matching produces tokens (literals and length/distance
// pairs); every 16384 tokens form a block coded with fixed or dynamic Huffman codes,
// whichever is smaller. Dynamic code lengths come from a plain Huffman tree, limited to
// 15 bits (7 for the code-length code) by halving the frequencies until the tree fits.
// Ties are broken by symbol number, so the output is deterministic.
#include <algorithm>
#include <array>
#include <queue>

#include "package/archive/deflate.h"

namespace mmojo {
namespace {

constexpr size_t kWindow = 32768;
constexpr int kMinMatch = 3;
constexpr int kMaxMatch = 258;
constexpr int kHashBits = 15;
constexpr int kMaxChain = 128;
constexpr size_t kBlockTokens = 16384;

struct Token {
    uint16_t length;    // 0 = literal
    uint16_t value;     // literal byte or distance
};

// Length code (257..285) and extra bits of a match length 3..258; same for distances.
struct CodeTables {
    std::array<uint16_t, 259> len_code{};
    std::array<uint8_t, 29> len_extra{};
    std::array<uint16_t, 29> len_base{};
    std::array<uint8_t, 30> dist_extra{};
    std::array<uint32_t, 30> dist_base{};
    CodeTables() {
        uint16_t base = 3;
        for (int i = 0; i < 28; ++i) {
            len_extra[i] = uint8_t(i < 8 ? 0 : (i - 4) / 4);
            len_base[i] = base;
            base = uint16_t(base + (1 << len_extra[i]));
        }
        len_extra[28] = 0;
        len_base[28] = 258;
        for (int len = 3; len <= 258; ++len) {
            int c = 27;
            while (c > 0 && len_base[c] > len) --c;
            len_code[len] = uint16_t(len == 258 ? 285 : 257 + c);
        }
        uint32_t dbase = 1;
        for (int i = 0; i < 30; ++i) {
            dist_extra[i] = uint8_t(i < 4 ? 0 : (i - 2) / 2);
            dist_base[i] = dbase;
            dbase += 1u << dist_extra[i];
        }
    }
    int dist_code(uint32_t d) const {
        int c = 29;
        while (dist_base[c] > d) --c;
        return c;
    }
};

const CodeTables& code_tables() {
    static const CodeTables t;
    return t;
}

class BitWriter {
public:
    void put(uint32_t value, int n) {  // LSB first, n <= 24
        buffer_ |= uint64_t(value) << count_;
        count_ += n;
        while (count_ >= 8) {
            out_.push_back(uint8_t(buffer_));
            buffer_ >>= 8;
            count_ -= 8;
        }
    }
    void put_code(uint32_t code, int len) {  // Huffman codes go MSB first
        uint32_t r = 0;
        for (int i = 0; i < len; ++i) r |= ((code >> i) & 1u) << (len - 1 - i);
        put(r, len);
    }
    std::vector<uint8_t> finish() {
        if (count_ > 0) out_.push_back(uint8_t(buffer_));
        buffer_ = 0;
        count_ = 0;
        return std::move(out_);
    }

private:
    std::vector<uint8_t> out_;
    uint64_t buffer_ = 0;
    int count_ = 0;
};

// Code lengths of a Huffman code for `freq`, none longer than `limit`. Symbols with zero
// frequency get length 0. At least two symbols are always given a code so the code is
// complete (some decoders reject a lone 1-bit code).
std::vector<uint8_t> huffman_lengths(std::vector<uint32_t> freq, int limit) {
    const int n = int(freq.size());
    int used = 0;
    for (uint32_t f : freq) used += f != 0;
    for (int s = 0; used < 2 && s < n; ++s) {
        if (freq[s] == 0) {
            freq[s] = 1;
            ++used;
        }
    }
    for (;;) {
        // Nodes 0..n-1 are leaves; internal nodes follow. Min-heap on (weight, node id).
        std::vector<uint64_t> weight(freq.begin(), freq.end());
        std::vector<int> parent(size_t(n), -1);
        using Item = std::pair<uint64_t, int>;
        std::priority_queue<Item, std::vector<Item>, std::greater<Item>> heap;
        for (int s = 0; s < n; ++s) {
            if (freq[s] != 0) heap.push({freq[s], s});
        }
        while (heap.size() > 1) {
            const Item a = heap.top();
            heap.pop();
            const Item b = heap.top();
            heap.pop();
            const int id = int(weight.size());
            weight.push_back(a.first + b.first);
            parent.push_back(-1);
            parent[size_t(a.second)] = id;
            parent[size_t(b.second)] = id;
            heap.push({a.first + b.first, id});
        }
        std::vector<int> depth(weight.size(), 0);
        for (int id = int(weight.size()) - 1; id >= 0; --id) {
            if (parent[size_t(id)] >= 0) depth[size_t(id)] = depth[size_t(parent[size_t(id)])] + 1;
        }
        std::vector<uint8_t> lengths(size_t(n), 0);
        int max_len = 0;
        for (int s = 0; s < n; ++s) {
            if (freq[s] != 0) {
                lengths[size_t(s)] = uint8_t(std::min(depth[size_t(s)], 255));
                max_len = std::max(max_len, depth[size_t(s)]);
            }
        }
        if (max_len <= limit) return lengths;
        for (uint32_t& f : freq) {
            if (f != 0) f = (f + 1) / 2;
        }
    }
}

// Canonical codes from lengths (RFC 1951 section 3.2.2).
std::vector<uint32_t> canonical_codes(const std::vector<uint8_t>& lengths) {
    std::array<uint32_t, 16> count{}, next{};
    for (uint8_t l : lengths) ++count[l];
    count[0] = 0;
    uint32_t code = 0;
    for (int bits = 1; bits <= 15; ++bits) {
        code = (code + count[bits - 1]) << 1;
        next[bits] = code;
    }
    std::vector<uint32_t> codes(lengths.size(), 0);
    for (size_t s = 0; s < lengths.size(); ++s) {
        if (lengths[s] != 0) codes[s] = next[lengths[s]]++;
    }
    return codes;
}

struct CodeLengthItem {
    uint8_t symbol;  // 0..18
    uint8_t extra;   // value of the extra bits
};

// Run-length codes for the concatenated literal/length and distance code lengths.
std::vector<CodeLengthItem> rle_lengths(const std::vector<uint8_t>& all) {
    std::vector<CodeLengthItem> items;
    size_t i = 0;
    while (i < all.size()) {
        const uint8_t v = all[i];
        size_t run = 1;
        while (i + run < all.size() && all[i + run] == v) ++run;
        if (v == 0) {
            size_t left = run;
            while (left >= 11) {
                const size_t r = std::min<size_t>(left, 138);
                items.push_back({18, uint8_t(r - 11)});
                left -= r;
            }
            if (left >= 3) {
                items.push_back({17, uint8_t(left - 3)});
                left = 0;
            }
            while (left-- > 0) items.push_back({0, 0});
        } else {
            items.push_back({v, 0});
            size_t left = run - 1;
            while (left >= 3) {
                const size_t r = std::min<size_t>(left, 6);
                items.push_back({16, uint8_t(r - 3)});
                left -= r;
            }
            while (left-- > 0) items.push_back({v, 0});
        }
        i += run;
    }
    return items;
}

class Encoder {
public:
    Encoder(const uint8_t* data, size_t size) : data_(data), size_(size) {}

    std::vector<uint8_t> run() {
        if (size_ == 0) {
            // One final fixed block holding only end-of-block (code 0000000).
            out_.put(1, 1);
            out_.put(1, 2);
            out_.put(0, 7);
            return out_.finish();
        }
        head_.assign(size_t(1) << kHashBits, -1);
        prev_.assign(kWindow, -1);
        std::vector<Token> tokens;
        tokens.reserve(kBlockTokens);
        size_t pos = 0;
        while (pos < size_) {
            int len = 0;
            uint32_t dist = 0;
            find_match(pos, len, dist);
            if (len >= kMinMatch && pos + 1 < size_) {
                insert(pos);
                int len2 = 0;
                uint32_t dist2 = 0;
                find_match(pos + 1, len2, dist2);
                if (len2 > len) {  // lazy: a literal now buys a longer match next
                    tokens.push_back({0, data_[pos]});
                    ++pos;
                    len = len2;
                    dist = dist2;
                }
                tokens.push_back({uint16_t(len), uint16_t(dist)});
                for (size_t k = 0; k < size_t(len); ++k) insert(pos + k);
                pos += size_t(len);
            } else {
                insert(pos);
                tokens.push_back({0, data_[pos]});
                ++pos;
            }
            if (tokens.size() >= kBlockTokens) {
                write_block(tokens, pos >= size_);
                tokens.clear();
            }
        }
        if (!tokens.empty()) write_block(tokens, true);
        return out_.finish();
    }

private:
    uint32_t hash(size_t pos) const {
        const uint32_t v = uint32_t(data_[pos]) | uint32_t(data_[pos + 1]) << 8 |
                           uint32_t(data_[pos + 2]) << 16;
        return (v * 2654435761u) >> (32 - kHashBits);
    }

    // Adds `pos` to its hash chain once (inserting twice would make the chain a loop).
    void insert(size_t pos) {
        if (pos + kMinMatch > size_ || int64_t(pos) < next_insert_) return;
        const uint32_t h = hash(pos);
        prev_[pos % kWindow] = head_[h];
        head_[h] = int64_t(pos);
        next_insert_ = int64_t(pos) + 1;
    }

    void find_match(size_t pos, int& best_len, uint32_t& best_dist) const {
        best_len = 0;
        best_dist = 0;
        if (pos + kMinMatch > size_) return;
        const int max_len = int(std::min<size_t>(kMaxMatch, size_ - pos));
        int64_t cand = head_[hash(pos)];
        // The chain may contain `pos` itself when it was inserted already; skip it.
        if (cand == int64_t(pos)) cand = prev_[pos % kWindow];
        for (int chain = 0; chain < kMaxChain && cand >= 0; ++chain) {
            const size_t c = size_t(cand);
            if (c >= pos || pos - c > kWindow - 1) break;
            if (data_[c + size_t(best_len)] == data_[pos + size_t(best_len)] || best_len == 0) {
                int l = 0;
                while (l < max_len && data_[c + size_t(l)] == data_[pos + size_t(l)]) ++l;
                if (l > best_len) {
                    best_len = l;
                    best_dist = uint32_t(pos - c);
                    if (l == max_len) break;
                }
            }
            const int64_t next = prev_[c % kWindow];
            if (next >= cand) break;  // slot reused by a newer position: chain ends
            cand = next;
        }
        if (best_len < kMinMatch) best_len = 0;
    }

    void write_block(const std::vector<Token>& tokens, bool last) {
        const CodeTables& t = code_tables();
        std::vector<uint32_t> lit_freq(286, 0), dist_freq(30, 0);
        for (const Token& tk : tokens) {
            if (tk.length == 0) {
                ++lit_freq[tk.value];
            } else {
                ++lit_freq[t.len_code[tk.length]];
                ++dist_freq[size_t(t.dist_code(tk.value))];
            }
        }
        lit_freq[256] = 1;
        std::vector<uint8_t> lit_len = huffman_lengths(lit_freq, 15);
        std::vector<uint8_t> dist_len = huffman_lengths(dist_freq, 15);
        int hlit = 286;
        while (hlit > 257 && lit_len[size_t(hlit - 1)] == 0) --hlit;
        int hdist = 30;
        while (hdist > 1 && dist_len[size_t(hdist - 1)] == 0) --hdist;
        std::vector<uint8_t> all(lit_len.begin(), lit_len.begin() + hlit);
        all.insert(all.end(), dist_len.begin(), dist_len.begin() + hdist);
        const std::vector<CodeLengthItem> items = rle_lengths(all);
        std::vector<uint32_t> cl_freq(19, 0);
        for (const auto& it : items) ++cl_freq[it.symbol];
        const std::vector<uint8_t> cl_len = huffman_lengths(cl_freq, 7);
        static constexpr uint8_t kOrder[19] = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                               11, 4,  12, 3, 13, 2, 14, 1, 15};
        int hclen = 19;
        while (hclen > 4 && cl_len[kOrder[hclen - 1]] == 0) --hclen;

        // Fixed code lengths, for the size comparison and for coding.
        std::vector<uint8_t> fixed_lit(288), fixed_dist(30, 5);
        for (int i = 0; i < 288; ++i) fixed_lit[size_t(i)] = i < 144 ? 8 : i < 256 ? 9 : i < 280 ? 7 : 8;

        auto body_bits = [&](const std::vector<uint8_t>& ll, const std::vector<uint8_t>& dl) {
            uint64_t bits = ll[256];
            for (const Token& tk : tokens) {
                if (tk.length == 0) {
                    bits += ll[tk.value];
                } else {
                    const int lc = t.len_code[tk.length];
                    const int dc = t.dist_code(tk.value);
                    bits += ll[size_t(lc)] + t.len_extra[size_t(lc - 257)] + dl[size_t(dc)] +
                            t.dist_extra[size_t(dc)];
                }
            }
            return bits;
        };
        uint64_t dynamic_bits = 5 + 5 + 4 + 3 * uint64_t(hclen) + body_bits(lit_len, dist_len);
        for (const auto& it : items) {
            dynamic_bits += cl_len[it.symbol] + (it.symbol == 16 ? 2 : it.symbol == 17 ? 3 : it.symbol == 18 ? 7 : 0);
        }
        const uint64_t fixed_bits = body_bits(fixed_lit, fixed_dist);

        out_.put(last ? 1 : 0, 1);
        if (fixed_bits <= dynamic_bits) {
            out_.put(1, 2);
            write_tokens(tokens, fixed_lit, fixed_dist);
            return;
        }
        out_.put(2, 2);
        out_.put(uint32_t(hlit - 257), 5);
        out_.put(uint32_t(hdist - 1), 5);
        out_.put(uint32_t(hclen - 4), 4);
        for (int i = 0; i < hclen; ++i) out_.put(cl_len[kOrder[i]], 3);
        const std::vector<uint32_t> cl_codes = canonical_codes(cl_len);
        for (const auto& it : items) {
            out_.put_code(cl_codes[it.symbol], cl_len[it.symbol]);
            if (it.symbol == 16) out_.put(it.extra, 2);
            if (it.symbol == 17) out_.put(it.extra, 3);
            if (it.symbol == 18) out_.put(it.extra, 7);
        }
        write_tokens(tokens, lit_len, dist_len);
    }

    void write_tokens(const std::vector<Token>& tokens, const std::vector<uint8_t>& ll,
                      const std::vector<uint8_t>& dl) {
        const CodeTables& t = code_tables();
        const std::vector<uint32_t> lc = canonical_codes(ll);
        const std::vector<uint32_t> dc = canonical_codes(dl);
        for (const Token& tk : tokens) {
            if (tk.length == 0) {
                out_.put_code(lc[tk.value], ll[tk.value]);
                continue;
            }
            const int l = t.len_code[tk.length];
            out_.put_code(lc[size_t(l)], ll[size_t(l)]);
            out_.put(uint32_t(tk.length - t.len_base[size_t(l - 257)]), t.len_extra[size_t(l - 257)]);
            const int d = t.dist_code(tk.value);
            out_.put_code(dc[size_t(d)], dl[size_t(d)]);
            out_.put(tk.value - t.dist_base[size_t(d)], t.dist_extra[size_t(d)]);
        }
        out_.put_code(lc[256], ll[256]);
    }

    const uint8_t* data_;
    size_t size_;
    std::vector<int64_t> head_;
    std::vector<int64_t> prev_;
    int64_t next_insert_ = 0;
    BitWriter out_;
};

}  // namespace

std::vector<uint8_t> deflate_raw(const uint8_t* data, size_t size) {
    return Encoder(data, size).run();
}

}  // namespace mmojo
