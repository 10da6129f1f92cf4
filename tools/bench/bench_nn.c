#include "bench.h"

void lsk_bench_nn(const lsk_bopts *o) { (void)o; }
