/*
 * fuzz.h - fuzz targets as plain functions.
 *
 * Each fuzz/fuzz_<name>.c defines
 *
 *     int fuzz_<name>(const uint8_t *data, size_t size);
 *
 * which feeds the bytes to one parser and abort()s when an invariant the
 * parser promises does not hold (ASan/UBSan catch the rest).  It returns
 * 0, as libFuzzer wants.  The same function is linked three ways:
 *
 *   fuzz/fuzz_<name>     with libFuzzer (./configure CC=clang --enable-fuzzing;
 *                        make fuzz), through FUZZ_ENTRY below;
 *   fuzz/onefile_<name>  with fuzz/onefile.c, a main() that replays files
 *                        given on the command line (any compiler);
 *   tests/check_segscope the fuzz_regress suite replays the files in
 *                        tests/fuzz-regress/NAME/ and fuzz/corpus/NAME/.
 *
 * FUZZ_ENTRY(fn) defines LLVMFuzzerTestOneInput only when SEG_FUZZ_ENTRY
 * is defined (the fuzz and onefile programs), so the check program can
 * link every target at once.
 */
#ifndef SEGSCOPE_FUZZ_H
#define SEGSCOPE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int fuzz_decode(const uint8_t *data, size_t size);
int fuzz_pcapfile(const uint8_t *data, size_t size);
int fuzz_graphrec(const uint8_t *data, size_t size);
int fuzz_policy(const uint8_t *data, size_t size);
int fuzz_labels(const uint8_t *data, size_t size);

/* Report a broken invariant and abort (a crash to libFuzzer and Check). */
#define FUZZ_ASSERT(cond) do { \
        if (!(cond)) { \
            fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            abort(); \
        } \
    } while (0)

#ifdef SEG_FUZZ_ENTRY
#define FUZZ_ENTRY(fn) \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size); \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fn(data, size); }
#else
#define FUZZ_ENTRY(fn)
#endif

#endif
