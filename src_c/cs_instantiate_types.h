/* Part of cs_instantiate.h: CS_TEMPLATE for float, then double, at the current CS_ISA. */
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
