// Attention over cached keys and values (see attention.h).
#include "ops/attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/vector_kernels.h"
#include "ops/activation.h"

namespace mmojo {

namespace {

// Below this many multiply-adds the attention of a pass runs on the calling thread.
constexpr int64_t kMinParallelAttention = int64_t(1) << 15;

// softmax over the n scores and one extra logit `sink` that has no value: the scores get
// exp(s - m) / (sum_j exp(s_j - m) + exp(sink - m)), m the largest of all.
void softmax_with_sink(float* s, int64_t n, float sink) {
    float m = sink;
    for (int64_t j = 0; j < n; ++j) m = std::max(m, s[j]);
    double sum = std::exp(double(sink) - m);
    for (int64_t j = 0; j < n; ++j) {
        s[j] = std::exp(s[j] - m);
        sum += s[j];
    }
    const float inv = float(1.0 / sum);
    for (int64_t j = 0; j < n; ++j) s[j] *= inv;
}

}  // namespace

void kv_store(const KvLayerView& kv, int32_t seq, int32_t pos, const float* keys, const float* values) {
    const int64_t cell = kv.cell(seq, pos);
    const FromFloatFn k_from_float = tensor_type_traits(kv.type_k)->from_float;
    const FromFloatFn v_from_float = tensor_type_traits(kv.type_v)->from_float;
    for (int64_t h = 0; h < kv.n_head_kv; ++h) {
        const size_t head = size_t(cell) * size_t(kv.n_head_kv) + size_t(h);
        k_from_float(keys + h * kv.head_dim_k, kv.keys + head * kv.k_head_bytes, kv.head_dim_k);
        v_from_float(values + h * kv.head_dim_v, kv.values + head * kv.v_head_bytes, kv.head_dim_v);
    }
}

void attention(ThreadPool& pool, const KvLayerView& kv, const AttentionRows& rows,
               const AttentionParams& c, const float* q, float* out) {
    const TensorTypeTraits* k_traits = tensor_type_traits(kv.type_k);
    const TensorTypeTraits* v_traits = tensor_type_traits(kv.type_v);
    const TensorType q_type = k_traits->vec_dot_type;
    const FromFloatFn q_convert =
        q_type == TensorType::kF32 ? nullptr : tensor_type_traits(q_type)->from_float;
    const bool v_is_f32 = kv.type_v == TensorType::kF32;
    const VectorKernels& vk = vector_kernels();
    // One task per (row, KV head): the `group` query heads that share a KV head are done
    // together, so each cached key and value is read (and widened) once per task.
    const int64_t group = c.n_head / c.n_head_kv;
    const int64_t n_tasks = rows.n_rows * c.n_head_kv;
    const size_t n_cells = size_t(kv.cells_per_seq);

    auto run = [&](int64_t begin, int64_t end, int) {
        std::vector<float> scores(size_t(group) * n_cells);   // [group][keys]
        std::vector<uint8_t> q_converted(
            q_convert ? size_t(group) * tensor_row_bytes(q_type, c.head_dim_k) : 0);
        std::vector<float> v_row(size_t(c.head_dim_v));
        std::vector<const void*> q_dot(static_cast<size_t>(group));
        for (int64_t task = begin; task < end; ++task) {
            const int64_t row = task / c.n_head_kv;
            const int64_t kv_head = task % c.n_head_kv;
            const int32_t seq = rows.seq[row];
            const int32_t pos = rows.pos[row];
            const int32_t last = c.causal ? pos : rows.seq_end[seq] - 1;
            const int32_t first = c.window > 0 ? std::max(0, pos - c.window + 1) : 0;
            const int64_t n_keys = int64_t(last) - first + 1;
            // Keys first..last sit in consecutive cells of the sequence, wrapping once at
            // the end of a ring.
            const int64_t seq_cell0 = int64_t(seq) * kv.cells_per_seq;
            const int64_t first_cell = kv.cell(seq, first) - seq_cell0;
            auto cell_of = [&](int64_t j) {
                int64_t c_idx = first_cell + j;
                if (c_idx >= kv.cells_per_seq) c_idx -= kv.cells_per_seq;
                return seq_cell0 + c_idx;
            };

            // scores[g][j] = softmax_j(q_g . k_j * scale), q_g in the keys' dot type.
            const float* q_first = q + (row * c.n_head + kv_head * group) * c.head_dim_k;
            for (int64_t g = 0; g < group; ++g) {
                q_dot[size_t(g)] = q_first + g * c.head_dim_k;
                if (q_convert) {
                    uint8_t* dst = q_converted.data() + size_t(g) * tensor_row_bytes(q_type, c.head_dim_k);
                    q_convert(q_first + g * c.head_dim_k, dst, c.head_dim_k);
                    q_dot[size_t(g)] = dst;
                }
            }
            for (int64_t j = 0; j < n_keys; ++j) {
                const uint8_t* key = kv.k(cell_of(j), kv_head);
                for (int64_t g = 0; g < group; ++g) {
                    scores[size_t(g) * n_cells + size_t(j)] =
                        k_traits->vec_dot(c.head_dim_k, key, q_dot[size_t(g)]) * c.scale;
                }
            }
            for (int64_t g = 0; g < group; ++g) {
                float* sg = scores.data() + size_t(g) * n_cells;
                if (c.softcap > 0.0f) softcap(sg, n_keys, c.softcap);
                if (c.sinks) {
                    softmax_with_sink(sg, n_keys, c.sinks[kv_head * group + g]);
                } else {
                    softmax(sg, n_keys);
                }
            }

            // out_g = sum_j scores[g][j] * v_j
            float* o_first = out + (row * c.n_head + kv_head * group) * c.head_dim_v;
            std::fill(o_first, o_first + group * c.head_dim_v, 0.0f);
            for (int64_t j = 0; j < n_keys; ++j) {
                const uint8_t* v_raw = kv.v(cell_of(j), kv_head);
                const float* v_vec = reinterpret_cast<const float*>(v_raw);
                if (!v_is_f32) {
                    v_traits->to_float(v_raw, v_row.data(), c.head_dim_v);
                    v_vec = v_row.data();
                }
                for (int64_t g = 0; g < group; ++g) {
                    const float p = scores[size_t(g) * n_cells + size_t(j)];
                    vk.axpy(p, v_vec, o_first + g * c.head_dim_v, c.head_dim_v);
                }
            }
        }
    };

    int64_t work = 0;
    for (int64_t row = 0; row < rows.n_rows && work < kMinParallelAttention; ++row) {
        work += int64_t(rows.pos[row] + 1) * c.n_head * (c.head_dim_k + c.head_dim_v);
    }
    if (work < kMinParallelAttention) {
        run(0, n_tasks, 0);
    } else {
        pool.parallel_for(n_tasks, 1, run);
    }
}

}  // namespace mmojo
