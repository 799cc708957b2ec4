/* The float kernels on the baseline instruction set: SSE2 on x86-64, NEON on ARM64. */
#include "cs_kernels.h"
#if defined(CS_SIMD_X86_64) && !defined(_MSC_VER)
#include <immintrin.h>
#endif

#define CS_F32 1
#define CS_NATIVE_BYTES 16
#define CS_ISA portable
#include "kernel.h"
