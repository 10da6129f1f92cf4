#include "bench.h"

void lsk_bench_peak(const lsk_bopts *o) { (void)o; }
