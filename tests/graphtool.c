/*
 * graphtool.c - test helper: write raw records into a graph database,
 * bypassing every check, to make databases segscope must refuse or skip.
 *
 *   graphtool set-schema DIR N          the schema key says version N
 *   graphtool put-raw DIR KEYHEX VALHEX any key and value, in hex
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/graph.h"

/* Hex text -> bytes; -1 if malformed or longer than cap. */
static long
unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = strlen(s);
    if (n % 2 || n / 2 > cap)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (uint8_t)v;
    }
    return (long)(n / 2);
}

int
main(int argc, char **argv)
{
    char err[512];
    if (argc == 4 && strcmp(argv[1], "set-schema") == 0) {
        uint8_t v[16];
        size_t n = graph_schema_encode((uint32_t)strtoul(argv[3], NULL, 10), 1, v);
        if (graph_debug_put_raw(argv[2], graph_schema_key, strlen(graph_schema_key), v, n,
                                err, sizeof(err)) < 0) {
            fprintf(stderr, "graphtool: %s\n", err);
            return 1;
        }
        return 0;
    }
    if (argc == 5 && strcmp(argv[1], "put-raw") == 0) {
        static uint8_t k[GRAPHREC_KEY_MAX * 4], v[GRAPHREC_VAL_MAX];
        long kl = unhex(argv[3], k, sizeof(k)), vl = unhex(argv[4], v, sizeof(v));
        if (kl <= 0 || vl < 0) {
            fprintf(stderr, "graphtool: bad hex\n");
            return 2;
        }
        if (graph_debug_put_raw(argv[2], k, (size_t)kl, v, (size_t)vl, err, sizeof(err)) < 0) {
            fprintf(stderr, "graphtool: %s\n", err);
            return 1;
        }
        return 0;
    }
    fprintf(stderr, "usage: graphtool set-schema DIR N | put-raw DIR KEYHEX VALHEX\n");
    return 2;
}
