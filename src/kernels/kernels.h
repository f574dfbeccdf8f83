// The generic (scalar, portable) kernels of every tensor type, as installed in the table of
// kernels/tensor_type.cpp. Signatures follow ToFloatFn / FromFloatFn / VecDotFn: n counts
// elements and is a multiple of the block size of the types involved.
#pragma once

#include <cstdint>

namespace mmojo {

// quant_float.cpp
void f32_to_float(const void* src, float* dst, int64_t n);
void f32_from_float(const float* src, void* dst, int64_t n);
float vec_dot_f32_generic(int64_t n, const void* x, const void* y);
void f16_to_float(const void* src, float* dst, int64_t n);
void f16_from_float(const float* src, void* dst, int64_t n);
float vec_dot_f16_generic(int64_t n, const void* x, const void* y);
void bf16_to_float(const void* src, float* dst, int64_t n);
void bf16_from_float(const float* src, void* dst, int64_t n);
float vec_dot_bf16_generic(int64_t n, const void* x, const void* y);

// quant_legacy.cpp
void q4_0_to_float(const void* src, float* dst, int64_t n);
void q4_1_to_float(const void* src, float* dst, int64_t n);
void q5_0_to_float(const void* src, float* dst, int64_t n);
void q5_1_to_float(const void* src, float* dst, int64_t n);
void q8_0_to_float(const void* src, float* dst, int64_t n);
void q8_1_to_float(const void* src, float* dst, int64_t n);
void q8_0_from_float(const float* src, void* dst, int64_t n);
void q8_1_from_float(const float* src, void* dst, int64_t n);
float vec_dot_q4_0_q8_0_generic(int64_t n, const void* x, const void* y);
float vec_dot_q4_1_q8_1_generic(int64_t n, const void* x, const void* y);
float vec_dot_q5_0_q8_0_generic(int64_t n, const void* x, const void* y);
float vec_dot_q5_1_q8_1_generic(int64_t n, const void* x, const void* y);
float vec_dot_q8_0_q8_0_generic(int64_t n, const void* x, const void* y);

// quant_kquants.cpp
void q2_k_to_float(const void* src, float* dst, int64_t n);
void q3_k_to_float(const void* src, float* dst, int64_t n);
void q4_k_to_float(const void* src, float* dst, int64_t n);
void q5_k_to_float(const void* src, float* dst, int64_t n);
void q6_k_to_float(const void* src, float* dst, int64_t n);
void q8_k_to_float(const void* src, float* dst, int64_t n);
void q8_k_from_float(const float* src, void* dst, int64_t n);
float vec_dot_q2_k_q8_k_generic(int64_t n, const void* x, const void* y);
float vec_dot_q3_k_q8_k_generic(int64_t n, const void* x, const void* y);
float vec_dot_q4_k_q8_k_generic(int64_t n, const void* x, const void* y);
float vec_dot_q5_k_q8_k_generic(int64_t n, const void* x, const void* y);
float vec_dot_q6_k_q8_k_generic(int64_t n, const void* x, const void* y);

// quant_iq4.cpp
void iq4_nl_to_float(const void* src, float* dst, int64_t n);
void iq4_xs_to_float(const void* src, float* dst, int64_t n);
float vec_dot_iq4_nl_q8_0_generic(int64_t n, const void* x, const void* y);
float vec_dot_iq4_xs_q8_k_generic(int64_t n, const void* x, const void* y);

}  // namespace mmojo
