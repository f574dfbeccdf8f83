// The input of one forward pass: tokens, each with its position in its sequence, the
// sequence it belongs to and whether its output (logits or hidden state) is wanted. Several
// sequences (server slots) go through one pass together (continuous batching). The runtime
// builds batches and splits them into passes (runtime/context.h).
#pragma once

#include <cstdint>
#include <vector>

namespace mmojo {

struct BatchEntry {
    int32_t token;
    int32_t pos;      // position within its sequence
    int32_t seq;      // sequence id, 0 .. n_seq-1
    bool output;      // compute logits (or embedding) for this entry
};

struct Batch {
    std::vector<BatchEntry> entries;
    void clear() { entries.clear(); }
    void add(int32_t token, int32_t pos, int32_t seq, bool output) {
        entries.push_back({token, pos, seq, output});
    }
};

}  // namespace mmojo
