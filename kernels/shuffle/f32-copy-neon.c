/* Plane-copy microkernels, neon instantiation of f32-copy.h (lsk_f32_<op>_ukernel_<tile>__neon).
 * No non-temporal vector store is used (STNP is only a hint, with pair-of-register granularity):
 * copy_nt = copy, with the same source prefetch (PRFM). */
#include <stddef.h>
#include "shuffle-ukernels.h"

#if defined(__aarch64__)
#include "../eltwise/vec-neon.h"
#include "f32-copy.h"
#endif
