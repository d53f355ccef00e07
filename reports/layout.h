/*
 * layout.h - drawing a graph with Graphviz, in-process.
 *
 * The one file that includes Graphviz's gvc.h: a DOT text goes in
 * (agmemread), is laid out by a Graphviz engine (gvLayout: "dot", "fdp")
 * and comes back as SVG (gvRenderData "svg"), ready to inline into
 * HTML: the XML prolog, DOCTYPE and comments are removed.  Graphviz's
 * warnings are silenced; its errors come back in err.
 */
#ifndef SEGSCOPE_LAYOUT_H
#define SEGSCOPE_LAYOUT_H

#include <stddef.h>

/*
 * Lay out dot with engine and render SVG.  Returns the <svg> element as
 * malloc'ed text (caller frees) and its length in *len, or NULL with a
 * one-line reason in err (a DOT syntax error, an engine Graphviz does not
 * have, or no Graphviz plugins installed).
 */
char *layout_svg(const char *dot, size_t dotlen, const char *engine, size_t *len,
                 char *err, size_t errlen);

#endif
