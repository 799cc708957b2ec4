/* The double kernels on AVX-512 (F, DQ, VL, BW): x86-64 only, chosen at run time
 * (cs_dispatch.h). */
#include "cs_kernels.h"
#if defined(CS_SIMD_X86_64)
#if !defined(_MSC_VER)
#include <immintrin.h>
#endif

#define CS_F32 0
#define CS_NATIVE_BYTES 64
#define CS_ISA avx512
CS_TARGET_BEGIN("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")
#include "kernel.h"
CS_TARGET_END

#endif
