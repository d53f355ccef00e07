/*
 * fuzz_labels.c - fuzz the labels file parser (analyzer/labels.c): the
 * user's file given to "segscope capture --labels".
 *
 * The input is the file.  labels_parse() must either load it or give one
 * line "fuzz:LINE: reason" / "fuzz: reason"; loaded labels must answer
 * labels_match() for a few addresses and names with keys in byte order,
 * each reported once, keys and values within their documented lengths.
 * Seeds: fuzz/corpus/labels/; dictionary: fuzz/labels.dict.
 */
#include <string.h>

#include "analyzer/labels.h"
#include "fuzz/fuzz.h"

/* What labels_match() reported for one address. */
typedef struct fz_seen {
    char last[LABELS_MAX_KEY + 2];  /* previous key, to check the order */
    int n;                          /* calls */
} fz_seen;

static void
fz_on_label(const char *key, const char *value, void *ctx)
{
    fz_seen *s = ctx;
    size_t kl = strlen(key);
    FUZZ_ASSERT(kl >= 1 && kl <= LABELS_MAX_KEY);
    FUZZ_ASSERT(strlen(value) <= LABELS_MAX_VALUE);
    FUZZ_ASSERT(s->n == 0 || strcmp(s->last, key) < 0);   /* byte order, each once */
    memcpy(s->last, key, kl + 1);
    s->n++;
}

int
fuzz_labels(const uint8_t *data, size_t size)
{
    char err[512];
    static const uint8_t a4[3][16] = { { 10, 1, 2, 3 }, { 192, 168, 1, 1 }, { 8, 8, 8, 8 } };
    static const uint8_t a6[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5 };
    static const char *const names[] = { "web1.corp.example.", "DB-2.CORP.EXAMPLE", "x" };

    err[0] = '\0';
    labels *l = labels_parse("fuzz", data, size, err, sizeof err);
    if (!l) {
        FUZZ_ASSERT(strncmp(err, "fuzz:", 5) == 0 && strchr(err, '\n') == NULL);
        return 0;
    }
    FUZZ_ASSERT(labels_n_rules(l) <= LABELS_MAX_RULES);
    for (int i = 0; i < 4; i++)
        for (int nn = 0; nn <= 3; nn += 3) {
            fz_seen s = { "", 0 };
            int r = labels_match(l, i < 3 ? a4[i] : a6, i < 3 ? 4 : 6,
                                 nn ? names : NULL, nn, fz_on_label, &s);
            FUZZ_ASSERT(r == -1 || r == s.n);
        }
    labels_free(l);
    return 0;
}

FUZZ_ENTRY(fuzz_labels)
