/*
 * onefile.c - replay fuzz inputs without libFuzzer.
 *
 *   fuzz/onefile_<name> FILE|DIR...
 *
 * Feeds each FILE (each regular file of each DIR) to the target's
 * LLVMFuzzerTestOneInput, as libFuzzer would, and prints one line per
 * input.  A crash or sanitizer report stops the program the same way it
 * stops the fuzzer, so a reproducer can be replayed (and debugged with
 * gdb) with any compiler.  Exit: 0 all ran, 1 an input could not be read.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Read a whole file into a buffer of exactly its size (so ASan sees overreads). */
static int
onefile_run(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0, n;
    uint8_t *buf = malloc(cap);
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    int bad = ferror(f) || !buf;
    fclose(f);
    if (bad) {
        fprintf(stderr, "%s: cannot read\n", path);
        free(buf);
        return -1;
    }
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact) {
        free(buf);
        return -1;
    }
    memcpy(exact, buf, len);
    free(buf);
    printf("%s: %zu bytes ... ", path, len);
    fflush(stdout);
    LLVMFuzzerTestOneInput(exact, len);
    printf("ok\n");
    free(exact);
    return 0;
}

int
main(int argc, char **argv)
{
    int rc = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            DIR *d = opendir(argv[i]);
            struct dirent *de;
            if (!d) {
                fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
                rc = 1;
                continue;
            }
            while ((de = readdir(d)) != NULL) {
                char p[4096];
                struct stat fs;
                snprintf(p, sizeof p, "%s/%s", argv[i], de->d_name);
                if (de->d_name[0] != '.' && stat(p, &fs) == 0 && S_ISREG(fs.st_mode) &&
                    onefile_run(p) < 0)
                    rc = 1;
            }
            closedir(d);
        } else if (onefile_run(argv[i]) < 0) {
            rc = 1;
        }
    }
    return rc;
}
