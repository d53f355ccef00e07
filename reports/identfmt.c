/*
 * identfmt.c - text, CSV and JSON Lines writers of host identities (see identfmt.h).
 */
#include <inttypes.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reports/escape.h"
#include "reports/flowfmt.h"
#include "reports/identfmt.h"

/* A writer. */
struct identfmt {
    FILE *out;                  /* destination */
    identfmt_kind kind;         /* format */
    unsigned long hosts;        /* hosts written */
};

static const char *const csv_cols[] = {
    "addr", "ip_version", "class", "macs", "kind", "value", "first_ts", "last_ts",
    "count", "labels", "country_iso", "country", "city", "asn", "as_org",
};

int
identfmt_parse(const char *name)
{
    if (strcmp(name, "text") == 0) return IDENTFMT_TEXT;
    if (strcmp(name, "csv") == 0) return IDENTFMT_CSV;
    if (strcmp(name, "json") == 0) return IDENTFMT_JSON;
    return -1;
}

identfmt *
identfmt_create(FILE *out, identfmt_kind kind)
{
    identfmt *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->out = out;
    w->kind = kind;
    if (kind == IDENTFMT_CSV) {
        for (size_t i = 0; i < sizeof(csv_cols) / sizeof(csv_cols[0]); i++)
            fprintf(out, "%s%s", i ? "," : "", csv_cols[i]);
        fputc('\n', out);
    }
    return w;
}

void
identfmt_free(identfmt *w)
{
    free(w);
}

static void
mac_str(const uint8_t *m, char buf[18])
{
    snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* "2013-11-04T12:34:56Z" */
static const char *
iso_ts(uint64_t ns, char *buf, size_t len)
{
    time_t t = (time_t)(ns / 1000000000u);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, len, "?");
    return buf;
}

/* ---- UTF-8 for JSON ------------------------------------------------------ */

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 if invalid. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned min;
    if (c >= 0xc2 && c <= 0xdf) { len = 2; min = 0x80; c &= 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { len = 3; min = 0x800; c &= 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { len = 4; min = 0x10000; c &= 0x07; }
    else return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    return len;
}

/*
 * A JSON string of s (len bytes): valid UTF-8 as is, each invalid byte as
 * U+FFFD.  *bad is set when a byte was replaced.
 */
static json_object *
json_str(const char *s, size_t len, int *bad)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    *bad = 0;
    for (; i < len; i += utf8_seq(p + i, len - i))
        if (!utf8_seq(p + i, len - i))
            break;
    if (i == len)
        return json_object_new_string_len(s, (int)len);
    char *buf = malloc(len * 3 + 1);
    if (!buf)
        return NULL;
    size_t o = 0;
    for (i = 0; i < len;) {
        size_t k = utf8_seq(p + i, len - i);
        if (k) {
            memcpy(buf + o, p + i, k);
            o += k;
            i += k;
        } else {
            memcpy(buf + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
        }
    }
    *bad = 1;
    json_object *j = json_object_new_string_len(buf, (int)o);
    free(buf);
    return j;
}

/* Add key: string (UTF-8-safe); with value_hex when bytes were replaced. */
static void
json_add_str(json_object *o, const char *key, const char *s, const char *hexkey)
{
    int bad;
    size_t len = strlen(s);
    json_object_object_add(o, key, json_str(s, len, &bad));
    if (bad && hexkey) {
        static const char hex[] = "0123456789abcdef";
        char *h = malloc(len * 2 + 1);
        if (!h)
            return;
        for (size_t i = 0; i < len; i++) {
            h[2 * i] = hex[(unsigned char)s[i] >> 4];
            h[2 * i + 1] = hex[(unsigned char)s[i] & 15];
        }
        h[2 * len] = '\0';
        json_object_object_add(o, hexkey, json_object_new_string(h));
        free(h);
    }
}

/* ---- writers ------------------------------------------------------------------ */

static void
write_text(identfmt *w, const identfmt_host *h)
{
    const ident_addr *a = h->a;
    char buf[64], t1[32], t2[32];
    FILE *out = w->out;

    if (w->hosts)
        fputc('\n', out);
    fprintf(out, "%s  %s", flowfmt_addr(a->addr, a->ver, buf, sizeof(buf)), h->cls);
    for (int i = 0; i < a->n_mac; i++) {
        mac_str(a->mac[i], buf);
        fprintf(out, "%s%s", i ? "," : "  mac ", buf);
    }
    fputc('\n', out);
    for (uint32_t i = 0; i < a->n_rec; i++) {
        const ident_rec *r = &a->rec[i];
        fprintf(out, "    %-14s ", ident_kind_name(r->kind));
        esc_text(out, r->value);
        fprintf(out, "  (%" PRIu64 "x, %s .. %s)\n", r->count,
                iso_ts(r->first_ns, t1, sizeof(t1)), iso_ts(r->last_ns, t2, sizeof(t2)));
    }
    for (int i = 0; i < h->n_labels; i++) {
        fprintf(out, "    %-14s ", "label");
        esc_text(out, h->labels[i].key);
        fputc('=', out);
        esc_text(out, h->labels[i].value);
        fputc('\n', out);
    }
    if (h->geo) {
        const geo_info *g = h->geo;
        fprintf(out, "    %-14s ", "geo");
        int any = 0;
        if (g->country_iso[0] || g->country[0]) {
            esc_text(out, g->country_iso);
            if (g->country[0]) {
                fputs(g->country_iso[0] ? " " : "", out);
                esc_text(out, g->country);
            }
            any = 1;
        }
        if (g->city[0]) {
            fputs(any ? ", " : "", out);
            esc_text(out, g->city);
            any = 1;
        }
        if (g->asn || g->as_org[0]) {
            fputs(any ? "; " : "", out);
            if (g->asn)
                fprintf(out, "AS%" PRIu32 " ", g->asn);
            esc_text(out, g->as_org);
            any = 1;
        }
        if (!any)
            fputs("(a record without fields)", out);
        fputc('\n', out);
    }
}

static void
csv_row_tail(identfmt *w, const identfmt_host *h)
{
    FILE *out = w->out;
    fputc(',', out);
    if (h->n_labels) {
        /* one cell: key=value;key=value (escaped as a whole) */
        size_t len = 1;
        for (int i = 0; i < h->n_labels; i++)
            len += strlen(h->labels[i].key) + strlen(h->labels[i].value) + 2;
        char *cell = malloc(len);
        if (cell) {
            size_t o = 0;
            for (int i = 0; i < h->n_labels; i++)
                o += (size_t)snprintf(cell + o, len - o, "%s%s=%s", i ? ";" : "",
                                      h->labels[i].key, h->labels[i].value);
            esc_csv(out, cell);
            free(cell);
        }
    }
    const geo_info *g = h->geo;
    fputc(',', out);
    if (g) esc_csv(out, g->country_iso);
    fputc(',', out);
    if (g) esc_csv(out, g->country);
    fputc(',', out);
    if (g) esc_csv(out, g->city);
    fputc(',', out);
    if (g && g->asn) fprintf(out, "%" PRIu32, g->asn);
    fputc(',', out);
    if (g) esc_csv(out, g->as_org);
    fputc('\n', out);
}

static void
write_csv(identfmt *w, const identfmt_host *h)
{
    const ident_addr *a = h->a;
    char addr[64], macs[IDENT_MAX_MAC * 18 + 1], t1[32], t2[32];
    FILE *out = w->out;

    flowfmt_addr(a->addr, a->ver, addr, sizeof(addr));
    macs[0] = '\0';
    for (int i = 0, o = 0; i < a->n_mac; i++) {
        char m[18];
        mac_str(a->mac[i], m);
        o += snprintf(macs + o, sizeof(macs) - (size_t)o, "%s%s", i ? " " : "", m);
    }
    uint32_t n = a->n_rec ? a->n_rec : 1;
    for (uint32_t i = 0; i < n; i++) {
        fprintf(out, "%s,%u,%s,%s,", addr, a->ver, h->cls, macs);
        if (a->n_rec) {
            const ident_rec *r = &a->rec[i];
            fprintf(out, "%s,", ident_kind_name(r->kind));
            esc_csv(out, r->value);
            fprintf(out, ",%s,%s,%" PRIu64, flowfmt_ts(r->first_ns, t1, sizeof(t1)),
                    flowfmt_ts(r->last_ns, t2, sizeof(t2)), r->count);
        } else {
            fputs(",,,,", out);
        }
        csv_row_tail(w, h);
    }
}

static void
write_json(identfmt *w, const identfmt_host *h)
{
    const ident_addr *a = h->a;
    char buf[64];
    json_object *o = json_object_new_object();
    if (!o)
        return;
    json_object_object_add(o, "addr", json_object_new_string(flowfmt_addr(a->addr, a->ver, buf, sizeof(buf))));
    json_object_object_add(o, "ip_version", json_object_new_int(a->ver));
    json_object_object_add(o, "class", json_object_new_string(h->cls));
    json_object_object_add(o, "internal", json_object_new_boolean(h->internal));
    json_object *macs = json_object_new_array();
    for (int i = 0; i < a->n_mac; i++) {
        char m[18];
        mac_str(a->mac[i], m);
        json_object_array_add(macs, json_object_new_string(m));
    }
    json_object_object_add(o, "macs", macs);
    json_object *ids = json_object_new_array();
    for (uint32_t i = 0; i < a->n_rec; i++) {
        const ident_rec *r = &a->rec[i];
        json_object *j = json_object_new_object();
        json_object_object_add(j, "kind", json_object_new_string(ident_kind_name(r->kind)));
        json_add_str(j, "value", r->value, "value_hex");
        json_object_object_add(j, "first_ts", json_object_new_string(flowfmt_ts(r->first_ns, buf, sizeof(buf))));
        json_object_object_add(j, "last_ts", json_object_new_string(flowfmt_ts(r->last_ns, buf, sizeof(buf))));
        json_object_object_add(j, "count", json_object_new_int64((int64_t)r->count));
        json_object_array_add(ids, j);
    }
    json_object_object_add(o, "identities", ids);
    json_object *lab = json_object_new_object();
    for (int i = 0; i < h->n_labels; i++)
        json_add_str(lab, h->labels[i].key, h->labels[i].value, NULL);
    json_object_object_add(o, "labels", lab);
    if (h->geo) {
        const geo_info *g = h->geo;
        json_object *jg = json_object_new_object();
        if (g->country_iso[0]) json_add_str(jg, "country_iso", g->country_iso, NULL);
        if (g->country[0]) json_add_str(jg, "country", g->country, NULL);
        if (g->registered_iso[0]) json_add_str(jg, "registered_country_iso", g->registered_iso, NULL);
        if (g->city[0]) json_add_str(jg, "city", g->city, NULL);
        if (g->asn) json_object_object_add(jg, "asn", json_object_new_int64(g->asn));
        if (g->as_org[0]) json_add_str(jg, "as_org", g->as_org, NULL);
        json_object_object_add(o, "geo", jg);
    } else {
        json_object_object_add(o, "geo", NULL);
    }
    fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), w->out);
    fputc('\n', w->out);
    json_object_put(o);
}

void
identfmt_write(identfmt *w, const identfmt_host *h)
{
    switch (w->kind) {
    case IDENTFMT_TEXT: write_text(w, h); break;
    case IDENTFMT_CSV: write_csv(w, h); break;
    case IDENTFMT_JSON: write_json(w, h); break;
    }
    w->hosts++;
}
