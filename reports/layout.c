/*
 * layout.c - Graphviz in-process: DOT in, SVG out (see layout.h).
 *
 * Graphviz keeps its error state in the library (agseterr/aglasterr);
 * this file only sets the level and reads the last message, and frees
 * everything it made before returning.  A context is made per call: a
 * report draws one map, and gvContext() only reads the plugin
 * configuration.
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

char *
layout_svg(const char *dot, size_t dotlen, const char *engine, size_t *len, char *err, size_t errlen)
{
    char *buf = NULL, *svg = NULL;
    unsigned int blen = 0;
    Agraph_t *g = NULL;
    int laid = 0;
    agseterr(AGMAX);                        /* no warnings on stderr */
    GVC_t *gvc = gvContext();
    char *copy = malloc(dotlen + 1);
    if (!gvc || !copy) {
        snprintf(err, errlen, "Graphviz: out of memory");
        goto out;
    }
    memcpy(copy, dot, dotlen);
    copy[dotlen] = 0;
    g = agmemread(copy);
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
    if (gvc)
        gvFreeContext(gvc);
    free(copy);
    return svg;
}
