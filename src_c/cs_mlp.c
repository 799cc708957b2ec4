/* csoftmax: fused element-wise pieces of MLP training (see cs_mlp.h). Written once in
 * cs_mlp_impl.h for float and double. Plain loops: the compiler vectorises the simple ones;
 * the GEMMs around them dominate the time. */
#include <math.h>

#include "cs_mlp.h"

#define CS_MLP_CAT_(a, b) a##_##b
#define CS_MLP_CAT(a, b) CS_MLP_CAT_(a, b)

#define T float
#define CS_MLP_FN(name) CS_MLP_CAT(name, f32)
#define CS_MLP_SQRT sqrtf
#include "cs_mlp_impl.h"
#undef T
#undef CS_MLP_FN
#undef CS_MLP_SQRT

#define T double
#define CS_MLP_FN(name) CS_MLP_CAT(name, f64)
#define CS_MLP_SQRT sqrt
#include "cs_mlp_impl.h"
#undef T
#undef CS_MLP_FN
#undef CS_MLP_SQRT
