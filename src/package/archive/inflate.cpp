// DEFLATE decoder (RFC 1951 section 3.2). Huffman codes are decoded canonically one bit at
// a time: for each code length L, codes of that length form a contiguous range starting at
// first[L], so a code is found by extending it bit by bit and checking whether it falls in
// the range of the current length. Every read is bounds checked; output is capped at the
// expected size so a corrupt stream can never grow memory beyond what the caller allowed.
#include <array>
#include <cstring>

#include "package/archive/deflate.h"

namespace mmojo {
namespace {

constexpr int kMaxBits = 15;

// Base values and extra-bit counts for length codes 257..285 and distance codes 0..29
// (RFC 1951 section 3.2.5).
struct LengthTables {
    std::array<uint16_t, 29> len_base{};
    std::array<uint8_t, 29> len_extra{};
    std::array<uint32_t, 30> dist_base{};
    std::array<uint8_t, 30> dist_extra{};
    LengthTables() {
        uint16_t base = 3;
        for (int i = 0; i < 28; ++i) {
            const int extra = i < 8 ? 0 : (i - 4) / 4;
            len_base[i] = base;
            len_extra[i] = uint8_t(extra);
            base = uint16_t(base + (1 << extra));
        }
        len_base[28] = 258;
        len_extra[28] = 0;
        uint32_t dbase = 1;
        for (int i = 0; i < 30; ++i) {
            const int extra = i < 4 ? 0 : (i - 2) / 2;
            dist_base[i] = dbase;
            dist_extra[i] = uint8_t(extra);
            dbase += 1u << extra;
        }
    }
};

const LengthTables& length_tables() {
    static const LengthTables t;
    return t;
}

class BitReader {
public:
    BitReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}

    uint32_t bits(int n) {  // n <= 16, LSB first
        while (count_ < n) {
            if (pos_ >= size_) fail("compressed data ends in the middle of a block");
            buffer_ |= uint32_t(data_[pos_++]) << count_;
            count_ += 8;
        }
        const uint32_t v = buffer_ & ((1u << n) - 1);
        buffer_ >>= n;
        count_ -= n;
        return v;
    }
    void align_to_byte() {
        buffer_ = 0;
        count_ = 0;
    }
    size_t byte_pos() const { return pos_; }
    const uint8_t* take_bytes(size_t n) {
        if (size_ - pos_ < n) fail("stored block runs past the end of the compressed data");
        const uint8_t* p = data_ + pos_;
        pos_ += n;
        return p;
    }
    [[noreturn]] void fail(const std::string& why) const {
        throw DeflateError("inflate: " + why + " (at compressed byte " + std::to_string(pos_) +
                           ")");
    }

private:
    const uint8_t* data_;
    size_t size_;
    size_t pos_ = 0;
    uint32_t buffer_ = 0;
    int count_ = 0;
};

// Canonical Huffman decoding table: count of codes per length and symbols sorted by code.
struct Huffman {
    std::array<uint16_t, kMaxBits + 1> count{};
    std::array<uint16_t, 288> symbol{};
    bool empty = true;

    // Builds the code from per-symbol lengths; rejects over-subscribed sets. Incomplete
    // sets are accepted (RFC 1951 allows a single distance code); an unused code then fails
    // at decode time.
    void build(const uint8_t* lengths, int n, BitReader& in, const char* what) {
        count.fill(0);
        for (int s = 0; s < n; ++s) ++count[lengths[s]];
        std::array<uint16_t, kMaxBits + 2> offset{};
        int left = 1;
        for (int len = 1; len <= kMaxBits; ++len) {
            left <<= 1;
            left -= count[len];
            if (left < 0) in.fail(std::string("over-subscribed ") + what + " code lengths");
        }
        empty = count[0] == n;
        offset[1] = 0;
        for (int len = 1; len <= kMaxBits; ++len) offset[len + 1] = uint16_t(offset[len] + count[len]);
        for (int s = 0; s < n; ++s) {
            if (lengths[s] != 0) symbol[offset[lengths[s]]++] = uint16_t(s);
        }
    }

    int decode(BitReader& in, const char* what) const {
        int code = 0;   // bits read so far, MSB first
        int first = 0;  // first code of the current length
        int index = 0;  // index of that first code in `symbol`
        for (int len = 1; len <= kMaxBits; ++len) {
            code |= int(in.bits(1));
            const int n = count[len];
            if (code - first < n) return symbol[index + (code - first)];
            index += n;
            first = (first + n) << 1;
            code <<= 1;
        }
        in.fail(std::string("invalid ") + what + " code");
    }
};

class Inflater {
public:
    Inflater(const uint8_t* data, size_t size, uint64_t expected)
        : in_(data, size), expected_(expected) {
        out_.reserve(size_t(expected));
    }

    std::vector<uint8_t> run() {
        bool last = false;
        while (!last) {
            last = in_.bits(1) != 0;
            const uint32_t type = in_.bits(2);
            if (type == 0) {
                stored_block();
            } else if (type == 1) {
                fixed_block();
            } else if (type == 2) {
                dynamic_block();
            } else {
                in_.fail("invalid block type 3");
            }
        }
        if (out_.size() != expected_) {
            in_.fail("stream ends after " + std::to_string(out_.size()) + " bytes but " +
                     std::to_string(expected_) + " were expected");
        }
        return std::move(out_);
    }

private:
    void room(uint64_t n) {
        if (n > expected_ - out_.size()) {
            in_.fail("output exceeds the expected size of " + std::to_string(expected_) +
                     " bytes");
        }
    }

    void stored_block() {
        in_.align_to_byte();
        const uint8_t* h = in_.take_bytes(4);
        const uint16_t len = uint16_t(h[0] | h[1] << 8);
        const uint16_t nlen = uint16_t(h[2] | h[3] << 8);
        if (uint16_t(~nlen) != len) in_.fail("stored block length does not match its complement");
        room(len);
        const uint8_t* p = in_.take_bytes(len);
        if (len == 0) return;
        const size_t at = out_.size();
        out_.resize(at + len);
        std::memcpy(out_.data() + at, p, len);
    }

    void fixed_block() {
        static const auto tables = [] {
            std::array<uint8_t, 288 + 30> l{};
            for (int i = 0; i < 144; ++i) l[i] = 8;
            for (int i = 144; i < 256; ++i) l[i] = 9;
            for (int i = 256; i < 280; ++i) l[i] = 7;
            for (int i = 280; i < 288; ++i) l[i] = 8;
            for (int i = 0; i < 30; ++i) l[288 + i] = 5;
            return l;
        }();
        Huffman lit, dist;
        lit.build(tables.data(), 288, in_, "literal/length");
        dist.build(tables.data() + 288, 30, in_, "distance");
        codes(lit, dist);
    }

    void dynamic_block() {
        const int hlit = int(in_.bits(5)) + 257;
        const int hdist = int(in_.bits(5)) + 1;
        const int hclen = int(in_.bits(4)) + 4;
        if (hlit > 286) in_.fail("too many literal/length codes (" + std::to_string(hlit) + ")");
        if (hdist > 30) in_.fail("too many distance codes (" + std::to_string(hdist) + ")");
        static constexpr uint8_t kOrder[19] = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                               11, 4,  12, 3, 13, 2, 14, 1, 15};
        std::array<uint8_t, 19> cl{};
        for (int i = 0; i < hclen; ++i) cl[kOrder[i]] = uint8_t(in_.bits(3));
        Huffman clcode;
        clcode.build(cl.data(), 19, in_, "code-length");
        std::array<uint8_t, 286 + 30> lengths{};
        int n = 0;
        while (n < hlit + hdist) {
            const int sym = clcode.decode(in_, "code-length");
            if (sym < 16) {
                lengths[n++] = uint8_t(sym);
                continue;
            }
            int repeat = 0;
            uint8_t value = 0;
            if (sym == 16) {
                if (n == 0) in_.fail("code-length repeat with no previous length");
                value = lengths[n - 1];
                repeat = 3 + int(in_.bits(2));
            } else if (sym == 17) {
                repeat = 3 + int(in_.bits(3));
            } else {
                repeat = 11 + int(in_.bits(7));
            }
            if (n + repeat > hlit + hdist) in_.fail("code-length repeat runs past the last code");
            for (int k = 0; k < repeat; ++k) lengths[n++] = value;
        }
        if (lengths[256] == 0) in_.fail("dynamic block has no end-of-block code");
        Huffman lit, dist;
        lit.build(lengths.data(), hlit, in_, "literal/length");
        dist.build(lengths.data() + hlit, hdist, in_, "distance");
        codes(lit, dist);
    }

    void codes(const Huffman& lit, const Huffman& dist) {
        const LengthTables& t = length_tables();
        for (;;) {
            const int sym = lit.decode(in_, "literal/length");
            if (sym < 256) {
                room(1);
                out_.push_back(uint8_t(sym));
                continue;
            }
            if (sym == 256) return;
            const int li = sym - 257;
            if (li >= 29) in_.fail("invalid length symbol " + std::to_string(sym));
            const uint32_t len = t.len_base[li] + in_.bits(t.len_extra[li]);
            if (dist.empty) in_.fail("length code in a block without distance codes");
            const int ds = dist.decode(in_, "distance");
            if (ds >= 30) in_.fail("invalid distance symbol " + std::to_string(ds));
            const uint32_t d = t.dist_base[ds] + in_.bits(t.dist_extra[ds]);
            if (d > out_.size()) {
                in_.fail("distance " + std::to_string(d) + " reaches before the start of output (" +
                         std::to_string(out_.size()) + " bytes so far)");
            }
            room(len);
            size_t from = out_.size() - d;
            for (uint32_t k = 0; k < len; ++k) out_.push_back(out_[from++]);
        }
    }

    BitReader in_;
    uint64_t expected_;
    std::vector<uint8_t> out_;
};

}  // namespace

std::vector<uint8_t> inflate_raw(const uint8_t* data, size_t size, uint64_t expected_size) {
    if (expected_size > SIZE_MAX / 2) {
        throw DeflateError("inflate: expected size " + std::to_string(expected_size) +
                           " does not fit in memory");
    }
    return Inflater(data, size, expected_size).run();
}

std::vector<uint8_t> gzip_wrap_deflate(const uint8_t* deflated, size_t size, uint32_t crc32,
                                       uint64_t uncompressed_size) {
    // ID1 ID2 CM=8 FLG=0 MTIME=0 XFL=0 OS=255 (unknown), the stream, then CRC and ISIZE.
    std::vector<uint8_t> out(size + 18, 0);
    out[0] = 0x1f;
    out[1] = 0x8b;
    out[2] = 8;
    out[9] = 0xff;
    if (size > 0) std::memcpy(out.data() + 10, deflated, size);
    out.resize(10 + size);
    const uint32_t isize = uint32_t(uncompressed_size & 0xFFFFFFFFu);
    for (int i = 0; i < 4; ++i) out.push_back(uint8_t(crc32 >> (8 * i)));
    for (int i = 0; i < 4; ++i) out.push_back(uint8_t(isize >> (8 * i)));
    return out;
}

}  // namespace mmojo
