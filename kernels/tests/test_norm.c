/* Tests for the norm family: see harness.h. */
#include "harness.h"

void lsk_test_norm(lsk_tctx *t) { (void)t; }
