/* Part of cs_simd.h: the helpers of its 64-byte double vectors, under the names CS_V(name)
 * that the aliases of cs_simd.h give to the plain names. Included once by cs_simd.h (GCC), or
 * once per instruction set by cs_instantiate.h, inside its target region (Clang); so no
 * include guard. */

CS_INLINE cs_vd cs_loadd(const double *p) { cs_vd v; memcpy(&v, p, sizeof v); return v; }

/* The sum of the lanes, in a fixed order (independent of the instruction set). */
CS_INLINE double cs_hsumd(cs_vd a)
{
    return ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]));
}

/* ---- long sums (see cs_pairsum in cs_simd.h) ------------------------------------------- */

CS_INLINE void cs_pairsum_push(cs_pairsum *p, cs_vd block)
{
    int i = 0;
    while ((p->mask >> i) & 1u) {
        block = p->level[i] + block;
        p->mask &= ~((uint64_t)1 << i);
        i++;
    }
    p->level[i] = block;
    p->mask |= (uint64_t)1 << i;
}

CS_INLINE double cs_pairsum_finish(const cs_pairsum *p, cs_vd last)
{
    for (int i = 0; p->mask >> i; i++)
        if ((p->mask >> i) & 1u)
            last = p->level[i] + last;
    return cs_hsumd(last);
}
