// Prompt-processing tile of the lattice formats (IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S) for
// x86, shared by kernels_lowbit_avx2.cpp and kernels_lowbit_avx512vnni.cpp through the Dot policy
// of kernels/kernels_lowbit_x86.h. A vec_dot per (row, activation row) gathers every grid point
// again for each activation row, and the gather is most of its work; here each super-block of
// a weight row is decoded once (grid magnitudes, signs as +-1 bytes, group scales, all kept
// in registers or L1) and then multiplied with that super-block of every activation row of
// the batch. The integer sums are the vec_dot kernel's, so the results equal its results up
// to the order of float additions.
//
// Include only inside an anonymous namespace of a file built with the level's flags, after
// kernels/kernels_lowbit_x86.h (see kernels/simd_kernels.h).

template <typename Dot, typename Decoder>
void lowbit_lattice_tile(const Matrix& w, int64_t r0, int64_t r1, const uint8_t* xq, size_t xq_row_bytes,
                         int64_t n_batch, float* y, int64_t y_stride) {
    using Block = typename Decoder::Block;
    const int64_t n_blocks = w.n_cols / kQK_K;
    auto* acc = reinterpret_cast<float*>(matmul_scratch(size_t(n_batch) * sizeof(float)));
    for (int64_t r = r0; r < r1; ++r) {
        const auto* wb = reinterpret_cast<const Block*>(w.row(r));
        for (int64_t b = 0; b < n_batch; ++b) acc[b] = 0.0f;
        for (int64_t k = 0; k < n_blocks; ++k) {
            __m256i grid[8], sign[8];
            int s_lo[8], s_hi[8];
            for (int g = 0; g < 8; ++g) Decoder::group(wb[k], g, grid[g], sign[g], s_lo[g], s_hi[g]);
            const float dw = lowbit_half(wb[k].d) * Decoder::kFactor;
            for (int64_t b = 0; b < n_batch; ++b) {
                const BlockQ8_K& a = reinterpret_cast<const BlockQ8_K*>(xq + size_t(b) * xq_row_bytes)[k];
                __m256i isum = _mm256_setzero_si256();
                for (int g = 0; g < 8; ++g) {
                    const __m256i ys = _mm256_sign_epi8(lowbit_load(a.qs + 32 * g), sign[g]);
                    isum = _mm256_add_epi32(isum, Dot::scaled(grid[g], ys, s_lo[g], s_hi[g]));
                }
                acc[b] += dw * a.d * static_cast<float>(lowbit_hsum_i32(isum));
            }
        }
        for (int64_t b = 0; b < n_batch; ++b) y[b * y_stride + r] = acc[b];
    }
}

template <typename Dot>
MatmulTileFn lowbit_tile_lookup(TensorType type) {
    switch (type) {
        case TensorType::kIQ2_XXS: return lowbit_lattice_tile<Dot, IQ2XXSDecoder>;
        case TensorType::kIQ2_XS: return lowbit_lattice_tile<Dot, IQ2XSDecoder>;
        case TensorType::kIQ2_S: return lowbit_lattice_tile<Dot, IQ2SDecoder>;
        case TensorType::kIQ3_XXS: return lowbit_lattice_tile<Dot, IQ3XXSDecoder>;
        case TensorType::kIQ3_S: return lowbit_lattice_tile<Dot, IQ3SDecoder>;
        default: return nullptr;
    }
}
