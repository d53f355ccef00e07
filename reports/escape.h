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
/*
 * Bounded writers for firewall exports.  Each writes at most max bytes
 * (never cutting an escape in two) and returns the bytes written.
 *   esc_nft_comment  the body of an nftables comment "..." (nft takes 128
 *                    bytes and knows no escapes): esc_text's rules.
 *   esc_ipt_comment  the body of an iptables-restore --comment "..." (the
 *                    match takes 255 bytes; iptables-restore reads \ and "
 *                    inside quotes): printable ASCII but " \ ' % as %XX,
 *                    every other byte as %XX.
 *   esc_ident        an identifier (nft set or chain name, iptables chain
 *                    name, CSS class): [A-Za-z0-9_] kept, anything else '_'.
 */
size_t esc_nft_comment(FILE *out, const char *s, size_t max);
size_t esc_ipt_comment(FILE *out, const char *s, size_t max);
size_t esc_ident(FILE *out, const char *s, size_t max);
/*
 * A copy of s that is valid UTF-8: every byte that does not start a
 * well-formed sequence (overlong forms, surrogates and code points past
 * U+10FFFF are ill-formed) becomes U+FFFD.  Reports store strings from
 * traffic this way so every format gets valid UTF-8.  NULL on OOM; NULL
 * in gives "".
 */
char *esc_utf8_dup(const char *s);

#endif
