/* The float kernels on AVX2 with FMA: x86-64 only, chosen at run time (cs_dispatch.h). */
#include "cs_kernels.h"
#if defined(CS_SIMD_X86_64)
#if !defined(_MSC_VER)
#include <immintrin.h>
#endif

#define CS_F32 1
#define CS_NATIVE_BYTES 32
#define CS_ISA avx2
CS_TARGET_BEGIN("avx2,fma")
#include "kernel.h"
CS_TARGET_END

#endif
