/*
 * check_fuzz_regress.c - replay fuzz inputs through the fuzz targets.
 *
 * For every target in fz_targets[], each file of
 *   tests/fuzz-regress/<target>/   (inputs that once crashed: regressions)
 *   fuzz/corpus/<target>/          (the committed seed corpus)
 * is fed to the target's function (fuzz/fuzz_<target>.c), the same code
 * libFuzzer runs, so a fixed bug that comes back fails "make check" even
 * without clang.  One loop iteration per file; a crash or a broken
 * invariant (abort) fails that iteration, and the file name is printed on
 * standard error just before it runs.  Directories are found under
 * $top_srcdir (set by the test harness), else the current directory.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz/fuzz.h"
#include "tests/suites.h"

typedef int (*fz_fn)(const uint8_t *data, size_t size);

static const struct {
    const char *name;           /* directory name under fuzz-regress/ and corpus/ */
    fz_fn fn;
} fz_targets[] = {
    { "decode", fuzz_decode },
    { "pcapfile", fuzz_pcapfile },
    { "graphrec", fuzz_graphrec },
    { "policy", fuzz_policy },
    { "labels", fuzz_labels },
};
#define FZ_N_TARGETS (int)(sizeof(fz_targets) / sizeof(fz_targets[0]))

/* One input to replay. */
typedef struct fz_input {
    int target;                 /* index in fz_targets */
    int regress;                /* 1: from tests/fuzz-regress */
    char *path;
} fz_input;

static fz_input *fz_inputs;     /* gathered once by suite_fuzz_regress() */
static int fz_n, fz_cap;
static int fz_n_regress[8];     /* regression files per target */

static int
fz_cmp(const void *a, const void *b)
{
    const fz_input *x = a, *y = b;
    if (x->target != y->target)
        return x->target - y->target;
    return strcmp(x->path, y->path);
}

static void
fz_gather(const char *root, const char *sub, int target, int regress)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s/%s", root, sub, fz_targets[target].name);
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char p[4096 + 256];
        struct stat st;
        if (de->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if (stat(p, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (fz_n == fz_cap) {
            int ncap = fz_cap ? fz_cap * 2 : 256;
            fz_input *n = realloc(fz_inputs, (size_t)ncap * sizeof *n);
            if (!n)
                break;
            fz_inputs = n;
            fz_cap = ncap;
        }
        fz_inputs[fz_n].target = target;
        fz_inputs[fz_n].regress = regress;
        fz_inputs[fz_n].path = strdup(p);
        if (fz_inputs[fz_n].path) {
            fz_n++;
            fz_n_regress[target] += regress;
        }
    }
    closedir(d);
}

/* Read a whole file into a buffer of exactly its size. */
static uint8_t *
fz_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc(n ? (size_t)n : 1);
        if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    *len = n > 0 ? (size_t)n : 0;
    return buf;
}

START_TEST(test_replay)
{
    const fz_input *in = &fz_inputs[_i];
    size_t len;
    uint8_t *data = fz_slurp(in->path, &len);
    ck_assert_msg(data != NULL, "cannot read %s", in->path);
    fprintf(stderr, "fuzz_regress: %s %s\n", fz_targets[in->target].name, in->path);
    fz_targets[in->target].fn(data, len);
    free(data);
}
END_TEST

/* The corpora are there: a replay of nothing would pass silently. */
START_TEST(test_inputs_found)
{
    for (int t = 0; t < FZ_N_TARGETS; t++) {
        int n = 0;
        for (int i = 0; i < fz_n; i++)
            n += fz_inputs[i].target == t;
        ck_assert_msg(n > 0, "no corpus or regression inputs for fuzz target %s "
                      "(top_srcdir=%s)", fz_targets[t].name, getenv("top_srcdir"));
    }
}
END_TEST

Suite *
suite_fuzz_regress(void)
{
    const char *root = getenv("top_srcdir");
    if (!root || !*root)
        root = ".";
    if (!fz_inputs) {
        for (int t = 0; t < FZ_N_TARGETS; t++) {
            fz_gather(root, "tests/fuzz-regress", t, 1);
            fz_gather(root, "fuzz/corpus", t, 0);
        }
        if (fz_n)
            qsort(fz_inputs, (size_t)fz_n, sizeof *fz_inputs, fz_cmp);
    }
    Suite *s = suite_create("fuzz_regress");
    TCase *tc = tcase_create("replay");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_inputs_found);
    tcase_add_loop_test(tc, test_replay, 0, fz_n);
    suite_add_tcase(s, tc);
    return s;
}
