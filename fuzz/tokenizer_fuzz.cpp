// Fuzz target of the tokenizers: arbitrary bytes (usually malformed UTF-8) through SPM,
// byte-level BPE under every pre-tokenizer, and WordPiece, built from small synthetic
// vocabularies. Input: byte 0 picks the tokenizer, byte 1 the add_special/parse_special
// flags, the rest is the text. Every id must be inside the vocabulary and decoding must
// succeed; any exception is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "gguf/gguf_writer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace {

const char* const kPres[] = {"default", "llama3", "qwen2", "deepseek-llm", "deepseek-coder",
                             "falcon", "starcoder", "gpt-2", "tekken", "gpt-4o", "bloom",
                             "viking", "command-r"};
constexpr size_t kNumPres = sizeof(kPres) / sizeof(kPres[0]);

struct Built {
    std::vector<uint8_t> bytes;  // the GGUF image the GgufFile points into
    std::unique_ptr<mmojo::Tokenizer> tok;
};

Built build(const mmojo::GgufWriter& w) {
    Built b;
    b.bytes = w.to_bytes();
    const mmojo::GgufFile file = mmojo::GgufFile::parse(b.bytes.data(), b.bytes.size(), "fuzz");
    b.tok = mmojo::Tokenizer::from_gguf(file);
    return b;
}

const std::vector<std::string> kSpecials = {"<s>", "</s>", "<|im_end|>", "<|endoftext|>"};

Built make_spm() {
    std::vector<std::string> tokens = {"<unk>", "<s>", "</s>", "<|im_end|>"};
    std::vector<int32_t> types = {2, 3, 3, 4};
    static const char* const kHex = "0123456789ABCDEF";
    for (int b = 0; b < 256; ++b) {
        tokens.push_back(std::string("<0x") + kHex[b >> 4] + kHex[b & 15] + ">");
        types.push_back(6);
    }
    for (const char* t : {"\xE2\x96\x81", "a", "b", "ab", "\xE2\x96\x81" "a", "\xC3\xA9", " "}) {
        tokens.push_back(t);
        types.push_back(1);
    }
    std::vector<float> scores(tokens.size());
    for (size_t i = 0; i < scores.size(); ++i) scores[i] = -float(i % 7);
    mmojo::GgufWriter w;
    w.set_string("tokenizer.ggml.model", "llama");
    w.set_string("general.name", "phi3 fuzz");  // turns on the rstrip rules
    w.set_string_array("tokenizer.ggml.tokens", tokens);
    w.set_f32_array("tokenizer.ggml.scores", scores);
    w.set_i32_array("tokenizer.ggml.token_type", types);
    return build(w);
}

Built make_bpe(const char* pre) {
    std::vector<std::string> tokens;
    std::vector<int32_t> types;
    for (int b = 0; b < 256; ++b) {
        tokens.push_back(mmojo::unicode::to_utf8(mmojo::unicode::byte_to_codepoint(uint8_t(b))));
        types.push_back(1);
    }
    const std::vector<std::string> merges = {"\xC4\xA0 t", "t h", "th e", "\xC4\xA0 a", "e r",
                                             "\xC4\xA0t he", "1 2", "12 3", "\xC4\x8A \xC4\x8A"};
    for (const std::string& m : merges) {
        const size_t sp = m.find(' ');
        tokens.push_back(m.substr(0, sp) + m.substr(sp + 1));
        types.push_back(1);
    }
    for (const std::string& s : kSpecials) {
        tokens.push_back(s);
        types.push_back(3);
    }
    tokens.push_back("  ");  // user-defined, split even without parse_special
    types.push_back(4);
    mmojo::GgufWriter w;
    w.set_string("tokenizer.ggml.model", "gpt2");
    w.set_string("tokenizer.ggml.pre", pre);
    w.set_string_array("tokenizer.ggml.tokens", tokens);
    w.set_i32_array("tokenizer.ggml.token_type", types);
    w.set_string_array("tokenizer.ggml.merges", merges);
    w.set_bool("tokenizer.ggml.add_eos_token", true);
    w.set_u32("tokenizer.ggml.eos_token_id", uint32_t(tokens.size() - 2));
    return build(w);
}

Built make_wpm() {
    std::vector<std::string> tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "\xE2\x96\x81" "a",
                                       "b", "\xE2\x96\x81" "ab", "\xE2\x96\x81" ",",
                                       "\xE2\x96\x81" "\xE4\xB8\x80", "##"};
    std::vector<int32_t> types = {3, 3, 3, 3, 1, 1, 1, 1, 1, 1};
    mmojo::GgufWriter w;
    w.set_string("tokenizer.ggml.model", "bert");
    w.set_string_array("tokenizer.ggml.tokens", tokens);
    w.set_i32_array("tokenizer.ggml.token_type", types);
    w.set_u32("tokenizer.ggml.unknown_token_id", 1);
    w.set_u32("tokenizer.ggml.bos_token_id", 2);
    w.set_u32("tokenizer.ggml.seperator_token_id", 3);
    return build(w);
}

const std::vector<Built>& tokenizers() {
    static const std::vector<Built> all = [] {
        std::vector<Built> v;
        v.push_back(make_spm());
        v.push_back(make_wpm());
        for (const char* pre : kPres) v.push_back(make_bpe(pre));
        return v;
    }();
    return all;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) return 0;
    const auto& all = tokenizers();
    const mmojo::Tokenizer& tok = *all[data[0] % all.size()].tok;
    const bool add_special = data[1] & 1, parse_special = data[1] & 2;
    const std::string text(reinterpret_cast<const char*>(data + 2), size - 2);
    try {
        const std::vector<mmojo::TokenId> ids = tok.encode(text, add_special, parse_special);
        for (mmojo::TokenId id : ids) {
            if (id < 0 || id >= tok.n_vocab()) {
                std::fprintf(stderr, "token id %d outside [0, %d)\n", id, tok.n_vocab());
                std::abort();
            }
        }
        (void)tok.decode(ids, data[1] & 4);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "unexpected exception: %s\n", e.what());
        std::abort();
    }
    return 0;
}
