/* The one template scheme of src_c/: instantiate the template header named by CS_TEMPLATE for
 * float and double, once per SIMD level of the target architecture (cs_dispatch.h). Each
 * instantiation defines functions named CS_FN(name), that is name_f32_avx2,
 * name_f64_portable, ... with T, TV, T_SQRT, ... naming its types (cs_tmpl_begin.h). The
 * includer then builds dispatch tables from them, indexed by cs_simd_level(), with CS_TABLE
 * below.
 *
 * The vector levels are compiled with function-level target attributes, so one translation
 * unit holds every path and the compiler's baseline flags stay those of the portable one:
 *   - GCC: `#pragma GCC target` regions (they also define __AVX2__, ... inside the region);
 *   - Clang: `#pragma clang attribute push(__attribute__((target(...))), apply_to=function)`,
 *     which Clang applies to every function the region defines (Clang ignores the GCC pragma).
 * The always-inline helpers of cs_simd.h are defined outside any region and inlined into
 * each path, where they take that path's instructions. Other compilers are not supported
 * (the vectors of cs_simd.h need GCC or Clang), and other architectures only have the
 * portable level. */
#include "cs_dispatch.h"
#if defined(CS_SIMD_X86_64) && !defined(_MSC_VER)
#include <immintrin.h> /* before any target region: its intrinsics carry their own */
#endif

#define CS_ISA portable
#define CS_NATIVE_BYTES 16 /* SSE2 on x86-64, NEON on ARM64 */
#include "cs_instantiate_types.h"
#undef CS_NATIVE_BYTES
#undef CS_ISA

#if defined(CS_SIMD_X86_64)

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif
#define CS_ISA avx2
#define CS_NATIVE_BYTES 32
#include "cs_instantiate_types.h"
#undef CS_NATIVE_BYTES
#undef CS_ISA
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#if defined(__clang__)
#pragma clang attribute push(                                                                \
    __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")
#endif
#define CS_ISA avx512
#define CS_NATIVE_BYTES 64
#include "cs_instantiate_types.h"
#undef CS_NATIVE_BYTES
#undef CS_ISA
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#endif /* CS_SIMD_X86_64 */

/* static const table_type name_suf_table[CS_SIMD_N_LEVELS]: the name_suf_<isa> functions, one
 * per level of cs_dispatch.h, in level order. */
#define CS_TABLE_ENTRY_(base, isa) base##_##isa,
#define CS_TABLE(type, name, suf)                                                             \
    static const type name##_##suf##_table[CS_SIMD_N_LEVELS] = {                              \
        CS_SIMD_FOREACH(CS_TABLE_ENTRY_, name##_##suf)}
