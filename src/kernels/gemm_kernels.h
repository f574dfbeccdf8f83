// Entry points of the per-ISA matrix-product kernels (kernels/gemm_<isa>.cpp), compiled with
// that instruction set's flags like kernels/kernels_<isa>.cpp (see kernels/simd_kernels.h for
// the rules such files follow). Each returns a MatmulTileFn that handles the types and
// batch sizes it was written for and passes everything else to matmul_tile_generic;
// select_kernels (kernels/dispatch.h) installs the one of the chosen level.
#pragma once

#include "kernels/matmul_tile.h"

namespace mmojo {

MatmulTileFn matmul_tile_avx2();         // gemm_avx2.cpp (also used at level avx512)
MatmulTileFn matmul_tile_avx512vnni();   // gemm_avx512vnni.cpp
MatmulTileFn matmul_tile_amx();          // gemm_amx.cpp (Q4_0/Q8_0 batches; else avx512vnni's)
MatmulTileFn matmul_tile_neon();         // gemm_neon.cpp
MatmulTileFn matmul_tile_neondot();      // gemm_neondot.cpp

}  // namespace mmojo
