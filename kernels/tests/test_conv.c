/* Tests for the conv family: see harness.h. */
#include "harness.h"

void lsk_test_conv(lsk_tctx *t) { (void)t; }
