/*
 * labels.c - the user's labels file (see labels.h for format and precedence).
 *
 * The file is read whole (at most LABELS_MAX_FILE bytes) and parsed line
 * by line through an rd.h reader.  Rules are kept in file order; matching
 * walks them all (a labels file has hundreds of rules, not millions) and
 * keeps, per key, the value of the best-ranked rule: rank = 1 + prefix
 * length for an address rule, 0 for a name rule, ties broken by line.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/labels.h"
#include "analyzer/netclass.h"
#include "capture/rd.h"

/* One key=value of a rule. */
typedef struct label_kv {
    char *key;                  /* [a-z][a-z0-9_]* */
    char *value;                /* as written, quotes and escapes removed */
} label_kv;

/* One line of the file. */
typedef struct label_rule {
    unsigned line;              /* 1-based line number */
    uint8_t is_name;            /* 1: name glob selector, 0: address/CIDR */
    netclass_cidr net;          /* the network, if !is_name */
    char *glob;                 /* the pattern, if is_name */
    label_kv *kv;               /* its pairs, in the order written */
    int n_kv;
} label_rule;

/* A loaded file. */
struct labels {
    label_rule *rules;          /* in file order */
    size_t n, cap;              /* used, allocated */
};

/* A key's best value so far during labels_match. */
typedef struct winner {
    const char *key, *value;    /* pointers into the rules */
    unsigned rank;              /* 1 + prefix length, or 0 for a name rule */
    unsigned line;              /* line of the rule */
} winner;

static void
rule_free(label_rule *r)
{
    for (int i = 0; i < r->n_kv; i++) {
        free(r->kv[i].key);
        free(r->kv[i].value);
    }
    free(r->kv);
    free(r->glob);
}

void
labels_free(labels *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        rule_free(&l->rules[i]);
    free(l->rules);
    free(l);
}

size_t
labels_n_rules(const labels *l)
{
    return l ? l->n : 0;
}

static void
lerr(char *err, size_t errlen, const char *name, unsigned line, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (!err || !errlen)
        return;
    n = line ? snprintf(err, errlen, "%s:%u: ", name, line) : snprintf(err, errlen, "%s: ", name);
    if (n < 0 || (size_t)n >= errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

/* Copy a token for an error message: printable ASCII, others as '?', cut at 80. */
static const char *
shown(const uint8_t *p, size_t n, char buf[96])
{
    size_t k = 0;
    for (size_t i = 0; i < n && k < 80; i++)
        buf[k++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
    if (n > 80) {
        buf[k++] = '.';
        buf[k++] = '.';
        buf[k++] = '.';
    }
    buf[k] = '\0';
    return buf;
}

static int
is_ws(uint8_t c)
{
    return c == ' ' || c == '\t';
}

static void
skip_ws(rd_t *r)
{
    uint8_t c;
    while (rd_peek_u8(r, 0, &c) && is_ws(c))
        if (!rd_skip(r, 1))
            break;
}

/* A run of bytes up to whitespace (or the end): start and length. */
static size_t
take_word(rd_t *r, const uint8_t **start)
{
    uint8_t c;
    size_t n = 0;
    *start = rd_ptr(r);
    while (rd_peek_u8(r, 0, &c) && !is_ws(c)) {
        if (!rd_skip(r, 1))
            break;
        n++;
    }
    return n;
}

static char *
dup_bytes(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

/*
 * Parse one line (without its newline) into *rule.  Returns 1 for a rule,
 * 0 for a blank/comment line, -1 on error (message in err, *rule freed).
 */
static int
parse_line(rd_t line, const char *name, unsigned lineno, label_rule *rule, char *err, size_t errlen)
{
    const uint8_t *w;
    size_t wn;
    uint8_t c;
    char show[96];

    memset(rule, 0, sizeof(*rule));
    rule->line = lineno;
    skip_ws(&line);
    if (!rd_peek_u8(&line, 0, &c) || c == '#')
        return 0;

    /* selector */
    wn = take_word(&line, &w);
    if (wn > 5 && memcmp(w, "name:", 5) == 0) {
        rule->is_name = 1;
        if (wn - 5 > 255) {
            lerr(err, errlen, name, lineno, "name pattern too long (at most 255 bytes)");
            return -1;
        }
        if (memchr(w, '"', wn)) {
            lerr(err, errlen, name, lineno, "bad name pattern '%s' (no quotes in a pattern)", shown(w, wn, show));
            return -1;
        }
        if (!(rule->glob = dup_bytes(w + 5, wn - 5)))
            goto oom;
    } else if (wn == 5 && memcmp(w, "name:", 5) == 0) {
        lerr(err, errlen, name, lineno, "empty name pattern after 'name:'");
        return -1;
    } else {
        char tok[96], why[160];
        if (wn >= 64) {
            lerr(err, errlen, name, lineno, "bad selector '%s' (want an address, a CIDR or name:GLOB)", shown(w, wn, show));
            return -1;
        }
        memcpy(tok, w, wn);
        tok[wn] = '\0';
        if (netclass_parse_cidr(tok, &rule->net, why, sizeof(why)) < 0) {
            if (memchr(tok, '/', wn))
                lerr(err, errlen, name, lineno, "%s", why);
            else
                lerr(err, errlen, name, lineno, "bad selector '%s' (want an address, a CIDR or name:GLOB)", shown(w, wn, show));
            return -1;
        }
    }

    /* key=value pairs */
    for (;;) {
        int had_ws = 0;
        while (rd_peek_u8(&line, 0, &c) && is_ws(c)) {
            had_ws = 1;
            if (!rd_skip(&line, 1))
                break;
        }
        if (!rd_peek_u8(&line, 0, &c) || c == '#')
            break;
        if (!had_ws) {
            lerr(err, errlen, name, lineno, "missing space before '%c'", c);
            goto fail;
        }
        /* key */
        const uint8_t *k = rd_ptr(&line);
        size_t kn = 0;
        while (rd_peek_u8(&line, 0, &c) && c != '=' && !is_ws(c)) {
            if (!rd_skip(&line, 1))
                break;
            kn++;
        }
        if (!rd_peek_u8(&line, 0, &c) || c != '=') {
            lerr(err, errlen, name, lineno, "expected key=value, got '%s'", shown(k, kn, show));
            goto fail;
        }
        int key_ok = kn > 0 && kn <= LABELS_MAX_KEY && k[0] >= 'a' && k[0] <= 'z';
        for (size_t i = 1; key_ok && i < kn; i++)
            key_ok = (k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' && k[i] <= '9') || k[i] == '_';
        if (!key_ok) {
            lerr(err, errlen, name, lineno, "bad key '%s' (keys are [a-z][a-z0-9_]*, at most %d bytes)",
                 shown(k, kn, show), LABELS_MAX_KEY);
            goto fail;
        }
        if (!rd_skip(&line, 1))
            goto fail;
        /* value */
        char val[LABELS_MAX_VALUE + 1];
        size_t vn = 0;
        if (rd_peek_u8(&line, 0, &c) && c == '"') {
            int closed = 0;
            if (!rd_skip(&line, 1))
                goto fail;
            while (rd_u8(&line, &c)) {
                if (c == '"') {
                    closed = 1;
                    break;
                }
                if (c == '\\') {
                    uint8_t e;
                    if (!rd_u8(&line, &e) || (e != '"' && e != '\\')) {
                        lerr(err, errlen, name, lineno, "bad escape in quoted value (only \\\" and \\\\)");
                        goto fail;
                    }
                    c = e;
                }
                if (vn == LABELS_MAX_VALUE) {
                    lerr(err, errlen, name, lineno, "value too long (at most %d bytes)", LABELS_MAX_VALUE);
                    goto fail;
                }
                val[vn++] = (char)c;
            }
            if (!closed) {
                lerr(err, errlen, name, lineno, "unterminated quoted value for key '%s'", shown(k, kn, show));
                goto fail;
            }
            if (rd_peek_u8(&line, 0, &c) && !is_ws(c)) {
                lerr(err, errlen, name, lineno, "unexpected '%c' after the quoted value", c);
                goto fail;
            }
        } else {
            while (rd_peek_u8(&line, 0, &c) && !is_ws(c)) {
                if (c == '"') {
                    lerr(err, errlen, name, lineno, "a quote inside an unquoted value (quote the whole value)");
                    goto fail;
                }
                if (vn == LABELS_MAX_VALUE) {
                    lerr(err, errlen, name, lineno, "value too long (at most %d bytes)", LABELS_MAX_VALUE);
                    goto fail;
                }
                val[vn++] = (char)c;
                if (!rd_skip(&line, 1))
                    break;
            }
            if (vn == 0) {
                lerr(err, errlen, name, lineno, "missing value for key '%s' (write %s=\"\" for an empty one)",
                     shown(k, kn, show), shown(k, kn, show));
                goto fail;
            }
        }
        if (memchr(val, '\0', vn)) {
            lerr(err, errlen, name, lineno, "NUL byte in a value");
            goto fail;
        }
        label_kv *nkv = realloc(rule->kv, (size_t)(rule->n_kv + 1) * sizeof(*nkv));
        if (!nkv)
            goto oom;
        rule->kv = nkv;
        rule->kv[rule->n_kv].key = dup_bytes(k, kn);
        rule->kv[rule->n_kv].value = dup_bytes((const uint8_t *)val, vn);
        rule->n_kv++;
        if (!rule->kv[rule->n_kv - 1].key || !rule->kv[rule->n_kv - 1].value)
            goto oom;
        if (rule->n_kv > 256) {
            lerr(err, errlen, name, lineno, "too many key=value pairs in one rule (at most 256)");
            goto fail;
        }
    }
    if (rule->n_kv == 0) {
        lerr(err, errlen, name, lineno, "no key=value after the selector");
        goto fail;
    }
    return 1;
oom:
    lerr(err, errlen, name, lineno, "out of memory");
fail:
    rule_free(rule);
    memset(rule, 0, sizeof(*rule));
    return -1;
}

labels *
labels_parse(const char *name, const void *buf, size_t len, char *err, size_t errlen)
{
    labels *l = calloc(1, sizeof(*l));
    if (!l) {
        lerr(err, errlen, name, 0, "out of memory");
        return NULL;
    }
    rd_t r = rd_make(buf, len);
    unsigned lineno = 0;
    while (rd_left(&r) > 0) {
        const uint8_t *p = rd_ptr(&r);
        const uint8_t *nl = memchr(p, '\n', rd_left(&r));
        size_t n = nl ? (size_t)(nl - p) : rd_left(&r);
        rd_t line;
        lineno++;
        if (!rd_sub(&r, n, &line) || (nl && !rd_skip(&r, 1)))
            break;
        if (n && p[n - 1] == '\r')
            line = rd_make(p, n - 1);       /* CRLF line ends */
        if (memchr(rd_ptr(&line), '\0', rd_left(&line))) {
            lerr(err, errlen, name, lineno, "NUL byte (not a text file?)");
            goto fail;
        }
        label_rule rule;
        int rc = parse_line(line, name, lineno, &rule, err, errlen);
        if (rc < 0)
            goto fail;
        if (rc == 0)
            continue;
        if (l->n == l->cap) {
            if (l->cap >= LABELS_MAX_RULES) {
                rule_free(&rule);
                lerr(err, errlen, name, lineno, "too many rules (at most %d)", LABELS_MAX_RULES);
                goto fail;
            }
            size_t cap = l->cap ? l->cap * 2 : 16;
            label_rule *nr = realloc(l->rules, cap * sizeof(*nr));
            if (!nr) {
                rule_free(&rule);
                lerr(err, errlen, name, lineno, "out of memory");
                goto fail;
            }
            l->rules = nr;
            l->cap = cap;
        }
        l->rules[l->n++] = rule;
    }
    return l;
fail:
    labels_free(l);
    return NULL;
}

labels *
labels_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        lerr(err, errlen, path, 0, "%s", strerror(errno));
        return NULL;
    }
    size_t cap = 64 * 1024, len = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        lerr(err, errlen, path, 0, "out of memory");
        return NULL;
    }
    for (;;) {
        if (len == cap) {
            if (cap >= LABELS_MAX_FILE) {
                lerr(err, errlen, path, 0, "file too large (at most %u bytes)", LABELS_MAX_FILE);
                goto fail;
            }
            cap *= 2;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                lerr(err, errlen, path, 0, "out of memory");
                goto fail;
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) {
                lerr(err, errlen, path, 0, "read error: %s", strerror(errno));
                goto fail;
            }
            break;
        }
    }
    fclose(f);
    labels *l = labels_parse(path, buf, len, err, errlen);
    free(buf);
    return l;
fail:
    fclose(f);
    free(buf);
    return NULL;
}

static int
winner_cmp(const void *a, const void *b)
{
    return strcmp(((const winner *)a)->key, ((const winner *)b)->key);
}

/* 1 if any of the names matches the rule's glob. */
static int
names_match(const char *glob, const char *const *names, int n_names)
{
    for (int i = 0; i < n_names; i++) {
        const char *nm = names[i];
        char buf[512];
        if (!nm || !*nm)
            continue;
        size_t n = strlen(nm);
        if (n > 1 && nm[n - 1] == '.' && n < sizeof(buf)) {
            memcpy(buf, nm, n - 1);
            buf[n - 1] = '\0';
            nm = buf;
        }
        if (fnmatch(glob, nm, FNM_CASEFOLD) == 0)
            return 1;
    }
    return 0;
}

int
labels_match(const labels *l, const uint8_t *addr, int ver,
             const char *const *names, int n_names, labels_fn fn, void *ctx)
{
    winner *w = NULL;
    size_t nw = 0, capw = 0;
    if (!l)
        return 0;
    for (size_t i = 0; i < l->n; i++) {
        const label_rule *r = &l->rules[i];
        unsigned rank;
        if (r->is_name) {
            if (!names_match(r->glob, names, n_names))
                continue;
            rank = 0;
        } else {
            if (!netclass_cidr_match(&r->net, addr, ver))
                continue;
            rank = 1u + r->net.plen;
        }
        for (int k = 0; k < r->n_kv; k++) {
            size_t j;
            for (j = 0; j < nw; j++)
                if (strcmp(w[j].key, r->kv[k].key) == 0)
                    break;
            if (j == nw) {
                if (nw == capw) {
                    size_t cap = capw ? capw * 2 : 8;
                    winner *nwp = realloc(w, cap * sizeof(*nwp));
                    if (!nwp) {
                        free(w);
                        return -1;
                    }
                    w = nwp;
                    capw = cap;
                }
                w[nw].key = r->kv[k].key;
                w[nw].value = r->kv[k].value;
                w[nw].rank = rank;
                w[nw].line = r->line;
                nw++;
            } else if (rank > w[j].rank || (rank == w[j].rank && r->line >= w[j].line)) {
                w[j].value = r->kv[k].value;
                w[j].rank = rank;
                w[j].line = r->line;
            }
        }
    }
    if (nw > 1)
        qsort(w, nw, sizeof(*w), winner_cmp);
    for (size_t j = 0; j < nw; j++)
        fn(w[j].key, w[j].value, ctx);
    free(w);
    return (int)nw;
}
