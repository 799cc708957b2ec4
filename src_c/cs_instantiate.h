/* The one template scheme of src_c/: instantiate the template header named by CS_TEMPLATE for
 * float and double, once per instruction set. Each instantiation defines functions named
 * CS_FN(name), that is name_f32_avx2, name_f64_portable, ... with T, TV, T_SQRT, ... naming
 * its types (cs_tmpl_begin.h). The includer then builds dispatch tables from them, indexed
 * by cs_simd_level() (cs_dispatch.h), with CS_TABLE below. */
#define CS_ISA portable
#include "cs_instantiate_types.h"
#undef CS_ISA

#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define CS_ISA avx2
#include "cs_instantiate_types.h"
#undef CS_ISA
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")
#define CS_ISA avx512
#include "cs_instantiate_types.h"
#undef CS_ISA
#pragma GCC pop_options

/* static const table_type name_suf_table[CS_SIMD_N_LEVELS]: the name_suf_<isa> functions. */
#define CS_TABLE(type, name, suf)                                                             \
    static const type name##_##suf##_table[CS_SIMD_N_LEVELS] = {                              \
        name##_##suf##_portable, name##_##suf##_avx2, name##_##suf##_avx512}
