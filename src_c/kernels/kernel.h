/* The kernel bodies, compiled by each translation unit of src_c/kernels/ for one dtype on one
 * instruction set (NumPy's *.dispatch.c scheme). The unit (f32_avx2.c, ...) defines
 *   CS_F32           1 for float, 0 for double;
 *   CS_NATIVE_BYTES  the width of the hardware's vectors: 16 (SSE2, NEON), 32 (AVX2), 64;
 *   CS_ISA           the level's name (cs_dispatch.h), the suffix of the exported kernels;
 * opens its target region and includes this file. Inside, helpers are static inline
 * functions with plain names (row_max, nv_exp); only the kernels the dispatch tables point
 * at are exported, each defined as CS_KERNEL(name): CS_KERNEL(softmax_block) is
 * softmax_block_f32_avx2 in f32_avx2.c (declared in cs_kernels.h). Compiled with
 * CS_FORCE_ROW_PATH (the C tests only, narrow.h) they are <name>_rowpath_f32_avx2 instead. */
#include "cs_simd.h"

#if CS_F32
typedef float T;
#define CS_SUF f32
#define TW CS_WF /* T per 64-byte vector: the logical lanes of every row sum (cs_simd.h) */
#define T_SQRT sqrtf
#else
typedef double T;
#define CS_SUF f64
#define TW CS_WD
#define T_SQRT sqrt
#endif
#ifdef CS_FORCE_ROW_PATH /* the C tests' row-loop-only copy (narrow.h) */
#define CS_KERNEL(name) CS_CAT3(name##_rowpath, CS_SUF, CS_ISA)
#else
#define CS_KERNEL(name) CS_CAT3(name, CS_SUF, CS_ISA)
#endif
#define B(net) (&(net)->b.CS_SUF) /* the MLP engine's buffers of this dtype (cs_kernels.h) */

#include "vec.h"
#include "rows.h"
#include "narrow.h"
#include "where.h"
#include "softmax_kernels.h"
#include "xent_kernels.h"
#include "optim_kernels.h"
#include "mlp_rows.h"
#include "mlp_csr.h"
#include "mlp_gemm.h"
#include "mlp_batch.h"
#include "mlp_team.h"
#include "mlp_kernels.h"
