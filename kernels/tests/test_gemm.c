/* Tests for the gemm family: see harness.h. */
#include "harness.h"

void lsk_test_gemm(lsk_tctx *t) { (void)t; }
