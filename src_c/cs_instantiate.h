/* Instantiate the template header named by CS_TEMPLATE for float and double, once per
 * instruction set. Each instantiation defines functions named CS_FN(name), that is
 * name_f32_avx2, name_f64_portable, ... The includer then builds dispatch tables from them. */
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
