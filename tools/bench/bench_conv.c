#include "bench.h"

void lsk_bench_conv(const lsk_bopts *o) { (void)o; }
