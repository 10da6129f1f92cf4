/* Tests for the linear family: see harness.h. */
#include "harness.h"

void lsk_test_linear(lsk_tctx *t) { (void)t; }
