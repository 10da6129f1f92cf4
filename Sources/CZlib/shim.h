/* zlib from Debian's zlib1g-dev: gzip-compressed dataset files are read with gzread. */
#include <zlib.h>
