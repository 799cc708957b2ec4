/* Generic names for the element type of the current instantiation (see cs_instantiate.h).
 * T is the element type and T_SQRT its square root. TW is the number of T in a 64-byte
 * vector of cs_simd.h: the lanes that fix the order of every row sum (element j of a row
 * is summed in lane j % TW, whatever the hardware's vectors; see cs_native_impl.h). */
#if CS_F32
#define T float
#define CS_SUF f32
#define TW CS_WF
#define T_SQRT sqrtf
#else
#define T double
#define CS_SUF f64
#define TW CS_WD
#define T_SQRT sqrt
#endif
#define CS_FN(name) CS_CAT3(name, CS_SUF, CS_ISA)
