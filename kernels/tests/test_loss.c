/* Tests for the loss family: see harness.h. */
#include "harness.h"

void lsk_test_loss(lsk_tctx *t) { (void)t; }
