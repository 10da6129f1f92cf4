/* C test program: lsk_test [family-filter] [-v]. Prints "N passed, N failed". */
#include <stdio.h>
#include <string.h>
#include "harness.h"

int main(int argc, char **argv) {
    const char *filter = NULL;
    int verbose = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0) verbose = 1;
        else filter = argv[i];
    }
    printf("lsk %s, ISA paths on this CPU:", lsk_version());
    for (int i = 0; i < LSK_ISA_COUNT; i++)
        if (lsk_isa_supported((lsk_isa)i)) printf(" %s", lsk_isa_name((lsk_isa)i));
    printf(" (default %s), %d threads\n", lsk_isa_name(lsk_get_isa()), lsk_get_num_threads());
    int passed = 0, failed = 0;
    lsk_tests_run_counts(filter, verbose, &passed, &failed);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
