/* ISA switch, thread setting, status strings. */
#include <string.h>
#include "harness.h"

void lsk_test_api(lsk_tctx *t) {
    lsk_tcheck(t, lsk_isa_supported(LSK_ISA_SCALAR) == 1, "scalar path always supported");
    lsk_tcheck(t, lsk_set_isa(LSK_ISA_SCALAR) == LSK_OK && lsk_get_isa() == LSK_ISA_SCALAR, "force scalar");
    lsk_tcheck(t, lsk_set_isa((lsk_isa)99) == LSK_ERR_UNSUPPORTED, "unknown ISA rejected");
    lsk_tcheck(t, lsk_get_isa() == LSK_ISA_SCALAR, "rejected set leaves ISA unchanged");
#if defined(__x86_64__)
    lsk_tcheck(t, lsk_set_isa(LSK_ISA_NEON) == LSK_ERR_UNSUPPORTED, "NEON unsupported on x86-64");
#endif
#if defined(__aarch64__)
    lsk_tcheck(t, lsk_isa_supported(LSK_ISA_NEON), "NEON supported on AArch64");
#endif
    lsk_tcheck(t, lsk_set_isa(LSK_ISA_AUTO) == LSK_OK, "back to auto");
    const int before = lsk_get_num_threads();
    lsk_set_num_threads(1);
    lsk_tcheck(t, lsk_get_num_threads() == 1, "thread count settable");
    lsk_set_num_threads(0);
    lsk_tcheck(t, lsk_get_num_threads() == before, "thread count default restored");
    lsk_tcheck(t, strcmp(lsk_status_string(LSK_ERR_INVALID_ARGUMENT), "invalid argument") == 0, "status strings");
}
