// Fuzz target of request bodies: arbitrary bytes through what every POST route does first
// (parse_body: the nesting check, nlohmann's parser, "must be an object"), then the
// generation fields of both spellings (llama-server's and OpenAI's, parse_generation_params,
// whose logit_bias tokenizes its text entries), and the result printed back as JSON
// (generation_settings_json, dump_json: the recursion the depth check protects). An
// ApiError or a nlohmann::json exception (the router answers both with a 4xx) is the
// expected outcome for bad input; anything else is a bug.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "gguf/gguf_writer.h"
#include "server/api_types.h"
#include "server/errors.h"
#include "tokenizer/tokenizer.h"

namespace {

struct Vocab {
    std::vector<uint8_t> bytes;   // the GGUF image the tokenizer was read from
    std::unique_ptr<mmojo::Tokenizer> tok;
};

// A small SPM vocabulary (byte fallback, a few words, an end-of-turn token).
const Vocab& vocab() {
    static const Vocab v = [] {
        std::vector<std::string> tokens = {"<unk>", "<s>", "</s>", "<|im_end|>"};
        std::vector<int32_t> types = {2, 3, 3, 4};
        static const char* const kHex = "0123456789ABCDEF";
        for (int b = 0; b < 256; ++b) {
            tokens.push_back(std::string("<0x") + kHex[b >> 4] + kHex[b & 15] + ">");
            types.push_back(6);
        }
        for (const char* t : {"\xE2\x96\x81", "a", "b", "ab", "\xE2\x96\x81" "hello", "stop"}) {
            tokens.push_back(t);
            types.push_back(1);
        }
        std::vector<float> scores(tokens.size(), -1.0f);
        mmojo::GgufWriter w;
        w.set_string("tokenizer.ggml.model", "llama");
        w.set_string_array("tokenizer.ggml.tokens", tokens);
        w.set_f32_array("tokenizer.ggml.scores", scores);
        w.set_i32_array("tokenizer.ggml.token_type", types);
        Vocab out;
        out.bytes = w.to_bytes();
        const mmojo::GgufFile file = mmojo::GgufFile::parse(out.bytes.data(), out.bytes.size(), "fuzz");
        out.tok = mmojo::Tokenizer::from_gguf(file);
        return out;
    }();
    return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > 256 * 1024) return 0;   // bodies this size only slow the search down
    const std::string text(reinterpret_cast<const char*>(data), size);
    const mmojo::GenerationParams defaults;
    for (bool openai : {false, true}) {
        try {
            const nlohmann::json body = mmojo::parse_body(text);
            const mmojo::GenerationParams params =
                mmojo::parse_generation_params(body, defaults, openai, *vocab().tok);
            (void)mmojo::dump_json(mmojo::generation_settings_json(params));
            (void)mmojo::dump_json(body);
        } catch (const mmojo::ApiError&) {
        } catch (const nlohmann::json::exception&) {
        }
    }
    return 0;
}
