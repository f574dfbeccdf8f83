// Dot products of level avx512 (AVX-512F/BW/DQ/VL without VNNI). There are none of its own
// yet: the level uses the AVX2 kernels (quant/dispatch.cpp falls to the next lower level).
// The file exists because CMake defines MMOJO_HAVE_AVX512 as soon as any *_avx512.cpp does
// (convert_avx512.cpp), and dispatch then asks this lookup.
#include "quant/simd_kernels.h"

namespace mmojo {

VecDotFn vec_dot_avx512(TensorType) { return nullptr; }

}  // namespace mmojo
