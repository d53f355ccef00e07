/*
 * layout.c - Graphviz in-process: DOT in, SVG out (see layout.h).
 *
 * Graphviz keeps its error state in the library (agseterr/aglasterr);
 * this file only sets the level and reads the last message, and frees
 * every graph and rendering it made before returning.
 *
 * The one exception to "no mutable globals outside main": the Graphviz
 * context is made once per process and kept.  Graphviz 2.42's pango text
 * plugin caches the last font name it measured across contexts, and reads
 * it again after gvFreeContext() has freed it (a use after free on the
 * second context of a process, found by ASan).  Not thread-safe: maps are
 * drawn from one thread.
 *
 * Determinism: cgraph names objects by IDs, and its default ID scheme
 * uses the address of the interned name, so subgraphs (the clusters) are
 * ordered by heap addresses: the same DOT text could be drawn and written
 * in another order by another process.  layout_svg() therefore reads the
 * DOT with an ID discipline of its own (seq_id_*) that numbers names in
 * the order they first appear, so the drawing depends on the text alone.
 */
#include <stdlib.h>
#include <string.h>

#include <gvc.h>

#include "reports/layout.h"

/* Copy svg without the XML prolog, DOCTYPE and comments (text only; Graphviz
   escapes '<' in labels, so a "<!" or "<?" is always markup). */
static char *
strip_svg(const char *svg, size_t n, size_t *len)
{
    char *out = malloc(n + 1);
    size_t o = 0, i = 0;
    if (!out)
        return NULL;
    const char *start = NULL;
    for (size_t k = 0; k + 4 <= n; k++)
        if (memcmp(svg + k, "<svg", 4) == 0) {
            start = svg + k;
            break;
        }
    if (!start) {
        free(out);
        return NULL;
    }
    i = (size_t)(start - svg);
    while (i < n) {
        if (i + 4 <= n && memcmp(svg + i, "<!--", 4) == 0) {
            const char *e = NULL;
            for (size_t k = i + 4; k + 3 <= n; k++)
                if (memcmp(svg + k, "-->", 3) == 0) {
                    e = svg + k;
                    break;
                }
            if (!e)
                break;
            i = (size_t)(e - svg) + 3;
            if (i < n && svg[i] == '\n')
                i++;
            continue;
        }
        out[o++] = svg[i++];
    }
    out[o] = 0;
    *len = o;
    return out;
}

/* ---- names numbered in order of appearance ------------------------------------ */

/* State of the ID discipline: the names seen, their ID is 2 * (index + 1). */
typedef struct seq_ids {
    char **names;               /* owned copies */
    size_t n, cap;              /* names held, allocated */
    IDTYPE anon;                /* next ID of an anonymous object (odd) */
} seq_ids;

static void *
seq_open(Agraph_t *g, Agdisc_t *disc)
{
    (void)g;
    (void)disc;
    seq_ids *s = calloc(1, sizeof(*s));
    if (s)
        s->anon = 1;
    return s;
}

static long
seq_map(void *state, int objtype, char *str, IDTYPE *id, int createflag)
{
    seq_ids *s = state;
    (void)objtype;
    if (!str) {
        *id = s->anon;
        s->anon += 2;
        return 1;
    }
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->names[i], str) == 0) {
            *id = (IDTYPE)(2 * (i + 1));
            return 1;
        }
    if (!createflag)
        return 0;
    if (s->n == s->cap) {
        size_t nc = s->cap ? 2 * s->cap : 64;
        char **v = realloc(s->names, nc * sizeof(*v));
        if (!v)
            return 0;
        s->names = v;
        s->cap = nc;
    }
    if (!(s->names[s->n] = strdup(str)))
        return 0;
    s->n++;
    *id = (IDTYPE)(2 * s->n);
    return 1;
}

static long
seq_alloc(void *state, int objtype, IDTYPE id)
{
    (void)state;
    (void)objtype;
    return (id & 1) == 0;
}

static void
seq_free(void *state, int objtype, IDTYPE id)
{
    (void)state;
    (void)objtype;
    (void)id;
}

static char *
seq_print(void *state, int objtype, IDTYPE id)
{
    seq_ids *s = state;
    (void)objtype;
    if ((id & 1) || id == 0 || id / 2 > s->n)
        return NULL;
    return s->names[id / 2 - 1];
}

static void
seq_close(void *state)
{
    seq_ids *s = state;
    for (size_t i = 0; s && i < s->n; i++)
        free(s->names[i]);
    if (s)
        free(s->names);
    free(s);
}

static void
seq_idregister(void *state, int objtype, void *obj)
{
    (void)state;
    (void)objtype;
    (void)obj;
}

static Agiddisc_t seq_id_disc = {
    seq_open, seq_map, seq_alloc, seq_free, seq_print, seq_close, seq_idregister,
};

char *
layout_svg(const char *dot, size_t dotlen, const char *engine, size_t *len, char *err, size_t errlen)
{
    char *buf = NULL, *svg = NULL;
    unsigned int blen = 0;
    Agraph_t *g = NULL;
    int laid = 0;
    static GVC_t *gvc;                      /* see the top of the file */
    agseterr(AGMAX);                        /* no warnings on stderr */
    if (!gvc)
        gvc = gvContext();
    char *copy = malloc(dotlen + 1);
    if (!gvc || !copy) {
        snprintf(err, errlen, "Graphviz: out of memory");
        goto out;
    }
    memcpy(copy, dot, dotlen);
    copy[dotlen] = 0;
    FILE *in = fmemopen(copy, dotlen, "r");
    if (!in) {
        snprintf(err, errlen, "Graphviz: out of memory");
        goto out;
    }
    Agdisc_t disc = { &AgMemDisc, &seq_id_disc, &AgIoDisc };
    g = agread(in, &disc);
    fclose(in);
    if (!g) {
        char *e = aglasterr();
        snprintf(err, errlen, "Graphviz could not read the map: %.200s", e ? e : "syntax error");
        goto out;
    }
    if (gvLayout(gvc, g, engine) != 0) {
        snprintf(err, errlen, "Graphviz could not lay out the map with '%s' (are Graphviz's "
                 "plugins installed? apt-get install libgvc6)", engine);
        goto out;
    }
    laid = 1;
    if (gvRenderData(gvc, g, "svg", &buf, &blen) != 0 || !buf) {
        snprintf(err, errlen, "Graphviz could not render SVG");
        goto out;
    }
    if (!(svg = strip_svg(buf, blen, len)))
        snprintf(err, errlen, "Graphviz returned no <svg> element");
out:
    if (buf)
        gvFreeRenderData(buf);
    if (g) {
        if (laid)
            gvFreeLayout(gvc, g);
        agclose(g);
    }
    free(copy);
    return svg;
}
