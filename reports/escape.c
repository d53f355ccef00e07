/*
 * escape.c - escaping untrusted strings for each output format.
 */
#include <stdlib.h>
#include <string.h>

#include "reports/escape.h"

void
esc_csv(FILE *out, const char *s)
{
    if (!s)
        return;
    int quote = strpbrk(s, ",\"\r\n") != NULL;
    int formula = s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' ||
                  s[0] == '\t' || s[0] == '\r';
    if (!quote && !formula) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    if (formula)
        fputc('\'', out);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            fputc('"', out);
        fputc(*p, out);
    }
    fputc('"', out);
}

void
esc_html(FILE *out, const char *s)
{
    if (!s)
        return;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                fputc(' ', out);
            else
                fputc(*p, out);
        }
    }
}

void
esc_md(FILE *out, const char *s)
{
    if (!s)
        return;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (strchr("|\\`*_[]<>#!", *p) && *p) {
            fputc('\\', out);
            fputc(*p, out);
        } else if (*p < 0x20 || *p == 0x7f) {
            fputc(' ', out);
        } else {
            fputc(*p, out);
        }
    }
}

void
esc_dot(FILE *out, const char *s)
{
    if (!s)
        return;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            fputc('\\', out);
            fputc(*p, out);
        } else if (*p == '\n') {
            fputs("\\n", out);
        } else if (*p < 0x20 || *p == 0x7f) {
            fputc(' ', out);
        } else {
            fputc(*p, out);
        }
    }
}

void
esc_zeek(FILE *out, const char *s)
{
    if (!s || !*s) {
        fputs("(empty)", out);
        return;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\\' || *p < 0x20 || *p >= 0x7f)
            fprintf(out, "\\x%02x", *p);
        else
            fputc(*p, out);
    }
}

void
esc_text(FILE *out, const char *s)
{
    if (!s)
        return;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\\' || *p == '"' || *p < 0x20 || *p >= 0x7f)
            fprintf(out, "\\x%02x", *p);
        else
            fputc(*p, out);
    }
}

/* Copy s with the bytes in `special`, control bytes and non-ASCII written
   as fmt (a printf format of the byte, `w` bytes wide), at most max bytes
   of output and never half an escape; the bytes written. */
static size_t
esc_bounded(FILE *out, const char *s, size_t max, const char *special, const char *fmt, size_t w)
{
    size_t n = 0;
    if (!s)
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int esc = *p < 0x20 || *p >= 0x7f || strchr(special, *p) != NULL;
        if (n + (esc ? w : 1) > max)
            break;
        if (esc)
            fprintf(out, fmt, *p);
        else
            fputc(*p, out);
        n += esc ? w : 1;
    }
    return n;
}

size_t
esc_nft_comment(FILE *out, const char *s, size_t max)
{
    return esc_bounded(out, s, max, "\\\"", "\\x%02x", 4);
}

size_t
esc_ipt_comment(FILE *out, const char *s, size_t max)
{
    return esc_bounded(out, s, max, "\\\"'%", "%%%02X", 3);
}

size_t
esc_ident(FILE *out, const char *s, size_t max)
{
    size_t n = 0;
    if (!s)
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && n < max; p++, n++) {
        int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                 *p == '_';
        fputc(ok ? *p : '_', out);
    }
    return n;
}

/* Length of the well-formed UTF-8 sequence at p (1..4), or 0 if ill-formed. */
static size_t
utf8_len(const unsigned char *p)
{
    unsigned c = p[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return (p[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        unsigned lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
        return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 ? 3 : 0;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        unsigned lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
        return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80 ? 4 : 0;
    }
    return 0;
}

char *
esc_utf8_dup(const char *s)
{
    if (!s)
        s = "";
    size_t n = strlen(s);
    char *out = malloc(3 * n + 1);     /* each bad byte becomes 3 bytes */
    if (!out)
        return NULL;
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t k = utf8_len(p);         /* reads stop at the NUL: it is never a continuation byte */
        if (k) {
            memcpy(out + o, p, k);
            o += k;
            p += k;
        } else {
            memcpy(out + o, "\xef\xbf\xbd", 3);
            o += 3;
            p++;
        }
    }
    out[o] = 0;
    return out;
}
