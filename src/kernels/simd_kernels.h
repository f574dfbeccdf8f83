// Entry points of the per-ISA kernel files. Each kernels_<isa>.cpp is compiled with that
// instruction set's flags and only for its CPU family (see CMakeLists.txt); CMake then
// defines MMOJO_HAVE_<ISA>=1 for the whole build, so kernels/dispatch.cpp calls a lookup only
// when its file exists. A lookup returns the vec_dot kernel it has for a type (same contract
// as the table's vec_dot, kernels/tensor_type.h) or nullptr when the type has none at that
// level; dispatch then tries the next lower level. The convert_<isa>.cpp files do the same
// for row conversions (to_float / from_float, bit-identical to the generic ones).
//
// Kernel files must not define or instantiate anything with external or inline linkage
// besides these lookups (put helpers in an anonymous namespace, call no std:: templates):
// the linker keeps one copy of an inline function, and the copy compiled with AVX2 flags
// would then run on CPUs without AVX2.
#pragma once

#include "kernels/tensor_type.h"

namespace mmojo {

VecDotFn vec_dot_avx2(TensorType type);        // kernels_avx2.cpp
VecDotFn vec_dot_avx512vnni(TensorType type);  // kernels_avx512vnni.cpp
VecDotFn vec_dot_neon(TensorType type);        // kernels_neon.cpp
VecDotFn vec_dot_neondot(TensorType type);     // kernels_neondot.cpp

ToFloatFn to_float_avx2(TensorType type);        // convert_avx2.cpp
FromFloatFn from_float_avx2(TensorType type);
ToFloatFn to_float_avx512(TensorType type);      // convert_avx512.cpp
FromFloatFn from_float_avx512(TensorType type);

}  // namespace mmojo
