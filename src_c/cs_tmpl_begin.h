/* Generic names for the element type of the current instantiation (see cs_instantiate.h).
 * T is the element type, T_SQRT its square root; TV a 64-byte vector of T with TW lanes. Sums are accumulated in
 * double: TV_ACC adds a vector into two double-vector accumulators (for float, the low and
 * high halves widened; for double, only the first accumulator is used). */
#if CS_F32
#define T float
#define CS_SUF f32
#define TV cs_vf
#define TW CS_WF
#define TV_LOAD cs_loadf
#define TV_STORE cs_storef
#define TV_EXP cs_vexp_f32
#define T_SQRT sqrtf
#define TV_MAX cs_maxf
#define TV_HMAX cs_hmaxf
#define TV_SPLAT CS_SPLATF
#define TV_SEL cs_self
#define TV_ACC(a0, a1, v) do { TV v_ = (v); (a0) += cs_lo_to_d(v_); (a1) += cs_hi_to_d(v_); } while (0)
#define TV_ACC_MUL(a0, a1, u, v) \
    do { TV u_ = (u), v_ = (v); \
         (a0) += cs_lo_to_d(u_) * cs_lo_to_d(v_); (a1) += cs_hi_to_d(u_) * cs_hi_to_d(v_); } while (0)
#else
#define T double
#define CS_SUF f64
#define TV cs_vd
#define TW CS_WD
#define TV_LOAD cs_loadd
#define TV_STORE cs_stored
#define TV_EXP cs_vexp_f64
#define T_SQRT sqrt
#define TV_MAX cs_maxd
#define TV_HMAX cs_hmaxd
#define TV_SPLAT CS_SPLATD
#define TV_SEL cs_seld
#define TV_ACC(a0, a1, v) do { (a0) += (v); } while (0)
#define TV_ACC_MUL(a0, a1, u, v) do { (a0) += (u) * (v); } while (0)
#endif
#define CS_FN(name) CS_CAT3(name, CS_SUF, CS_ISA)
