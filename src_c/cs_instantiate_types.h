/* Part of cs_instantiate.h: the vector helpers when each path has its own (cs_simd.h), then
 * CS_TEMPLATE for float and double, at the current CS_ISA. */
#if defined(CS_SIMD_OPS_PER_ISA)
#include "cs_simd_ops.h"
#endif

#define CS_F32 1
#include "cs_tmpl_begin.h"
#include CS_TEMPLATE
#include "cs_tmpl_end.h"
#undef CS_F32

#define CS_F32 0
#include "cs_tmpl_begin.h"
#include CS_TEMPLATE
#include "cs_tmpl_end.h"
#undef CS_F32
