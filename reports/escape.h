/*
 * escape.h - writing untrusted strings into output formats.
 *
 * Every string that came from traffic (names, user agents, principals)
 * is attacker-controlled.  These writers escape it for the format it
 * lands in; no report writes such a string any other way.
 */
#ifndef SEGSCOPE_ESCAPE_H
#define SEGSCOPE_ESCAPE_H

#include <stdio.h>

/* A CSV cell (RFC 4180): quoted when needed; a cell beginning with
   = + - @ TAB or CR is prefixed with ' so spreadsheets do not run it. */
void esc_csv(FILE *out, const char *s);
/* HTML text or attribute value: & < > " ' escaped, control chars dropped. */
void esc_html(FILE *out, const char *s);
/* Markdown table cell: | \ ` * _ [ ] < > escaped, newlines to spaces. */
void esc_md(FILE *out, const char *s);
/* Inside a DOT double-quoted string: " and \ escaped, newlines to \n. */
void esc_dot(FILE *out, const char *s);
/* A Zeek TSV field: tab, newline, backslash and non-printables as \xNN; empty -> "(empty)". */
void esc_zeek(FILE *out, const char *s);
/* A printable single line: non-printable bytes as \xNN (for text output and nft comments, which
   also get " escaped). */
void esc_text(FILE *out, const char *s);

#endif
