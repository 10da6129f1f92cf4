/* Tests for the pool family: see harness.h. */
#include "harness.h"

void lsk_test_pool(lsk_tctx *t) { (void)t; }
