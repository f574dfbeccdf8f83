// Gemma 4 (dense: E2B, E4B, 31B), as the "gemma4" GGUF files carry it and llama.cpp runs
// it. The Gemma 3 block (gemma2.cpp) with these changes:
//
//   x_0 = E[token] * sqrt(n_embd)
//   per-layer inputs (when embedding_length_per_layer_input P > 0), for block l:
//     e_l = (RMSNorm((W_plmp x_0)_l / sqrt(n_embd)) * g_pl + E_pl[token]_l * sqrt(P)) / sqrt(2)
//   block l:
//     n = RMSNorm(x_l) * g_attn
//     q = RoPE_l(RMSNorm_head(W_q n) * g_q)
//     k = RoPE_l(RMSNorm_head(W_k n) * g_k),  v = RMSNorm_head(W_v n)   (no weight; W_v
//         absent: v from W_k n before its norm)
//     a = x_l + RMSNorm(W_o softmax(q.k) v) * g_post_attn            (scale 1: no 1/sqrt(d))
//     h = a + RMSNorm(W_down (gelu(W_gate m) * W_up m)) * g_post_ffw,  m = RMSNorm(a) * g_ffn
//     h += RMSNorm(W_proj (gelu(W_gate_pl h) * e_l)) * g_post_pl      (per-layer input)
//     x_{l+1} = h * s_l                                               (layer_output_scale)
//   logits = cap * tanh(E (RMSNorm(x_L) * g_out) / cap)   (final_logit_softcapping; tied E
//            unless output.weight)
//
// Sliding and global blocks: attention.sliding_window_pattern (booleans) marks the sliding
// ones, which see the last attention.sliding_window positions and have their own head size
// (key_length_swa), rotary dimensions (rope.dimension_count_swa) and base
// (rope.freq_base_swa), unscaled; global blocks use key_length, rope.dimension_count,
// rope.freq_base with the file's linear scaling and the rope_freqs divisors (proportional
// RoPE). The last attention.shared_kv_layers blocks store no keys and values: they read
// those of the last earlier block of their kind (llama.cpp: block n_kv - 2 for sliding,
// n_kv - 1 for global, n_kv the number of blocks with their own). feed_forward_length and
// the head counts may be given per block. RoPE is NEOX-style. The mixture-of-experts
// variant (26B-A4B) is not supported.
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/architecture.h"
#include "model/blocks.h"
#include "model/hparams.h"
#include "model/tensor_binder.h"
#include "ops/activation.h"
#include "ops/embedding.h"
#include "ops/norm.h"

namespace mmojo {

namespace {

struct Gemma4Block {
    std::vector<float> attn_norm, post_attention_norm;   // [n_embd]
    AttentionWeights attn;                               // wk/wv empty in a shared block; wv empty: V = K
    std::vector<float> ffn_norm, post_ffw_norm;          // [n_embd]
    FeedForwardWeights ffn;
    Matrix pl_gate;                                      // [n_embd -> P]
    Matrix pl_proj;                                      // [P -> n_embd]
    std::vector<float> pl_post_norm;                     // [n_embd]
    float output_scale = 1.0f;
    AttentionConfig config;
    int32_t kv_owner = -1;                               // >= 0: reads that block's keys and values
};

// A per-block count: the array entry of `key` for block l, or its single value.
std::vector<uint32_t> per_block(const GgufFile& f, const std::string& key, uint32_t n_layer, int64_t fallback) {
    const GgufValue* value = f.find(key);
    if (value && value->type == GgufValueType::kArray) {
        const std::vector<int64_t> v = f.get_int_array(key);
        if (v.size() != n_layer) {
            throw std::runtime_error("model key '" + key + "': " + std::to_string(v.size()) + " entries for " +
                                     std::to_string(n_layer) + " blocks");
        }
        std::vector<uint32_t> out;
        for (int64_t x : v) {
            if (x <= 0 || x > int64_t(UINT32_MAX)) throw std::runtime_error("model key '" + key + "': out of range");
            out.push_back(uint32_t(x));
        }
        return out;
    }
    return std::vector<uint32_t>(n_layer, read_uniform_u32(f, key, fallback));
}

class Gemma4Model final : public Model {
public:
    void forward(const Batch& batch, SequenceState& state, ThreadPool& pool, float* out,
                 OutputKind kind) override;
    std::vector<LayerStateSpec> state_layers() const override;

protected:
    void load_weights(TensorBinder& binder) override;

private:
    void attention_block(ForwardPass& pass, int l, const float* xn, float* out) const;
    // e_l of every row: n_rows x n_layer x P.
    std::vector<float> per_layer_inputs(ForwardPass& pass, const float* x0) const;

    Matrix token_embd_, output_;
    std::vector<float> output_norm_;
    Matrix pl_token_embd_;            // [n_vocab rows of n_layer * P]
    Matrix pl_model_proj_;            // [n_embd -> n_layer * P]
    std::vector<float> pl_proj_norm_; // [P]
    int64_t n_pl_ = 0;                // P
    std::vector<float> rope_freqs_;   // global blocks' divisors, or empty
    std::vector<Gemma4Block> blocks_;
    float final_softcap_ = 0.0f;
};

void Gemma4Model::load_weights(TensorBinder& b) {
    ModelHparams& hp = hparams_;
    const GgufFile& f = *gguf_;
    const std::string p = hp.arch + ".";
    // The common reader rejects per-block arrays; read the sizes here.
    hp.n_ctx_train = read_uniform_u32(f, p + "context_length", -1);
    hp.n_embd = read_uniform_u32(f, p + "embedding_length", -1);
    hp.n_layer = read_uniform_u32(f, p + "block_count", -1);
    if (hp.n_embd == 0 || hp.n_layer == 0) throw std::runtime_error(f.name() + ": empty gemma4 model");
    const uint32_t n_layer = hp.n_layer;
    const std::vector<uint32_t> n_head = per_block(f, p + "attention.head_count", n_layer, -1);
    const std::vector<uint32_t> n_head_kv = f.has(p + "attention.head_count_kv")
                                                ? per_block(f, p + "attention.head_count_kv", n_layer, -1)
                                                : n_head;
    const std::vector<uint32_t> n_ff = per_block(f, p + "feed_forward_length", n_layer, -1);
    hp.n_head = n_head[0];
    hp.n_head_kv = n_head_kv[0];
    hp.n_ff = n_ff[0];
    hp.norm_eps = f.get_f32_or(p + "attention.layer_norm_rms_epsilon", 1e-6f);
    hp.head_dim_k = read_uniform_u32(f, p + "attention.key_length", hp.n_embd / hp.n_head);
    hp.head_dim_v = read_uniform_u32(f, p + "attention.value_length", hp.head_dim_k);
    const uint32_t hd_swa = read_uniform_u32(f, p + "attention.key_length_swa", hp.head_dim_k);
    if (hp.head_dim_v != hp.head_dim_k || read_uniform_u32(f, p + "attention.value_length_swa", hd_swa) != hd_swa) {
        throw std::runtime_error(f.name() + ": gemma4 needs equal key and value head sizes");
    }
    hp.n_rot = read_uniform_u32(f, p + "rope.dimension_count", hp.head_dim_k);
    const uint32_t n_rot_swa = read_uniform_u32(f, p + "rope.dimension_count_swa", hp.n_rot);
    hp.rope_freq_base = f.get_f32_or(p + "rope.freq_base", 10000.0f);
    const float factor = f.get_f32_or(p + "rope.scaling.factor", 0.0f);
    hp.rope_freq_scale = factor == 0.0f ? 1.0f : 1.0f / factor;
    hp.n_vocab = f.has(p + "vocab_size") ? read_uniform_u32(f, p + "vocab_size", -1)
                                          : uint32_t(f.get_array("tokenizer.ggml.tokens").values.size());
    const uint32_t window = read_uniform_u32(f, p + "attention.sliding_window", -1);
    if (window == 0) throw std::runtime_error("model key '" + p + "attention.sliding_window': must be positive");
    if (!f.has(p + "attention.sliding_window_pattern")) {
        throw std::runtime_error("missing required model key '" + p + "attention.sliding_window_pattern'");
    }
    const std::vector<bool> sliding = read_sliding_layers(f, hp.arch, n_layer, 0);
    const uint32_t n_shared = f.get_u32_or(p + "attention.shared_kv_layers", 0);
    const int32_t n_kv = int32_t(n_layer) - int32_t(n_shared);
    if (n_shared > 0 && (n_kv < 2 || !sliding[size_t(n_kv - 2)] || sliding[size_t(n_kv - 1)])) {
        throw std::runtime_error(f.name() + ": attention.shared_kv_layers " + std::to_string(n_shared) +
                                 " needs a sliding block then a global one just before the shared blocks");
    }
    final_softcap_ = f.get_f32_or(p + "final_logit_softcapping", 0.0f);
    n_pl_ = f.get_u32_or(p + "embedding_length_per_layer_input", 0);
    if (b.has("blk.0.ffn_gate_inp.weight")) {
        throw std::runtime_error(f.name() + ": mixture-of-experts gemma4 models are not supported");
    }

    token_embd_ = b.matrix("token_embd.weight", hp.n_embd, hp.n_vocab);
    output_ = b.optional_matrix("output.weight", hp.n_embd, hp.n_vocab);
    if (output_.empty()) output_ = token_embd_;
    output_norm_ = b.vector("output_norm.weight", hp.n_embd);
    if (n_pl_ > 0) {
        pl_token_embd_ = b.matrix("per_layer_token_embd.weight", n_pl_ * n_layer, hp.n_vocab);
        pl_model_proj_ = b.matrix("per_layer_model_proj.weight", hp.n_embd, n_pl_ * n_layer);
        pl_proj_norm_ = b.vector("per_layer_proj_norm.weight", n_pl_);
    }
    rope_freqs_ = b.optional_vector("rope_freqs.weight", hp.n_rot / 2);

    blocks_.resize(n_layer);
    for (uint32_t l = 0; l < n_layer; ++l) {
        const std::string bp = "blk." + std::to_string(l) + ".";
        Gemma4Block& blk = blocks_[l];
        const int64_t hd = sliding[l] ? hd_swa : hp.head_dim_k;
        AttentionConfig& c = blk.config;
        c.n_head = n_head[l];
        c.n_head_kv = n_head_kv[l];
        if (c.n_head_kv == 0 || c.n_head % c.n_head_kv != 0) {
            throw std::runtime_error(f.name() + ": block " + std::to_string(l) + " has " + std::to_string(c.n_head) +
                                     " heads for " + std::to_string(c.n_head_kv) + " KV heads");
        }
        c.head_dim_k = c.head_dim_v = hd;
        c.scale = 1.0f;
        c.qk_norm_eps = hp.norm_eps;
        c.rope.layout = RopeLayout::kNeox;
        if (sliding[l]) {
            c.window = int32_t(window);
            c.rope.n_dims = int32_t(n_rot_swa);
            c.rope.freq_base = f.get_f32_or(p + "rope.freq_base_swa", hp.rope_freq_base);
        } else {
            c.rope.n_dims = int32_t(hp.n_rot);
            c.rope.freq_base = hp.rope_freq_base;
            c.rope.freq_scale = hp.rope_freq_scale;
            c.rope.freq_factors = rope_freqs_.empty() ? nullptr : rope_freqs_.data();
        }
        if (c.rope.n_dims % 2 != 0 || c.rope.n_dims > hd) {
            throw std::runtime_error(f.name() + ": block " + std::to_string(l) + " rotates " +
                                     std::to_string(c.rope.n_dims) + " of " + std::to_string(hd) + " dimensions");
        }
        if (int32_t(l) >= n_kv) blk.kv_owner = sliding[l] ? n_kv - 2 : n_kv - 1;

        const int64_t q_len = c.n_head * hd, kv_len = c.n_head_kv * hd;
        blk.attn_norm = b.vector(bp + "attn_norm.weight", hp.n_embd);
        blk.attn.wq = b.matrix(bp + "attn_q.weight", hp.n_embd, q_len);
        blk.attn.q_norm = b.vector(bp + "attn_q_norm.weight", hd);
        if (blk.kv_owner < 0) {
            blk.attn.wk = b.matrix(bp + "attn_k.weight", hp.n_embd, kv_len);
            blk.attn.wv = b.optional_matrix(bp + "attn_v.weight", hp.n_embd, kv_len);
            blk.attn.k_norm = b.vector(bp + "attn_k_norm.weight", hd);
        }
        blk.attn.wo = b.matrix(bp + "attn_output.weight", q_len, hp.n_embd);
        blk.post_attention_norm = b.vector(bp + "post_attention_norm.weight", hp.n_embd);
        blk.ffn_norm = b.vector(bp + "ffn_norm.weight", hp.n_embd);
        blk.ffn.gate = b.matrix(bp + "ffn_gate.weight", hp.n_embd, n_ff[l]);
        blk.ffn.up = b.matrix(bp + "ffn_up.weight", hp.n_embd, n_ff[l]);
        blk.ffn.down = b.matrix(bp + "ffn_down.weight", n_ff[l], hp.n_embd);
        blk.post_ffw_norm = b.vector(bp + "post_ffw_norm.weight", hp.n_embd);
        if (n_pl_ > 0) {
            blk.pl_gate = b.matrix(bp + "inp_gate.weight", hp.n_embd, n_pl_);
            blk.pl_proj = b.matrix(bp + "proj.weight", n_pl_, hp.n_embd);
            blk.pl_post_norm = b.vector(bp + "post_norm.weight", hp.n_embd);
        }
        const std::vector<float> s = b.optional_vector(bp + "layer_output_scale.weight", 1);
        if (!s.empty()) blk.output_scale = s[0];
    }
}

std::vector<LayerStateSpec> Gemma4Model::state_layers() const {
    std::vector<LayerStateSpec> layers;
    for (const Gemma4Block& blk : blocks_) {
        const AttentionConfig& c = blk.config;
        layers.push_back(blk.kv_owner >= 0 ? LayerStateSpec::shared(blk.kv_owner)
                                           : LayerStateSpec::key_value(c.n_head_kv, c.head_dim_k, c.head_dim_v, c.window));
    }
    return layers;
}

void Gemma4Model::attention_block(ForwardPass& pass, int l, const float* xn, float* out) const {
    const Gemma4Block& blk = blocks_[size_t(l)];
    const AttentionConfig& c = blk.config;
    ThreadPool& pool = pass.pool();
    const int64_t n = pass.n_tokens();
    const int64_t q_len = c.n_head * c.head_dim_k, kv_len = c.n_head_kv * c.head_dim_k;
    const bool own_kv = blk.kv_owner < 0;

    std::vector<float> q(size_t(n * q_len)), k(own_kv ? size_t(n * kv_len) : 0), v(k.size());
    Activations x(pool, xn, n, blk.attn.wq.n_cols);
    if (!own_kv) {
        matmul(pool, blk.attn.wq, x, q.data());
    } else if (blk.attn.wv.empty()) {
        matmul_group(pool, {{&blk.attn.wq, q.data()}, {&blk.attn.wk, k.data()}}, x);
        v = k;   // V = K before K's norm
    } else {
        matmul_group(pool, {{&blk.attn.wq, q.data()}, {&blk.attn.wk, k.data()}, {&blk.attn.wv, v.data()}}, x);
    }

    // Per-head RMSNorm (V without a weight), then RoPE of q and k.
    rms_norm(q.data(), q.data(), n * c.n_head, c.head_dim_k, blk.attn.q_norm.data(), c.qk_norm_eps);
    if (own_kv) {
        rms_norm(k.data(), k.data(), n * c.n_head_kv, c.head_dim_k, blk.attn.k_norm.data(), c.qk_norm_eps);
        rms_norm(v.data(), v.data(), n * c.n_head_kv, c.head_dim_v, nullptr, c.qk_norm_eps);
    }
    const ForwardPass::RopeTables& t = pass.rope_tables(c.rope);
    const int64_t half = c.rope.n_dims / 2;
    for (int64_t row = 0; row < n; ++row) {
        const float* cs = t.cos.data() + row * half;
        const float* sn = t.sin.data() + row * half;
        rope_apply(c.rope, q.data() + row * q_len, c.n_head, c.head_dim_k, cs, sn);
        if (own_kv) rope_apply(c.rope, k.data() + row * kv_len, c.n_head_kv, c.head_dim_k, cs, sn);
    }

    // A shared block reads its owner's cells, which this pass has already filled.
    const KvLayerView kv = pass.state().key_values(l);
    if (own_kv) {
        for (int64_t row = 0; row < n; ++row) {
            kv_store(kv, pass.seq(row), pass.pos(row), k.data() + row * kv_len, v.data() + row * kv_len);
        }
    }
    std::vector<float> heads(size_t(n * c.n_head * c.head_dim_v));
    attention(pool, kv, pass.attention_rows(), c, q.data(), heads.data());
    linear(pool, blk.attn.wo, {}, heads.data(), n, out);
}

std::vector<float> Gemma4Model::per_layer_inputs(ForwardPass& pass, const float* x0) const {
    const int64_t n = pass.n_tokens(), n_layer = int64_t(blocks_.size());
    const int64_t width = n_layer * n_pl_;
    // (RMSNorm((W x_0) / sqrt(n_embd)) * g, per block's slice of P)
    std::vector<float> proj(size_t(n * width));
    matmul(pass.pool(), pl_model_proj_, x0, n, proj.data());
    scale(proj.data(), n * width, 1.0f / std::sqrt(float(hparams_.n_embd)));
    rms_norm(proj.data(), proj.data(), n * n_layer, n_pl_, pl_proj_norm_.data(), hparams_.norm_eps);
    // + E_pl[token] * sqrt(P), then / sqrt(2)
    std::vector<float> tok(proj.size());
    get_rows(pl_token_embd_, pass.tokens().data(), n, tok.data());
    scale(tok.data(), n * width, std::sqrt(float(n_pl_)));
    add_in_place(proj.data(), tok.data(), n * width);
    scale(proj.data(), n * width, 1.0f / std::sqrt(2.0f));
    return proj;
}

void Gemma4Model::forward(const Batch& batch, SequenceState& state, ThreadPool& pool, float* out,
                          OutputKind kind) {
    ForwardPass pass(batch, state, pool);
    const int64_t d = hparams_.n_embd;
    const float eps = hparams_.norm_eps;
    const int64_t rows = pass.n_tokens();
    const int64_t n_layer = int64_t(blocks_.size());
    std::vector<float> x(size_t(rows * d)), n(x.size()), y(x.size());

    // x = E[token] * sqrt(n_embd)
    get_rows(token_embd_, pass.tokens().data(), rows, x.data());
    scale(x.data(), rows * d, std::sqrt(float(d)));
    const std::vector<float> pl = n_pl_ > 0 ? per_layer_inputs(pass, x.data()) : std::vector<float>();
    std::vector<float> gate(size_t(rows * n_pl_));

    for (int64_t l = 0; l < n_layer; ++l) {
        const Gemma4Block& blk = blocks_[size_t(l)];
        // a = x + RMSNorm(Attention(RMSNorm(x) * g_attn)) * g_post_attn
        rms_norm(x.data(), n.data(), rows, d, blk.attn_norm.data(), eps);
        attention_block(pass, int(l), n.data(), y.data());
        rms_norm(y.data(), y.data(), rows, d, blk.post_attention_norm.data(), eps);
        add_in_place(x.data(), y.data(), rows * d);
        // h = a + RMSNorm(GeGLU(RMSNorm(a) * g_ffn)) * g_post_ffw
        rms_norm(x.data(), n.data(), rows, d, blk.ffn_norm.data(), eps);
        feed_forward_geglu(pool, blk.ffn, n.data(), rows, y.data());
        rms_norm(y.data(), y.data(), rows, d, blk.post_ffw_norm.data(), eps);
        add_in_place(x.data(), y.data(), rows * d);
        // h += RMSNorm(W_proj (gelu(W_gate h) * e_l)) * g_post_pl
        if (n_pl_ > 0) {
            linear(pool, blk.pl_gate, {}, x.data(), rows, gate.data());
            gelu(gate.data(), gate.data(), rows * n_pl_);
            for (int64_t r = 0; r < rows; ++r) {
                float* g = gate.data() + r * n_pl_;
                const float* e = pl.data() + (r * n_layer + l) * n_pl_;
                for (int64_t i = 0; i < n_pl_; ++i) g[i] *= e[i];
            }
            linear(pool, blk.pl_proj, {}, gate.data(), rows, y.data());
            rms_norm(y.data(), y.data(), rows, d, blk.pl_post_norm.data(), eps);
            add_in_place(x.data(), y.data(), rows * d);
        }
        if (blk.output_scale != 1.0f) scale(x.data(), rows * d, blk.output_scale);
    }
    keep_rows(x, d, pass.output_rows());
    const int64_t n_out = int64_t(pass.output_rows().size());
    if (n_out == 0) return;
    decoder_output(pool, x.data(), n_out, d, output_norm_, eps, output_, final_softcap_, kind, out);
}

}  // namespace

std::unique_ptr<Model> create_gemma4_model() { return std::make_unique<Gemma4Model>(); }

}  // namespace mmojo
