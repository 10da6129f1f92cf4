/* Tests for the eltwise family: see harness.h. */
#include "harness.h"

void lsk_test_eltwise(lsk_tctx *t) { (void)t; }
